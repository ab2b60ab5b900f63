import Foundation
import GraphQL

/// The two GraphQL-over-WebSocket subprotocols, chosen from the client's `Sec-WebSocket-Protocol`.
enum GraphQLWSSubprotocol: String, CaseIterable, Sendable {
    /// The graphql-ws library's protocol (PROTOCOL.md of enisdenjo/graphql-ws).
    case transport = "graphql-transport-ws"
    /// subscriptions-transport-ws, still spoken by older Apollo clients.
    case legacy = "graphql-ws"

    /// The first offered subprotocol this server speaks, in the client's order of preference.
    /// `offers` are the header values as sent (one comma-separated list per header line).
    static func negotiate(_ offers: [String]) -> GraphQLWSSubprotocol? {
        for offer in offers.flatMap({ $0.split(separator: ",") }) {
            if let known = Self(rawValue: offer.trimmingCharacters(in: .whitespaces)) { return known }
        }
        return nil
    }
}

/// A GraphQL operation as a client sends it over the socket.
struct WSOperationRequest: Equatable, Sendable {
    var query: String
    var operationName: String?
    var variables: [String: Map]
}

/// What a client says, whichever subprotocol it speaks.
enum WSClientFrame: Equatable, Sendable {
    case connectionInit(payload: [String: Map])
    case ping(payload: Map?)
    case pong
    /// `subscribe` (graphql-transport-ws) or `start` (legacy): any operation, not only subscriptions.
    case subscribe(id: String, WSOperationRequest)
    /// `complete` (graphql-transport-ws) or `stop` (legacy): the client no longer wants this operation.
    case complete(id: String)
    /// Legacy `connection_terminate`.
    case terminate
}

/// What the server says, whichever subprotocol it speaks; a codec leaves out what its
/// subprotocol lacks (`ka` in graphql-transport-ws, `ping` in the legacy one).
enum WSServerFrame: Sendable {
    case connectionAck
    /// Legacy only: the connection was refused (graphql-transport-ws closes with a code instead).
    case connectionError(message: String)
    case ping
    case pong(payload: Map?)
    /// Legacy keep-alive (`ka`).
    case keepAlive
    /// `payload` is the encoded result: one encoding may serve many subscribers.
    case next(id: String, payload: String)
    case error(id: String, [GraphQLError])
    case complete(id: String)
}

/// WebSocket close codes: graphql-ws's own and the RFC 6455 ones this server uses.
struct WSCloseCode: Equatable, Sendable, CustomStringConvertible {
    let rawValue: UInt16

    static let normal = WSCloseCode(rawValue: 1000)
    /// RFC 6455 "going away": the client stopped answering the keep-alive `ping`.
    static let goingAway = WSCloseCode(rawValue: 1001)
    /// RFC 6455 "message too big".
    static let messageTooBig = WSCloseCode(rawValue: 1009)
    /// RFC 6455 "policy violation": more connections than a user may hold.
    static let policyViolation = WSCloseCode(rawValue: 1008)
    /// RFC 6455 "try again later": a consumer that fell too far behind; it reconnects and catches up
    /// with `after`. Not fatal for graphql-ws clients, which reconnect by themselves.
    static let tryAgainLater = WSCloseCode(rawValue: 1013)
    /// RFC 6455 "service restart": this gateway is stopping; reconnect (to another one) and catch up.
    static let serviceRestart = WSCloseCode(rawValue: 1012)
    static let badRequest = WSCloseCode(rawValue: 4400)
    static let unauthorized = WSCloseCode(rawValue: 4401)
    static let forbidden = WSCloseCode(rawValue: 4403)
    static let subprotocolNotAcceptable = WSCloseCode(rawValue: 4406)
    static let initTimeout = WSCloseCode(rawValue: 4408)
    static let subscriberExists = WSCloseCode(rawValue: 4409)
    static let tooManyInit = WSCloseCode(rawValue: 4429)
    static let internalError = WSCloseCode(rawValue: 4500)

    var description: String { String(rawValue) }
}

/// A message that breaks the protocol; the connection is closed with `code` and `reason`.
struct WSProtocolViolation: Error, Equatable, Sendable {
    let code: WSCloseCode
    let reason: String

    static func badRequest(_ reason: String) -> WSProtocolViolation { .init(code: .badRequest, reason: reason) }
}

/// Encodes and decodes one subprotocol's messages; pure values, no sockets.
protocol GraphQLWSCodec: Sendable {
    func decode(_ text: String) throws(WSProtocolViolation) -> WSClientFrame
    /// Nil when the subprotocol has no such message.
    func encode(_ frame: WSServerFrame) -> String?
}

extension GraphQLWSSubprotocol {
    var codec: any GraphQLWSCodec {
        switch self {
        case .transport: TransportWSCodec()
        case .legacy: LegacyWSCodec()
        }
    }
}

/// Helpers shared by both codecs.
enum WSJSON {
    /// The fields of a JSON object message; anything else is a protocol violation.
    static func object(_ text: String) throws(WSProtocolViolation) -> [String: Map] {
        let map: Map
        do {
            map = try JSONDecoder().decode(Map.self, from: Data(text.utf8))
        } catch {
            throw .badRequest("Invalid message received: not JSON")
        }
        guard case .dictionary(let fields) = map else { throw .badRequest("Invalid message received: not a JSON object") }
        return Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    static func string(_ fields: [String: Map], _ key: String, type: String) throws(WSProtocolViolation) -> String {
        guard case .string(let value)? = fields[key], !value.isEmpty else {
            throw .badRequest("Invalid message received: \"\(type)\" needs a non-empty string \"\(key)\"")
        }
        return value
    }

    /// An optional object payload: absent and null are empty.
    static func objectPayload(_ fields: [String: Map], type: String) throws(WSProtocolViolation) -> [String: Map] {
        switch fields["payload"] {
        case nil, .null?, .undefined?: return [:]
        case .dictionary(let values)?: return Dictionary(values.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        default: throw .badRequest("Invalid message received: the payload of \"\(type)\" must be an object")
        }
    }

    static func operation(_ fields: [String: Map], type: String) throws(WSProtocolViolation) -> WSOperationRequest {
        guard case .dictionary(let payload)? = fields["payload"] else {
            throw .badRequest("Invalid message received: \"\(type)\" needs a payload object")
        }
        guard case .string(let query)? = payload["query"], !query.isEmpty else {
            throw .badRequest("Invalid message received: the payload of \"\(type)\" needs a query string")
        }
        var operationName: String?
        switch payload["operationName"] {
        case nil, .null?, .undefined?: break
        case .string(let name)?: operationName = name
        default: throw .badRequest("Invalid message received: operationName must be a string")
        }
        var variables: [String: Map] = [:]
        switch payload["variables"] {
        case nil, .null?, .undefined?: break
        case .dictionary(let values)?: variables = Dictionary(values.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        default: throw .badRequest("Invalid message received: variables must be an object")
        }
        return WSOperationRequest(query: query, operationName: operationName, variables: variables)
    }

    /// `{"type":…,"id":…,"payload":…}` with the payload already encoded.
    static func message(type: String, id: String? = nil, payload: String? = nil) -> String {
        var text = "{\"type\":" + quoted(type)
        if let id { text += ",\"id\":" + quoted(id) }
        if let payload { text += ",\"payload\":" + payload }
        return text + "}"
    }

    static func quoted(_ string: String) -> String {
        var out = ""
        ResultJSON.quote(string, to: &out)
        return out
    }

    static func encode(_ result: GraphQLResult) -> String {
        ResultJSON.encode(result)
    }

    static func encode(_ errors: [GraphQLError]) -> String {
        (try? String(decoding: GraphQLJSONEncoder().encode(errors), as: UTF8.self)) ?? #"[{"message":"Internal server error"}]"#
    }

    static func encode(_ map: Map) -> String {
        (try? String(decoding: GraphQLJSONEncoder().encode(map), as: UTF8.self)) ?? "null"
    }
}
