import Foundation

/// One Engine.IO v4 packet. Text packets are a type digit and their data; a binary message has
/// no type on the WebSocket (a binary frame) and is `b` plus base64 in a polling payload.
public enum EngineIOPacket: Sendable, Equatable {
    case open(String)
    case close
    case ping(String)
    case pong(String)
    case message(String)
    case binary([UInt8])
    case upgrade
    case noop

    public struct DecodingError: Error, Equatable, Sendable {
        public let reason: String
    }

    /// Packets of one polling body are separated by the record separator, which cannot occur in
    /// a text packet's UTF-8 nor in base64.
    public static let separator: Character = "\u{1E}"

    /// The text form: a WebSocket text frame, or one element of a polling payload (where binary
    /// goes as base64).
    public var text: String {
        switch self {
        case .open(let handshake): "0" + handshake
        case .close: "1"
        case .ping(let data): "2" + data
        case .pong(let data): "3" + data
        case .message(let data): "4" + data
        case .binary(let bytes): "b" + Data(bytes).base64EncodedString()
        case .upgrade: "5"
        case .noop: "6"
        }
    }

    public static func decode(text: String) throws(DecodingError) -> EngineIOPacket {
        guard let first = text.first else { throw DecodingError(reason: "empty packet") }
        let data = String(text.dropFirst())
        switch first {
        case "0": return .open(data)
        case "1": return .close
        case "2": return .ping(data)
        case "3": return .pong(data)
        case "4": return .message(data)
        case "5": return .upgrade
        case "6": return .noop
        case "b":
            guard let bytes = Data(base64Encoded: data) else { throw DecodingError(reason: "invalid base64") }
            return .binary([UInt8](bytes))
        default: throw DecodingError(reason: "unknown packet type")
        }
    }

    /// A polling body: every packet must be well formed, or none is taken.
    public static func decodePayload(_ body: String) throws(DecodingError) -> [EngineIOPacket] {
        var packets: [EngineIOPacket] = []
        for part in body.split(separator: separator, omittingEmptySubsequences: false) {
            packets.append(try decode(text: String(part)))
        }
        return packets
    }

    public static func encodePayload(_ packets: [EngineIOPacket]) -> String {
        packets.map(\.text).joined(separator: String(separator))
    }
}

/// The handshake of the `open` packet.
public struct EngineIOHandshake: Sendable, Equatable {
    public let sid: String
    public let upgrades: [String]
    public let pingInterval: Int
    public let pingTimeout: Int
    public let maxPayload: Int

    public var json: String {
        JSONCodec.serialize(.object([
            "sid": .string(sid), "upgrades": .array(upgrades.map { .string($0) }),
            "pingInterval": .number(Double(pingInterval)), "pingTimeout": .number(Double(pingTimeout)),
            "maxPayload": .number(Double(maxPayload)),
        ]))
    }
}
