import Foundation

/// NOTIFY payloads: a JSON array of events, split so that no payload passes PostgreSQL's limit.
enum EventCodec {
    static let maxPayloadBytes = 7900

    static func payloads(_ events: [DomainEvent]) -> [String] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        var payloads: [String] = []
        var current: [String] = []
        var size = 2
        for event in events {
            guard let data = try? encoder.encode(event) else { continue }
            let item = String(decoding: data, as: UTF8.self)
            if !current.isEmpty, size + item.utf8.count + 1 > maxPayloadBytes {
                payloads.append("[" + current.joined(separator: ",") + "]")
                current = []
                size = 2
            }
            current.append(item)
            size += item.utf8.count + 1
        }
        if !current.isEmpty { payloads.append("[" + current.joined(separator: ",") + "]") }
        return payloads
    }

    static func decode(_ payload: String) -> [DomainEvent] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return (try? decoder.decode([DomainEvent].self, from: Data(payload.utf8))) ?? []
    }
}
