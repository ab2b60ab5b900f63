import Foundation

/// Loads values for many keys in one call. Keys become known as soon as a resolver returns the
/// objects that will need them; the first field that asks for any value then loads every known
/// key at once, so a page of 50 messages costs one query per kind of data, whether fields are
/// resolved one after the other or concurrently.
actor Batcher<Value: Sendable> {
    private var values: [UUID: Value?] = [:]
    private var pending: Set<UUID> = []
    private var inflight: [UUID: Task<[UUID: Value], Error>] = [:]
    private let load: @Sendable ([UUID]) async throws -> [UUID: Value]

    init(load: @escaping @Sendable ([UUID]) async throws -> [UUID: Value]) {
        self.load = load
    }

    func know(_ keys: some Sequence<UUID>) {
        for key in keys where values[key] == nil && inflight[key] == nil { pending.insert(key) }
    }

    /// Values already read, for many keys at once: one hop onto the actor for a page's worth.
    func prime(_ known: [(UUID, Value?)]) {
        values.reserveCapacity(values.count + known.count)
        for (key, value) in known {
            values[key] = .some(value)
            pending.remove(key)
        }
    }

    func get(_ key: UUID) async throws -> Value? {
        if let known = values[key] { return known }
        if let running = inflight[key] { return try await running.value[key] }
        pending.insert(key)
        let batch = Array(pending)
        pending.removeAll()
        let load = self.load
        let task = Task { try await load(batch) }
        for item in batch { inflight[item] = task }
        do {
            let loaded = try await task.value
            for item in batch {
                values[item] = .some(loaded[item])
                inflight[item] = nil
            }
            return loaded[key]
        } catch {
            for item in batch { inflight[item] = nil }
            throw error
        }
    }
}
