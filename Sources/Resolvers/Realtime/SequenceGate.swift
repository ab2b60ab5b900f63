import Foundation

/// Puts each conversation's new messages back in sequence order before they reach subscribers.
///
/// Two sends commit in sequence order but may announce in the other, in two notifications; each
/// subscriber took the second number seen first for a lost notification and reloaded the gap
/// from the database: 999 page queries for one swap in a 1,000-member group (Benchmarks/,
/// fan-out at 40 messages/s: three swaps, 2,997 reloads, a quarter of the throughput). A message
/// that skips a number waits here, with whatever follows it in its conversation, until the
/// number arrives or `holdLimit` passes (a notification really lost: subscribers reload as before).
struct SequenceGate {
    let holdLimit: Duration
    /// Conversations remembered; past this the memory starts afresh (the next message of each
    /// passes as a first one).
    let capacity: Int

    private var last: [UUID: Int64] = [:]
    private var held: [UUID: (since: ContinuousClock.Instant, events: [DomainEvent])] = [:]

    init(holdLimit: Duration = .milliseconds(100), capacity: Int = 100_000) {
        self.holdLimit = holdLimit
        self.capacity = capacity
    }

    /// The events that may go out now, in order; the others are held.
    mutating func admit(_ events: [DomainEvent], at now: ContinuousClock.Instant) -> [DomainEvent] {
        var out: [DomainEvent] = []
        var touched: [UUID] = []
        for event in events {
            guard let conversation = event.conversationId else {
                out.append(event)
                continue
            }
            if held[conversation] != nil {
                // A late message goes before the held ones it precedes; anything else keeps its place.
                var waiting = held[conversation]!.events
                if case .messageCreated(_, _, let seq, _) = event,
                   let later = waiting.firstIndex(where: { if case .messageCreated(_, _, let s, _) = $0 { s > seq } else { false } }) {
                    waiting.insert(event, at: later)
                } else {
                    waiting.append(event)
                }
                held[conversation]!.events = waiting
                touched.append(conversation)
            } else if case .messageCreated(_, _, let seq, _) = event, let seen = last[conversation], seq > seen + 1 {
                held[conversation] = (now, [event])
            } else {
                note(event)
                out.append(event)
            }
        }
        for conversation in touched { out += release(conversation, force: false) }
        return out
    }

    /// Held events whose wait is over, in order: what they waited for is taken as lost.
    mutating func expire(at now: ContinuousClock.Instant) -> [DomainEvent] {
        let due = held.filter { now - $0.value.since >= holdLimit }.keys
        return due.flatMap { release($0, force: true) }
    }

    /// When the oldest held event's wait ends, if any is held.
    var nextExpiry: ContinuousClock.Instant? { held.values.map { $0.since + holdLimit }.min() }

    var holding: Int { held.values.reduce(0) { $0 + $1.events.count } }

    /// The held prefix that now follows on (all of it when forced).
    private mutating func release(_ conversation: UUID, force: Bool) -> [DomainEvent] {
        guard let hold = held.removeValue(forKey: conversation) else { return [] }
        var out: [DomainEvent] = []
        var index = 0
        while index < hold.events.count {
            let event = hold.events[index]
            if !force, case .messageCreated(_, _, let seq, _) = event, let seen = last[conversation], seq > seen + 1 { break }
            note(event)
            out.append(event)
            index += 1
        }
        if index < hold.events.count { held[conversation] = (hold.since, Array(hold.events[index...])) }
        return out
    }

    private mutating func note(_ event: DomainEvent) {
        guard case .messageCreated(let conversation, _, let seq, _) = event else { return }
        if last.count >= capacity, last[conversation] == nil { last.removeAll(keepingCapacity: true) }
        last[conversation] = max(last[conversation] ?? seq, seq)
    }
}
