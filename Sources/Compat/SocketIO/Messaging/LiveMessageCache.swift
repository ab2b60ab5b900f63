import Foundation
import NIOConcurrencyHelpers
import Resolvers

/// One presentation of a just-sent message for every socket of this process that receives it:
/// at that moment its REST form is the same for every reader (status SENT, no reactions), so the
/// first socket loads it and the others await that load instead of repeating the queries.
final class LiveMessageCache: Sendable {
    private struct Entries {
        var tasks: [UUID: Task<JSONValue?, Never>] = [:]
        var order: [UUID] = []
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
                entries.tasks[entries.order.removeFirst()] = nil
            }
            return task
        }
        return await task.value
    }
}
