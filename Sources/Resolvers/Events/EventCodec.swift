import Foundation

/// NOTIFY payloads: a JSON array of events, split so that no payload passes PostgreSQL's limit.
enum EventCodec {
    static let maxPayloadBytes = 7900

    /// Most ids one event carries in a payload: a group created with 5,000 members was one
    /// membership event of 180 KB, which PostgreSQL refused (and every gateway missed).
    static let maxIds = 100

    static func payloads(_ events: [DomainEvent]) -> [String] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        var payloads: [String] = []
        var current: [String] = []
        var size = 2
        for event in events.flatMap(pieces) {
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

    /// An event naming many people or messages, as several naming at most `maxIds` each.
    static func pieces(_ event: DomainEvent) -> [DomainEvent] {
        func chunks(_ ids: [UUID]) -> [[UUID]] {
            stride(from: 0, to: ids.count, by: maxIds).map { Array(ids[$0..<min($0 + maxIds, ids.count)]) }
        }
        switch event {
        case .membership(let conversationId, let userIds) where userIds.count > maxIds:
            return chunks(userIds).map { .membership(conversationId: conversationId, userIds: $0) }
        case .receipt(let conversationId, let messageIds, let userId, let status, let at) where messageIds.count > maxIds:
            return chunks(messageIds).map { .receipt(conversationId: conversationId, messageIds: $0, userId: userId, status: status, at: at) }
        default:
            return [event]
        }
    }

    static func decode(_ payload: String) -> [DomainEvent] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return (try? decoder.decode([DomainEvent].self, from: Data(payload.utf8))) ?? []
    }
}
