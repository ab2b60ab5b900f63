import Foundation
import GraphQL

/// `graphql-transport-ws`, as PROTOCOL.md of enisdenjo/graphql-ws defines it. An unknown type or
/// a malformed message is a violation: the connection closes with 4400.
struct TransportWSCodec: GraphQLWSCodec {
    func decode(_ text: String) throws(WSProtocolViolation) -> WSClientFrame {
        let fields = try WSJSON.object(text)
        guard case .string(let type)? = fields["type"] else {
            throw .badRequest("Invalid message received: missing \"type\"")
        }
        switch type {
        case "connection_init":
            return .connectionInit(payload: try WSJSON.objectPayload(fields, type: type))
        case "ping":
            return .ping(payload: fields["payload"].flatMap { $0 == .null ? nil : $0 })
        case "pong":
            return .pong
        case "subscribe":
            return .subscribe(id: try WSJSON.string(fields, "id", type: type), try WSJSON.operation(fields, type: type))
        case "complete":
            return .complete(id: try WSJSON.string(fields, "id", type: type))
        default:
            throw .badRequest("Invalid message received: unknown type \"\(type)\"")
        }
    }

    func encode(_ frame: WSServerFrame) -> String? {
        switch frame {
        case .connectionAck: WSJSON.message(type: "connection_ack")
        case .connectionError, .keepAlive: nil
        case .ping: WSJSON.message(type: "ping")
        case .pong(let payload): WSJSON.message(type: "pong", payload: payload.map(WSJSON.encode))
        case .next(let id, let payload): WSJSON.message(type: "next", id: id, payload: payload)
        case .error(let id, let errors): WSJSON.message(type: "error", id: id, payload: WSJSON.encode(errors))
        case .complete(let id): WSJSON.message(type: "complete", id: id)
        }
    }
}
