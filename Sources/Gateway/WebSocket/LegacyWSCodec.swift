import Foundation
import GraphQL

/// The legacy `graphql-ws` subprotocol of subscriptions-transport-ws: `start`/`stop` instead of
/// `subscribe`/`complete`, `data` instead of `next`, a one-way `ka` keep-alive, and an `error`
/// whose payload is one error object.
struct LegacyWSCodec: GraphQLWSCodec {
    func decode(_ text: String) throws(WSProtocolViolation) -> WSClientFrame {
        let fields = try WSJSON.object(text)
        guard case .string(let type)? = fields["type"] else {
            throw .badRequest("Invalid message received: missing \"type\"")
        }
        switch type {
        case "connection_init":
            return .connectionInit(payload: try WSJSON.objectPayload(fields, type: type))
        case "start":
            return .subscribe(id: try WSJSON.string(fields, "id", type: type), try WSJSON.operation(fields, type: type))
        case "stop":
            return .complete(id: try WSJSON.string(fields, "id", type: type))
        case "connection_terminate":
            return .terminate
        default:
            throw .badRequest("Invalid message received: unknown type \"\(type)\"")
        }
    }

    func encode(_ frame: WSServerFrame) -> String? {
        switch frame {
        case .connectionAck: WSJSON.message(type: "connection_ack")
        case .connectionError(let message):
            WSJSON.message(type: "connection_error", payload: "{\"message\":" + WSJSON.quoted(message) + "}")
        case .keepAlive: WSJSON.message(type: "ka")
        case .ping, .pong: nil
        case .next(let id, let payload): WSJSON.message(type: "data", id: id, payload: payload)
        case .error(let id, let errors):
            // One error object; the first says why, the rest would be repeats of the same refusal.
            WSJSON.message(type: "error", id: id, payload: Self.firstError(errors))
        case .complete(let id): WSJSON.message(type: "complete", id: id)
        }
    }

    private static func firstError(_ errors: [GraphQLError]) -> String {
        let list = WSJSON.encode(errors)
        guard let data = list.data(using: .utf8), let array = try? JSONDecoder().decode([Map].self, from: data), let first = array.first
        else { return #"{"message":"Internal server error"}"# }
        return WSJSON.encode(first)
    }
}
