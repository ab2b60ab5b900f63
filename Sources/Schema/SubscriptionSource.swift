import Foundation
import Resolvers

/// A subscription's source events, for the gateway to execute (see `EventPull`). Pulled
/// directly rather than through an `AsyncThrowingStream`: a socket's subscription task waits in
/// this call for as long as the socket lives, and every layer of the wait keeps a slab of the
/// task's stack (about a kilobyte each, for each subscription).
public protocol SubscriptionEvents: AnyObject, Sendable {
    /// The next event; nil once the subscription ended.
    func next() async throws -> (any Sendable)?
}

/// The events of one subscription, pulled one at a time by whoever executes them.
///
/// GraphQLSwift would execute the selection once per event for each subscriber; the gateway
/// shares one execution between subscribers whose results cannot differ, so it needs the events
/// themselves. Pulling (rather than a task pushing into a stream) keeps the only buffer in the
/// bounded live-feed subscription: a subscriber that falls behind overflows it and is told so.
final class EventPull<Element: Sendable>: SubscriptionEvents, @unchecked Sendable {
    /// Loads the next page of what the subscriber missed; nil once caught up.
    typealias CatchUp = @Sendable () async throws -> [Element]?

    // Only the single consumer touches these, one `next()` at a time.
    private var live: LiveSubscription.AsyncIterator
    private var pending: ArraySlice<Element> = []
    private var catchUp: CatchUp?
    private let context: OperationContext
    private let transform: @Sendable (LiveEvent) async throws -> [Element]

    init(
        live: LiveSubscription, context: OperationContext, catchUp: CatchUp?,
        transform: @escaping @Sendable (LiveEvent) async throws -> [Element]
    ) {
        self.live = live.makeAsyncIterator()
        self.context = context
        self.catchUp = catchUp
        self.transform = transform
    }

    /// Caught-up events first, then live ones; the live feed ending without a cancellation
    /// means this subscriber overflowed its buffer, or the gateway's events were interrupted.
    func next() async throws -> (any Sendable)? {
        while true {
            if let element = pending.popFirst() {
                context.freshLoaders()
                return element
            }
            if let load = catchUp {
                if let page = try await load() { pending = page[...] } else { catchUp = nil }
                continue
            }
            guard let event = await live.next() else {
                if Task.isCancelled { return nil }
                if live.wasInterrupted { throw LiveEventsInterrupted() }
                throw SlowConsumer()
            }
            pending = try await transform(event)[...]
        }
    }
}

/// The position reached by a catch-up walking a conversation's pages.
actor PageCursor {
    private(set) var value: String?
    init(_ value: String?) { self.value = value }
    func move(to next: String?) { value = next }
}
