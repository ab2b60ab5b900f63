import DequeModule
import Foundation
import NIOConcurrencyHelpers
import OrderedCollections

/// One subscriber's view of the live feed, in two queues.
///
/// Messages, receipts, reactions and membership changes must all arrive, in order: they wait in
/// a bounded queue, and one that does not fit ends the subscription (the client catches up from
/// the log). Presence and typing are states of the moment: a newer one replaces the waiting one
/// about the same person (and conversation), and they go out only when nothing that must arrive
/// is waiting. In one queue, 5,000 people coming online filled every contact's buffer with
/// `userOnline`, and the next message, not fitting, cut every one of those sockets off.
public final class LiveSubscription: AsyncSequence, Sendable {
    public typealias Element = LiveEvent

    let mailbox: Mailbox

    init(mailbox: Mailbox) { self.mailbox = mailbox }

    /// Whoever drops the subscription (its consumer's task ending) unsubscribes.
    deinit { mailbox.finish() }

    /// Once it has ended: true when the gateway's own stream of events was interrupted (its LISTEN
    /// connection came back after a drop, or the feed fell behind), false when this subscriber
    /// fell behind. Either way its client reconnects and catches up; only the words differ.
    public var wasInterrupted: Bool { mailbox.wasInterrupted }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: LiveSubscription

        public mutating func next() async -> LiveEvent? {
            await subscription.mailbox.next()
        }

        /// See `LiveSubscription.wasInterrupted`.
        public var wasInterrupted: Bool { subscription.wasInterrupted }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(subscription: self) }

    /// The queues and the waiting consumer, shared with the feed that offers to them.
    final class Mailbox: Sendable {
        enum Offer { case enqueued, coalesced, dropped, ended }

        private let state: NIOLockedValueBox<State>
        private let onTermination: @Sendable () -> Void

        /// What a newer signal replaces: a person's presence, a person's typing in a conversation.
        enum SignalKey: Hashable {
            case presence(UUID)
            case typing(conversationId: UUID, userId: UUID)
        }

        struct State {
            var ordered = Deque<LiveEvent>()
            var signals = OrderedDictionary<SignalKey, LiveEvent>()
            var waiter: UnsafeContinuation<LiveEvent?, Never>?
            var finished = false
            var interrupted = false
            var terminated = false
            let limit: Int
            let signalLimit: Int

            mutating func take() -> LiveEvent? {
                if let event = ordered.popFirst() { return event }
                guard !signals.isEmpty else { return nil }
                return signals.removeFirst().value
            }
        }

        init(limit: Int, signalLimit: Int, onTermination: @escaping @Sendable () -> Void) {
            state = NIOLockedValueBox(State(limit: limit, signalLimit: signalLimit))
            self.onTermination = onTermination
        }

        func offer(_ event: LiveEvent) -> Offer {
            let (outcome, waiter, event) = state.withLockedValue { state -> (Offer, UnsafeContinuation<LiveEvent?, Never>?, LiveEvent?) in
                guard !state.finished else { return (.ended, nil, nil) }
                if let waiter = state.waiter {
                    // The consumer waits: both queues are empty, the event goes straight to it.
                    state.waiter = nil
                    return (.enqueued, waiter, event)
                }
                if let key = Self.signalKey(of: event) {
                    if state.signals[key] != nil {
                        state.signals[key] = event
                        return (.coalesced, nil, nil)
                    }
                    guard state.signals.count < state.signalLimit else { return (.dropped, nil, nil) }
                    state.signals[key] = event
                    return (.enqueued, nil, nil)
                }
                guard state.ordered.count < state.limit else {
                    state.finished = true
                    return (.ended, nil, nil)
                }
                state.ordered.append(event)
                return (.enqueued, nil, nil)
            }
            waiter?.resume(returning: event)
            if outcome == .ended { terminate() }
            return outcome
        }

        var wasInterrupted: Bool { state.withLockedValue { $0.interrupted } }

        /// What is queued is still handed out; then the consumer sees the end.
        func finish(interrupted: Bool = false) {
            let waiter = state.withLockedValue { state in
                if !state.finished { state.interrupted = interrupted }
                state.finished = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
            terminate()
        }

        func next() async -> LiveEvent? {
            if let event = state.withLockedValue({ $0.take() }) { return event }
            return await withTaskCancellationHandler {
                await withUnsafeContinuation { (continuation: UnsafeContinuation<LiveEvent?, Never>) in
                    let ready = state.withLockedValue { state -> LiveEvent?? in
                        if let event = state.take() { return .some(event) }
                        if state.finished || Task.isCancelled { return .some(nil) }
                        state.waiter = continuation
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                self.cancel()
            }
        }

        /// The consumer's task was cancelled: it stops at once, dropping what is queued.
        private func cancel() {
            let waiter = state.withLockedValue { state in
                state.finished = true
                state.ordered.removeAll()
                state.signals.removeAll()
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
            terminate()
        }

        private func terminate() {
            let first = state.withLockedValue { state in
                defer { state.terminated = true }
                return !state.terminated
            }
            if first { onTermination() }
        }

        static func signalKey(of event: LiveEvent) -> SignalKey? {
            switch event {
            case .presence(let userId, _, _, _): .presence(userId)
            case .typing(let conversationId, let userId, _, _, _): .typing(conversationId: conversationId, userId: userId)
            case .message, .status, .reaction, .membership: nil
            }
        }
    }
}
