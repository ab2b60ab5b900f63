import Foundation
import NIOConcurrencyHelpers
import Resolvers

/// One presentation of a just-sent message for every socket of this process that receives it:
/// at that moment its REST form is the same for every reader (status SENT, no reactions), so the
/// first socket loads it and the others await that load instead of repeating the queries. Its
/// encoded `messageReceived` packet is kept too, per namespace and form: encoding the same JSON
/// once per socket was the biggest share of a delivery's own work in a 1,000-member group.
final class LiveMessageCache: Sendable {
    private struct Entries {
        var tasks: [UUID: Task<JSONValue?, Never>] = [:]
        var order: [UUID] = []
        /// Encoded packets by message, then by form (`packet(for:form:encode:)`).
        var packets: [UUID: [String: String]] = [:]
    }

    private let entries = NIOLockedValueBox(Entries())
    let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    func wire(_ message: Message, load: @escaping @Sendable () async -> JSONValue?) async -> JSONValue? {
        let task = entries.withLockedValue { entries -> Task<JSONValue?, Never> in
            if let existing = entries.tasks[message.id] { return existing }
            let task = Task { await load() }
            entries.tasks[message.id] = task
            entries.order.append(message.id)
            if entries.order.count > capacity {
                let evicted = entries.order.removeFirst()
                entries.tasks[evicted] = nil
                entries.packets[evicted] = nil
            }
            return task
        }
        return await task.value
    }

    /// The packet of `message` in `form` (namespace and arguments), encoded by the first socket
    /// that asks while the message is cached; nil when `encode` gives nil.
    func packet(for message: Message, form: String, encode: () -> String?) -> String? {
        if let text = entries.withLockedValue({ $0.packets[message.id]?[form] }) { return text }
        guard let text = encode() else { return nil }
        entries.withLockedValue { entries in
            if entries.tasks[message.id] != nil { entries.packets[message.id, default: [:]][form] = text }
        }
        return text
    }

    var packetCount: Int { entries.withLockedValue { $0.packets.values.reduce(0) { $0 + $1.count } } }
}
