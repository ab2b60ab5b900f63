import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import Resolvers

/// A subscriber's two queues: what must arrive (in order, bounded, overflow ends the
/// subscription) ahead of states of the moment (presence and typing, latest per subject).
final class LiveSubscriptionTests: XCTestCase {
    let ada = UUID(), bola = UUID()

    func presence(_ userId: UUID, _ status: PresenceStatus) -> LiveEvent {
        .presence(userId: userId, status: status, lastSeenAt: nil, audience: [ada])
    }

    func message() -> LiveEvent {
        .message(LiveFeedRoutingTests.message(in: UUID()), audience: [ada])
    }

    func drain(_ subscription: LiveSubscription, _ count: Int) async -> [LiveEvent] {
        var events = subscription.makeAsyncIterator()
        var taken: [LiveEvent] = []
        for _ in 0..<count { if let event = await events.next() { taken.append(event) } }
        return taken
    }

    /// The failure this replaced: a storm filled the one buffer, and the next message, not
    /// fitting, ended the subscription (every contact's socket was cut off).
    func testAMessageAfterAPresenceStormGoesFirstAndTheSubscriptionStaysOpen() async {
        let subscription = LiveSubscription(mailbox: .init(limit: 4, signalLimit: 8) {})
        let people = (0..<100).map { _ in UUID() }
        var outcomes: [LiveSubscription.Mailbox.Offer] = []
        for person in people { outcomes.append(subscription.mailbox.offer(presence(person, .online))) }
        XCTAssertEqual(outcomes.filter { $0 == .enqueued }.count, 8)
        XCTAssertEqual(outcomes.filter { $0 == .dropped }.count, 92, "signals beyond their bound are dropped, not fatal")
        let sent = message()
        XCTAssertEqual(subscription.mailbox.offer(sent), .enqueued)

        let taken = await drain(subscription, 9)
        XCTAssertEqual(taken.map(\.kind), [.message] + Array(repeating: .presence, count: 8))
        guard case .message(let first, _) = taken[0], case .message(let expected, _) = sent else { return XCTFail("\(taken)") }
        XCTAssertEqual(first.id, expected.id)
        let order = taken.dropFirst().compactMap { event -> UUID? in
            if case .presence(let id, _, _, _) = event { id } else { nil }
        }
        XCTAssertEqual(order, Array(people.prefix(8)), "signals keep the order they first came in")
    }

    func testANewerPresenceReplacesTheWaitingOneInItsPlace() async {
        let subscription = LiveSubscription(mailbox: .init(limit: 4, signalLimit: 8) {})
        XCTAssertEqual(subscription.mailbox.offer(presence(ada, .online)), .enqueued)
        XCTAssertEqual(subscription.mailbox.offer(presence(bola, .online)), .enqueued)
        XCTAssertEqual(subscription.mailbox.offer(presence(ada, .offline)), .coalesced)
        let typing = LiveEvent.typing(conversationId: UUID(), userId: ada, isTyping: true, at: Date(), audience: [ada])
        XCTAssertEqual(subscription.mailbox.offer(typing), .enqueued, "typing is keyed apart from presence")

        let taken = await drain(subscription, 3)
        guard case .presence(let first, let status, _, _) = taken[0] else { return XCTFail("\(taken)") }
        XCTAssertEqual(first, ada)
        XCTAssertEqual(status, .offline, "the latest state, where the first one stood")
        XCTAssertEqual(taken.map(\.kind), [.presence, .presence, .typing])
    }

    func testWhatMustArriveEndsTheSubscriptionWhenItDoesNotFitAfterTheQueueIsHandedOut() async {
        let ended = NIOLockedValueBox(0)
        let subscription = LiveSubscription(mailbox: .init(limit: 2, signalLimit: 8) { ended.withLockedValue { $0 += 1 } })
        let messages = (0..<3).map { _ in message() }
        XCTAssertEqual(messages.map { subscription.mailbox.offer($0) }, [.enqueued, .enqueued, .ended])
        XCTAssertEqual(ended.withLockedValue { $0 }, 1, "unsubscribed at once")
        XCTAssertEqual(subscription.mailbox.offer(presence(ada, .online)), .ended)
        var events = subscription.makeAsyncIterator()
        let first = await events.next(), second = await events.next(), end = await events.next()
        XCTAssertEqual([first?.kind, second?.kind], [.message, .message], "what fitted is still handed out")
        XCTAssertNil(end)
        XCTAssertEqual(ended.withLockedValue { $0 }, 1)
    }

    func testAWaitingConsumerGetsTheEventAndCancellingItEndsTheSubscription() async throws {
        let ended = NIOLockedValueBox(0)
        let subscription = LiveSubscription(mailbox: .init(limit: 4, signalLimit: 8) { ended.withLockedValue { $0 += 1 } })
        let consumer = Task { () -> [LiveEvent.Kind] in
            var kinds: [LiveEvent.Kind] = []
            for await event in subscription { kinds.append(event.kind) }
            return kinds
        }
        // Offered while the consumer may or may not be waiting yet: both paths hand it over.
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(subscription.mailbox.offer(message()), .enqueued)
        XCTAssertEqual(subscription.mailbox.offer(presence(ada, .online)), .enqueued)
        try await Task.sleep(for: .milliseconds(50))
        consumer.cancel()
        let kinds = await consumer.value
        XCTAssertEqual(kinds, [.message, .presence])
        XCTAssertEqual(ended.withLockedValue { $0 }, 1, "the cancelled consumer unsubscribed")
        XCTAssertEqual(subscription.mailbox.offer(message()), .ended)
    }

    func testDroppingTheSubscriptionUnsubscribes() {
        let ended = NIOLockedValueBox(0)
        var subscription: LiveSubscription? = LiveSubscription(mailbox: .init(limit: 4, signalLimit: 8) { ended.withLockedValue { $0 += 1 } })
        XCTAssertNotNil(subscription)
        subscription = nil
        XCTAssertEqual(ended.withLockedValue { $0 }, 1)
    }
}
