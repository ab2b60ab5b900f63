import Foundation
import Hummingbird
import Resolvers

/// `/api/messages/*`: sending, a conversation between two people, reactions, reading, search
/// and the date filter.
extension RestAPI {
    private struct SendBody: Decodable {
        let receiverId: UUID?
        let conversationId: UUID?
        let content: String?
        let attachmentIds: [UUID]?
        let replyToId: UUID?
        let clientMessageId: String?
    }

    private struct ReactionBody: Decodable {
        let messageId: UUID
        let emoji: String
    }

    private struct ReadBody: Decodable {
        let messageId: UUID
    }

    private struct ReadResult: Encodable {
        let conversationId: String
        let messageId: String
        let read: Int
    }

    var messageRoutes: [Route] {
        [
            Route(method: .post, path: "/api/messages/send") { request, _ in
                let viewer = try await self.viewer(request)
                let body = try await self.body(SendBody.self, request)
                let message = try await self.renamingFields(PayloadNames.sendMessage) {
                    try await self.services.messages.send(
                    SendMessageInput(
                        conversationId: body.conversationId, recipientId: body.receiverId, text: body.content,
                        attachmentIds: body.attachmentIds ?? [], replyToId: body.replyToId, clientMessageId: body.clientMessageId),
                    viewer: viewer)
                }
                return RestJSON.response(RestOneMessage(message: try await self.presenter.message(message, viewer: viewer)), status: .created)
            },
            Route(method: .get, path: "/api/messages/conversation/:userId1/:userId2") { request, context in
                let viewer = try await self.viewer(request)
                try await self.noBody(request)
                let a = try context.parameters.uuid("userId1")
                let b = try context.parameters.uuid("userId2")
                guard viewer.userId == a || viewer.userId == b else {
                    throw RestFailure(.forbidden, "FORBIDDEN", "You can only read conversations you are part of")
                }
                let query = RestQuery(request)
                let limit = try query.limit()
                let before = query.string("before")
                guard a != b, let conversationId = try await self.services.conversations.existingDirectConversation(between: a, and: b)
                else { return RestJSON.response(RestMessages(messages: [], nextCursor: nil)) }
                let page = try await self.services.messages.page(
                    conversationId: conversationId, request: PageRequest(last: limit, before: before), viewer: viewer)
                return try await self.list(page, viewer: viewer, next: page.hasPreviousPage ? page.items.first?.cursor : nil)
            },
            Route(method: .post, path: "/api/messages/react") { request, _ in
                let viewer = try await self.viewer(request)
                let body = try await self.body(ReactionBody.self, request)
                let message = try await self.services.reactions.add(messageId: body.messageId, emoji: body.emoji, viewer: viewer)
                return RestJSON.response(RestOneMessage(message: try await self.presenter.message(message, viewer: viewer)))
            },
            Route(method: .post, path: "/api/messages/unreact") { request, _ in
                let viewer = try await self.viewer(request)
                let body = try await self.body(ReactionBody.self, request)
                let message = try await self.services.reactions.remove(messageId: body.messageId, emoji: body.emoji, viewer: viewer)
                return RestJSON.response(RestOneMessage(message: try await self.presenter.message(message, viewer: viewer)))
            },
            Route(method: .post, path: "/api/messages/read") { request, _ in
                let viewer = try await self.viewer(request)
                let body = try await self.body(ReadBody.self, request)
                let message = try await self.services.messages.message(id: body.messageId, viewer: viewer)
                let count = try await self.services.receipts.markRead(
                    conversationId: message.conversationId, upToMessageId: message.id, viewer: viewer)
                return RestJSON.response(ReadResult(conversationId: message.conversationId.rest, messageId: message.id.rest, read: count))
            },
            Route(method: .get, path: "/api/messages/search") { request, _ in
                let viewer = try await self.viewer(request)
                try await self.noBody(request)
                let query = RestQuery(request)
                let filter = MessageSearch(
                    text: query.string("term"), senderId: try query.uuid("senderId"), recipientId: try query.uuid("receiverId"),
                    conversationId: try query.uuid("conversationId"))
                guard filter.text != nil || filter.senderId != nil || filter.recipientId != nil || filter.conversationId != nil else {
                    throw RestFailure.badRequest("Give term, senderId or receiverId", field: "term")
                }
                return try await self.search(filter, query: query, viewer: viewer)
            },
            Route(method: .get, path: "/api/messages/filter") { request, _ in
                let viewer = try await self.viewer(request)
                try await self.noBody(request)
                let query = RestQuery(request)
                let filter = MessageSearch(
                    conversationId: try query.uuid("conversationId"),
                    from: try query.date("startDate"), to: try query.date("endDate", endOfDay: true))
                guard filter.from != nil || filter.to != nil else {
                    throw RestFailure.badRequest("Give startDate, endDate or both", field: "startDate")
                }
                return try await self.search(filter, query: query, viewer: viewer)
            },
        ]
    }

    private func search(_ filter: MessageSearch, query: RestQuery, viewer: Viewer) async throws -> Response {
        let page = try await renamingFields(["text": "term", "recipientId": "receiverId", "from": "startDate", "to": "endDate", "after": "cursor"]) {
            try await services.search.search(filter, first: try query.limit(), after: query.string("cursor"), viewer: viewer)
        }
        return try await list(page, viewer: viewer, next: page.hasNextPage ? page.items.last?.cursor : nil)
    }

    func list(_ page: Page<Message>, viewer: Viewer, next: String?) async throws -> Response {
        let messages = try await presenter.messages(page.items.map(\.item), viewer: viewer)
        return RestJSON.response(RestMessages(messages: messages, nextCursor: next))
    }
}
