import Foundation
import Hummingbird
import Resolvers

/// `/api/conversations` (the viewer's list, newest activity first) and `/api/devices` (push).
extension RestAPI {
    private struct ConversationList: Encodable {
        let conversations: [RestConversation]
        let nextCursor: String?
    }

    private struct DeviceBody: Decodable {
        let token: String
        let platform: String
    }

    private struct DeviceResult: Encodable {
        struct Device: Encodable {
            let token: String
            let platform: String
            let userId: String
            let createdAt: Date
            let updatedAt: Date
        }
        let device: Device
    }

    var conversationRoutes: [Route] {
        [
            Route(method: .get, path: "/api/conversations") { request, _ in
                let viewer = try await self.viewer(request)
                try await self.noBody(request)
                let query = RestQuery(request)
                let page = try await self.services.conversations.list(viewer: viewer, first: try query.limit(), after: query.string("cursor"))
                let conversations = try await self.presenter.conversations(page.items.map(\.item), viewer: viewer)
                return RestJSON.response(ConversationList(
                    conversations: conversations, nextCursor: page.hasNextPage ? page.items.last?.cursor : nil))
            },
        ]
    }

    var deviceRoutes: [Route] {
        [
            Route(method: .post, path: "/api/devices") { request, _ in
                let viewer = try await self.viewer(request)
                let body = try await self.body(DeviceBody.self, request)
                guard let platform = PushPlatform(rawValue: body.platform.uppercased()) else {
                    throw RestFailure.badRequest("platform must be fcm or expo", field: "platform")
                }
                let device = try await self.services.devices.register(token: body.token, platform: platform, viewer: viewer)
                return RestJSON.response(DeviceResult(device: .init(
                    token: device.token, platform: device.platform.rawValue, userId: device.userId.rest,
                    createdAt: device.createdAt, updatedAt: device.updatedAt)), status: .created)
            },
            Route(method: .delete, path: "/api/devices/:token") { request, context in
                let viewer = try await self.viewer(request)
                try await self.noBody(request)
                guard let token = context.parameters.get("token")?.removingPercentEncoding else {
                    throw RestFailure.badRequest("token is required", field: "token")
                }
                guard try await self.services.devices.unregister(token: token, viewer: viewer) else {
                    throw RestFailure(.notFound, "NOT_FOUND", "No such device of yours")
                }
                return Response(status: .noContent)
            },
        ]
    }
}
