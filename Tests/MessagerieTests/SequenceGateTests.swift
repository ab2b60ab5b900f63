import Foundation
import XCTest

@testable import Resolvers

/// New messages of a conversation reach subscribers in sequence order even when their
/// announcements arrive swapped; a number that never comes holds the others only so long.
final class SequenceGateTests: XCTestCase {
    let conversation = UUID(), other = UUID()
    let start = ContinuousClock.now

    func created(_ seq: Int64, in conversation: UUID? = nil) -> DomainEvent {
        .messageCreated(conversationId: conversation ?? self.conversation, messageId: UUID(), seq: seq, senderId: nil)
    }

    func seqs(_ events: [DomainEvent]) -> [Int64] {
        events.compactMap { if case .messageCreated(_, _, let seq, _) = $0 { seq } else { nil } }
    }

    func testASwapAcrossTwoBatchesComesOutInOrder() {
        var gate = SequenceGate()
        XCTAssertEqual(seqs(gate.admit([created(1)], at: start)), [1], "the first message of a conversation passes")
        XCTAssertEqual(gate.admit([created(3)], at: start), [], "3 waits for 2")
        XCTAssertEqual(gate.holding, 1)
        XCTAssertEqual(seqs(gate.admit([created(2)], at: start + .milliseconds(5))), [2, 3])
        XCTAssertEqual(gate.holding, 0)
        XCTAssertNil(gate.nextExpiry)
    }

    func testOtherConversationsAndEventsDoNotWait() {
        var gate = SequenceGate()
        _ = gate.admit([created(1)], at: start)
        let presence = DomainEvent.presence(userId: UUID(), status: .online, lastSeenAt: nil)
        let out = gate.admit([created(4), created(1, in: other), presence, created(2, in: other)], at: start)
        XCTAssertEqual(out.count, 3, "only the message that skips numbers waits")
        XCTAssertEqual(seqs(out), [1, 2])
        XCTAssertEqual(out[1], presence)
        XCTAssertEqual(out.compactMap(\.conversationId), [other, other])
    }

    /// What follows a waiting message in its conversation waits behind it, so that a receipt or
    /// a membership change is not seen before the message it follows.
    func testEventsOfAWaitingConversationKeepTheirOrder() {
        var gate = SequenceGate()
        _ = gate.admit([created(10)], at: start)
        let receipt = DomainEvent.receipt(conversationId: conversation, messageIds: [UUID()], userId: UUID(), status: .read, at: Date())
        XCTAssertEqual(gate.admit([created(12), receipt], at: start), [])
        let out = gate.admit([created(11)], at: start)
        XCTAssertEqual(out.count, 3)
        XCTAssertEqual(seqs(out), [11, 12])
        XCTAssertEqual(out.last, receipt)
    }

    /// A notification really lost: the others go out when the wait ends, and subscribers load
    /// the gap themselves.
    func testAMissingNumberHoldsTheOthersOnlyUntilTheLimit() {
        var gate = SequenceGate(holdLimit: .milliseconds(100))
        _ = gate.admit([created(1)], at: start)
        XCTAssertEqual(gate.admit([created(3), created(4)], at: start), [])
        XCTAssertEqual(gate.nextExpiry, start + .milliseconds(100))
        XCTAssertEqual(gate.expire(at: start + .milliseconds(99)), [], "not yet")
        XCTAssertEqual(seqs(gate.expire(at: start + .milliseconds(100))), [3, 4])
        XCTAssertEqual(seqs(gate.admit([created(5)], at: start + .milliseconds(101))), [5], "4 counts as seen")
        XCTAssertEqual(seqs(gate.admit([created(2)], at: start + .milliseconds(102))), [2], "an old number passes; subscribers drop what they have")
    }

    func testMemoryIsBounded() {
        var gate = SequenceGate(capacity: 10)
        for _ in 0..<100 { _ = gate.admit([created(1, in: UUID())], at: start) }
        _ = gate.admit([created(1)], at: start)
        XCTAssertEqual(seqs(gate.admit([created(3)], at: start)), [], "a remembered conversation still waits")
        XCTAssertEqual(seqs(gate.admit([created(2)], at: start)), [2, 3])
    }
}
