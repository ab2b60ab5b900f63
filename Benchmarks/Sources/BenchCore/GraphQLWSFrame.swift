import Foundation

/// Frames of graphql-transport-ws (enisdenjo/graphql-ws PROTOCOL.md) as the load generator needs
/// them: it writes a few kinds and classifies what arrives by its `type` alone.
public enum GraphQLWSFrame {
    public enum Kind: String, Sendable, Equatable {
        case connectionAck = "connection_ack"
        case next, error, complete, ping, pong
    }

    public static func connectionInit(token: String) -> String {
        "{\"type\":\"connection_init\",\"payload\":{\"Authorization\":\(json("Bearer " + token))}}"
    }

    /// `variables` is an already encoded JSON object.
    public static func subscribe(id: String, query: String, variables: String = "{}") -> String {
        "{\"id\":\(json(id)),\"type\":\"subscribe\",\"payload\":{\"query\":\(json(query)),\"variables\":\(variables)}}"
    }

    public static let pong = "{\"type\":\"pong\"}"

    /// The frame's `type`, found by scanning for its key; nil when absent or unknown.
    public static func kind(of text: some Collection<UInt8>) -> Kind? {
        guard let value = stringValue(of: "type", in: text) else { return nil }
        return Kind(rawValue: value)
    }

    /// The string value of the first `"key":"value"` pair in the bytes (no escapes inside).
    public static func stringValue(of key: String, in text: some Collection<UInt8>) -> String? {
        let needle = Array("\"\(key)\":".utf8)
        let bytes = Array(text)
        guard bytes.count > needle.count else { return nil }
        var i = 0
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0], Array(bytes[i..<(i + needle.count)]) == needle {
                var j = i + needle.count
                while j < bytes.count, bytes[j] == UInt8(ascii: " ") { j += 1 }
                guard j < bytes.count, bytes[j] == UInt8(ascii: "\"") else { return nil }
                j += 1
                let start = j
                while j < bytes.count, bytes[j] != UInt8(ascii: "\"") {
                    if bytes[j] == UInt8(ascii: "\\") { return nil }
                    j += 1
                }
                guard j < bytes.count else { return nil }
                return String(decoding: bytes[start..<j], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }

    public static func json(_ string: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [string], options: [.withoutEscapingSlashes])
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}
