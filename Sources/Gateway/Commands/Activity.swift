import ArgumentParser
import Foundation
import Resolvers

/// `messagerie activity`: the activity log for operators at the server's console.
struct Activity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the activity log (sign-ins, group and role changes, deletions, key rotations), newest first.")

    @Option(help: "Only entries at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or an age such as 90m, 24h, 7d.")
    var since: String?
    @Option(help: "Only entries where this person (phone number or user id) is the actor or the target.") var user: String?
    @Option(help: "Only entries of this kind (\(ActivityKind.allCases.map(\.rawValue).joined(separator: ", "))).") var kind: String?
    @Option(help: "At most this many entries.") var limit = 100
    @Option(help: "json (one object per line) or table.") var format: ActivityFormat = .table
    @Option(help: "Path of the .env file to read.") var envFile = ".env"

    func validate() throws {
        if let since, ActivityTime.parse(since, now: Date()) == nil {
            throw ValidationError("--since must be an RFC 3339 time or an age such as 90m, 24h, 7d")
        }
        if let kind, ActivityKind(rawValue: kind) == nil { throw ValidationError("--kind: unknown kind \(kind)") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        var settings = try Startup.settings(dotEnv: envFile)
        let logger = Startup.logger(settings)
        let (since, user, kind, limit, format) = (since.flatMap { ActivityTime.parse($0, now: Date()) }, user, kind, limit, format)
        do {
            try Assembly.fillEmbeddedSecrets(&settings, logger: logger)
            let settings = settings
            try await OneOffDatabase.with(settings, logger: logger) { db, _ in
                let users = UserService(db: db, logger: logger)
                var filter = ActivityFilter(kind: kind, since: since)
                if let user { filter.userId = try await Self.resolve(user, users: users, settings: settings) }
                let reader = ActivityReader(db: db, logger: logger)
                var printed = 0
                var cursor: String?
                if format == .table { print(ActivityFormat.tableHeader) }
                while printed < limit {
                    let page = try await reader.entries(filter, first: min(100, limit - printed), after: cursor)
                    for entry in page.items.map(\.item) { print(format.render(entry)) }
                    printed += page.items.count
                    guard page.hasNextPage, let last = page.items.last else { break }
                    cursor = last.cursor
                }
            }
        } catch {
            throw Startup.fail(error)
        }
    }

    static func resolve(_ text: String, users: UserService, settings: Settings) async throws -> UUID {
        if let id = UUID(uuidString: text) { return id }
        let phone = try PhoneNumber(parsing: text, defaultCountryCallingCode: settings.auth.defaultCountryCallingCode)
        guard let user = try await users.user(phone: phone) else { throw DomainError.notFound("No account with the phone number \(phone)") }
        return user.id
    }
}

enum ActivityFormat: String, ExpressibleByArgument, Sendable {
    case json, table

    static let tableHeader = ["TIME", "KIND", "ACTOR", "TARGET", "CONVERSATION", "DETAILS"].joined(separator: "\t")

    func render(_ entry: ActivityEntry) -> String {
        let at = entry.at.formatted(.iso8601)
        switch self {
        case .table:
            return [at, entry.kind, entry.actorId.map(Self.id) ?? "-", entry.targetUserId.map(Self.id) ?? "-",
                    entry.conversationId.map(Self.id) ?? "-", entry.details].joined(separator: "\t")
        case .json:
            var object: [String: Any] = ["id": entry.id, "at": at, "kind": entry.kind]
            object["actorId"] = entry.actorId.map(Self.id)
            object["targetUserId"] = entry.targetUserId.map(Self.id)
            object["conversationId"] = entry.conversationId.map(Self.id)
            object["details"] = (try? JSONSerialization.jsonObject(with: Data(entry.details.utf8))) ?? entry.details
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    static func id(_ value: UUID) -> String { value.uuidString.lowercased() }
}

/// `--since` accepts a point in time or an age counted back from now.
enum ActivityTime {
    static func parse(_ text: String, now: Date) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        guard let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = amount
        case "m": seconds = amount * 60
        case "h": seconds = amount * 3600
        case "d": seconds = amount * 86400
        default: return nil
        }
        return now.addingTimeInterval(-seconds)
    }
}
