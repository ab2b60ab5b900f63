import NIOConcurrencyHelpers

/// Encoded results of subscription events, one per (document, variables, event), for
/// subscribers whose results cannot differ (`ViewerIndependence`). The first subscriber to reach
/// an event executes it; the others wait for and reuse its encoding. Bounded: the oldest entries
/// go first, and a subscriber arriving after its entry went simply executes again.
final class SharedExecutions<Key: Hashable & Sendable>: Sendable {
    typealias Outcome = SharedOutcome

    private struct State {
        var entries: [Key: Task<Outcome, Never>] = [:]
        var order: [Key] = []
        var head = 0
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int

    init(capacity: Int = 1024) { self.capacity = capacity }

    /// The payload for `key`, and whether it came from another subscriber's execution.
    func payload(for key: Key, execute: @escaping @Sendable () async -> Outcome) async -> (payload: String, reused: Bool) {
        let (task, created) = state.withLockedValue { state -> (Task<Outcome, Never>, Bool) in
            if let running = state.entries[key] { return (running, false) }
            // Not a child task: a first subscriber that goes away must not cancel the others' result.
            let task = Task { await execute() }
            state.entries[key] = task
            if state.order.count < capacity {
                state.order.append(key)
            } else {
                state.entries[state.order[state.head]] = nil
                state.order[state.head] = key
                state.head = (state.head + 1) % capacity
            }
            return (task, true)
        }
        let outcome = await task.value
        if created { return (outcome.payload, false) }
        if outcome.failed { return (await execute().payload, false) }
        return (outcome.payload, true)
    }

    var count: Int { state.withLockedValue { $0.entries.count } }
}

/// One execution's encoded result.
struct SharedOutcome: Sendable {
    let payload: String
    /// A result with errors is never handed to another subscriber: the error may be this
    /// viewer's alone (a membership that ended between the event and its execution).
    let failed: Bool
}
