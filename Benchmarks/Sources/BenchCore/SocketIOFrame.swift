/// Engine.IO v4 packets carried one per WebSocket text frame, and the Socket.IO v5 packets inside
/// Engine.IO `message` packets (socketio/engine.io-protocol, socketio/socket.io-protocol).
public enum EngineIOFrame: Equatable, Sendable {
    case open(String)
    case close
    case ping(String)
    case pong(String)
    case message(SocketIOFrame)
    case upgrade, noop

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func parse(_ text: String) throws -> EngineIOFrame {
        guard let first = text.first else { throw Problem(description: "empty Engine.IO packet") }
        let rest = String(text.dropFirst())
        switch first {
        case "0": return .open(rest)
        case "1": return .close
        case "2": return .ping(rest)
        case "3": return .pong(rest)
        case "4": return .message(try SocketIOFrame.parse(rest))
        case "5": return .upgrade
        case "6": return .noop
        default: throw Problem(description: "unknown Engine.IO packet type '\(first)'")
        }
    }

    public var encoded: String {
        switch self {
        case .open(let data): "0" + data
        case .close: "1"
        case .ping(let data): "2" + data
        case .pong(let data): "3" + data
        case .message(let packet): "4" + packet.encoded
        case .upgrade: "5"
        case .noop: "6"
        }
    }
}

public struct SocketIOFrame: Equatable, Sendable {
    public enum PacketType: Character, Sendable {
        case connect = "0", disconnect = "1", event = "2", ack = "3", connectError = "4"
    }

    public var type: PacketType
    public var namespace: String = "/"
    public var ackId: Int?
    /// The JSON that follows (object for CONNECT, array for EVENT and ACK), as received.
    public var json: String

    public init(type: PacketType, namespace: String = "/", ackId: Int? = nil, json: String = "") {
        self.type = type
        self.namespace = namespace
        self.ackId = ackId
        self.json = json
    }

    public static func parse(_ text: String) throws -> SocketIOFrame {
        var rest = Substring(text)
        if rest.first == "5" || rest.first == "6" {
            throw EngineIOFrame.Problem(description: "binary Socket.IO packets are not used by the benchmarks")
        }
        guard let c = rest.first, let type = PacketType(rawValue: c) else {
            throw EngineIOFrame.Problem(description: "unknown Socket.IO packet type in '\(text.prefix(20))'")
        }
        rest = rest.dropFirst()
        var namespace = "/"
        if rest.first == "/" {
            guard let comma = rest.firstIndex(of: ",") else { throw EngineIOFrame.Problem(description: "namespace without ','") }
            namespace = String(rest[..<comma])
            rest = rest[rest.index(after: comma)...]
        }
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        var ackId: Int?
        if !digits.isEmpty {
            guard let id = Int(digits) else { throw EngineIOFrame.Problem(description: "ack id too large") }
            ackId = id
            rest = rest.dropFirst(digits.count)
        }
        return SocketIOFrame(type: type, namespace: namespace, ackId: ackId, json: String(rest))
    }

    public var encoded: String {
        var out = String(type.rawValue)
        if namespace != "/" { out += namespace + "," }
        if let ackId { out += String(ackId) }
        return out + json
    }

    /// The event name of an EVENT packet: the first string of its array.
    public var eventName: String? {
        guard type == .event else { return nil }
        let bytes = Array(json.utf8)
        guard bytes.first == UInt8(ascii: "["), bytes.count > 2, bytes[1] == UInt8(ascii: "\"") else { return nil }
        guard let end = bytes[2...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: bytes[2..<end], as: UTF8.self)
    }
}
