import Foundation
import Graphiti
import Resolvers

struct ActivityLogFilterInput: Codable, Sendable {
    let userId: UUID?
    let kind: String?
    let since: Date?
    let until: Date?
}

extension RootResolver {
    struct ActivityLogArguments: Codable {
        let filter: ActivityLogFilterInput?
        let first: Int?
        let after: String?
    }

    func activityLog(context: OperationContext, arguments: ActivityLogArguments) async throws -> ActivityConnection {
        let filter = ActivityFilter(
            userId: arguments.filter?.userId, kind: arguments.filter?.kind, since: arguments.filter?.since, until: arguments.filter?.until)
        let page = try await context.services.activity.operatorView(
            viewer: context.requireViewer(), filter: filter, first: arguments.first, after: arguments.after)
        await context.loaders.users.know(page.items.flatMap { [$0.item.actorId, $0.item.targetUserId].compactMap { $0 } })
        return ActivityConnection(edges: page.items.map { ActivityEdge(cursor: $0.cursor, node: $0.item) }, pageInfo: page.pageInfo)
    }
}

extension ActivityEntry {
    func actor(context: OperationContext, arguments: NoArguments) async throws -> User? {
        guard let actorId else { return nil }
        return try await context.loaders.users.get(actorId)
    }
}
