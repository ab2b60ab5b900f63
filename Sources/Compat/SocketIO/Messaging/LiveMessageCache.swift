import Foundation
import NIOConcurrencyHelpers
import Resolvers

/// What a just-sent message shows (receipts, reactions, attachments, members), read once for
/// every socket of this process that receives it: the first socket loads it and the others await
/// that load instead of repeating the queries. Its encoded `messageReceived` packets are kept too,
/// per form (namespace, arguments and what differs between viewers, such as the status): encoding
/// the same JSON once per socket was the biggest share of a delivery's own work in a 1,000-member
/// group.
final class LiveMessageCache: Sendable {
    private struct Entries {
        var messages: [UUID: Entry] = [:]
        var order: [UUID] = []
        /// Encoded packets by message, then by form (`packet(for:form:encode:)`).
        var packets: [UUID: [String: String]] = [:]
    }

    /// A load that is done is kept as its value: a socket that awaited the load's task would
    /// keep the slab of that wait (1 KB) for its life.
    private enum Entry {
        case loading(Task<SharedMessage?, Never>)
        case ready(SharedMessage)
    }

    private let entries = NIOLockedValueBox(Entries())
    let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    func parts(
        _ message: Message, load: @escaping @Sendable () async -> RestMessageParts?
    ) async -> SharedMessage? {
        let entry = entries.withLockedValue { entries -> Entry in
            if let existing = entries.messages[message.id] { return existing }
            let task = Task { [entries = self.entries] in
                let shared = await load().map { SharedMessage(message, parts: $0) }
                // A load that failed is not kept: the sockets that come later read again.
                entries.withLockedValue { entries in
                    if case .loading? = entries.messages[message.id] { entries.messages[message.id] = shared.map(Entry.ready) }
                }
                return shared
            }
            entries.messages[message.id] = .loading(task)
            // A message read again after a failed load keeps its place.
            if !entries.order.contains(message.id) { entries.order.append(message.id) }
            if entries.order.count > capacity {
                let evicted = entries.order.removeFirst()
                entries.messages[evicted] = nil
                entries.packets[evicted] = nil
            }
            return .loading(task)
        }
        switch entry {
        case .ready(let shared): return shared
        case .loading(let task): return await task.value
        }
    }

    /// The parts of `message` when their load is done and found them.
    func loaded(_ message: Message) -> SharedMessage? {
        entries.withLockedValue { entries in
            if case .ready(let shared)? = entries.messages[message.id] { return shared }
            return nil
        }
    }

    /// The packet of `message` in `form` (namespace and arguments), encoded by the first socket
    /// that asks while the message is cached; nil when `encode` gives nil.
    func packet(for message: Message, form: String, encode: () -> String?) -> String? {
        if let text = entries.withLockedValue({ $0.packets[message.id]?[form] }) { return text }
        guard let text = encode() else { return nil }
        entries.withLockedValue { entries in
            if entries.messages[message.id] != nil { entries.packets[message.id, default: [:]][form] = text }
        }
        return text
    }

    var packetCount: Int { entries.withLockedValue { $0.packets.values.reduce(0) { $0 + $1.count } } }
}

/// A cached message's parts, with each recipient's status looked up by id: finding it among the
/// receipts for each of a 1,000-member group's sockets would read half a million rows a message.
struct SharedMessage: Sendable {
    let parts: RestMessageParts
    private let statuses: [UUID: String]
    private let summary: String

    init(_ message: Message, parts: RestMessageParts) {
        self.parts = parts
        let receipts = parts.receipts[message.id] ?? []
        statuses = Dictionary(
            receipts.lazy.filter { $0.userId != message.senderId }.map { ($0.userId, $0.status.rawValue) }, uniquingKeysWith: { a, _ in a })
        summary = ReceiptService.summary(of: receipts).rawValue
    }

    /// Whether `viewer` must have the reactions read for them: `reactedByMe` was read for
    /// `parts.reactionsViewer`, and holds for everyone only when the message has none.
    func reactionsDiffer(for viewer: UUID, on message: Message) -> Bool {
        viewer != parts.reactionsViewer && !(parts.reactions[message.id] ?? []).isEmpty
    }

    /// What `ReceiptService.status` says for `viewer`.
    func status(for viewer: UUID) -> String { statuses[viewer] ?? summary }
}
