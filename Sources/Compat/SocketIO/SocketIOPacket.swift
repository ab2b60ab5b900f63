/// One Socket.IO v5 packet: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`. Binary
/// values travel after the text as separate Engine.IO binary messages, the text holding
/// `{"_placeholder":true,"num":N}` in their place.
public struct SocketIOPacket: Sendable, Equatable {
    public enum Kind: Int, Sendable {
        case connect = 0, disconnect, event, ack, connectError, binaryEvent, binaryAck
    }

    public var kind: Kind
    public var namespace: String
    public var ackId: Int?
    public var data: JSONValue?

    public init(_ kind: Kind, namespace: String = "/", ackId: Int? = nil, data: JSONValue? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.ackId = ackId
        self.data = data
    }

    public struct DecodingError: Error, Equatable, Sendable {
        public let reason: String
    }

    /// More attachments than this in one packet is refused: each is held until the last arrives.
    public static let maxAttachments = 64
    /// Ack ids above this are refused (the reference's counter never gets near it).
    static let maxAckId = 1 << 52

    // MARK: Encoding

    /// The text and the binary attachments, in sending order. Events and acks carrying binary
    /// become BINARY_EVENT / BINARY_ACK.
    public func encode() -> (text: String, attachments: [[UInt8]]) {
        var attachments: [[UInt8]] = []
        let payload = data.map { Self.deconstruct($0, into: &attachments) }
        var kind = self.kind
        if !attachments.isEmpty {
            if kind == .event { kind = .binaryEvent }
            if kind == .ack { kind = .binaryAck }
        }
        var text = String(kind.rawValue)
        if kind == .binaryEvent || kind == .binaryAck { text += "\(attachments.count)-" }
        if namespace != "/" { text += namespace + "," }
        if let ackId { text += String(ackId) }
        if let payload { text += JSONCodec.serialize(payload) }
        return (text, attachments)
    }

    private static func deconstruct(_ value: JSONValue, into attachments: inout [[UInt8]]) -> JSONValue {
        switch value {
        case .binary(let bytes):
            attachments.append(bytes)
            return .object(["_placeholder": true, "num": .number(Double(attachments.count - 1))])
        case .array(let items):
            return .array(items.map { deconstruct($0, into: &attachments) })
        case .object(let members):
            return .object(members.map { JSONMember($0.key, deconstruct($0.value, into: &attachments)) })
        default:
            return value
        }
    }

    // MARK: Decoding

    /// The text part; `attachments` says how many binary messages must follow.
    public static func decode(text: String) throws(DecodingError) -> (packet: SocketIOPacket, attachments: Int) {
        let chars = Array(text.utf8)
        var index = 0
        guard let first = chars.first, let kind = Kind(rawValue: Int(first) - 48) else { throw DecodingError(reason: "unknown packet type") }
        index = 1
        var attachments = 0
        if kind == .binaryEvent || kind == .binaryAck {
            let start = index
            while index < chars.count, chars[index] != UInt8(ascii: "-") { index += 1 }
            guard index < chars.count, index > start, index - start <= 3,
                  let count = Int(String(decoding: chars[start..<index], as: UTF8.self)), count >= 0
            else { throw DecodingError(reason: "illegal attachments") }
            guard count <= maxAttachments else { throw DecodingError(reason: "too many attachments") }
            attachments = count
            index += 1
        }
        var namespace = "/"
        if index < chars.count, chars[index] == UInt8(ascii: "/") {
            let start = index
            while index < chars.count, chars[index] != UInt8(ascii: ",") { index += 1 }
            namespace = String(decoding: chars[start..<index], as: UTF8.self)
            if index < chars.count { index += 1 }
        }
        var ackId: Int?
        let idStart = index
        while index < chars.count, chars[index] >= UInt8(ascii: "0"), chars[index] <= UInt8(ascii: "9") { index += 1 }
        if index > idStart {
            guard index - idStart <= 15, let id = Int(String(decoding: chars[idStart..<index], as: UTF8.self)) else {
                throw DecodingError(reason: "invalid ack id")
            }
            ackId = id
        }
        var data: JSONValue?
        if index < chars.count {
            do {
                data = try JSONCodec.parse(String(decoding: chars[index...], as: UTF8.self))
            } catch {
                throw DecodingError(reason: "invalid payload")
            }
        }
        let packet = SocketIOPacket(kind, namespace: namespace, ackId: ackId, data: data)
        guard packet.isPayloadValid else { throw DecodingError(reason: "invalid payload") }
        return (packet, attachments)
    }

    /// What each kind may carry, as the reference parser checks it.
    var isPayloadValid: Bool {
        switch kind {
        case .connect:
            return data == nil || data!.isObject
        case .disconnect:
            return data == nil
        case .connectError:
            return data?.isObject == true || data?.stringValue != nil
        case .event, .binaryEvent:
            guard let items = data?.arrayValue, let name = items.first else { return false }
            return name.stringValue != nil
        case .ack, .binaryAck:
            return data?.arrayValue != nil && ackId != nil
        }
    }

    /// Puts the attachments in place of their placeholders; a placeholder pointing nowhere is an error.
    public func reconstructed(with attachments: [[UInt8]]) throws(DecodingError) -> SocketIOPacket {
        var copy = self
        if let data { copy.data = try Self.reconstruct(data, attachments) }
        if copy.kind == .binaryEvent { copy.kind = .event }
        if copy.kind == .binaryAck { copy.kind = .ack }
        return copy
    }

    private static func reconstruct(_ value: JSONValue, _ attachments: [[UInt8]]) throws(DecodingError) -> JSONValue {
        switch value {
        case .object(let members):
            if value["_placeholder"] == .bool(true) {
                guard case .number(let num) = value["num"], num >= 0, num == num.rounded(), Int(num) < attachments.count else {
                    throw DecodingError(reason: "illegal attachment")
                }
                return .binary(attachments[Int(num)])
            }
            var rebuilt: [JSONMember] = []
            for member in members { rebuilt.append(JSONMember(member.key, try reconstruct(member.value, attachments))) }
            return .object(rebuilt)
        case .array(let items):
            var rebuilt: [JSONValue] = []
            for item in items { rebuilt.append(try reconstruct(item, attachments)) }
            return .array(rebuilt)
        default:
            return value
        }
    }
}

/// Reassembles packets from Engine.IO messages: a binary packet's text, then exactly as many
/// binary messages as it announced. Anything out of that order is a protocol error.
public struct SocketIODecoder: Sendable {
    private var pending: SocketIOPacket?
    private var expected = 0
    private var buffers: [[UInt8]] = []

    public init() {}

    public var isAwaitingAttachments: Bool { pending != nil }

    public mutating func receive(text: String) throws(SocketIOPacket.DecodingError) -> SocketIOPacket? {
        guard pending == nil else { throw .init(reason: "text received while awaiting attachments") }
        let (packet, attachments) = try SocketIOPacket.decode(text: text)
        if attachments == 0 { return try packet.reconstructed(with: []) }
        pending = packet
        expected = attachments
        buffers = []
        return nil
    }

    public mutating func receive(binary: [UInt8]) throws(SocketIOPacket.DecodingError) -> SocketIOPacket? {
        guard let packet = pending else { throw .init(reason: "unexpected binary message") }
        buffers.append(binary)
        guard buffers.count == expected else { return nil }
        pending = nil
        defer { buffers = [] }
        return try packet.reconstructed(with: buffers)
    }
}
