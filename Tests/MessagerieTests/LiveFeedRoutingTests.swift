import Foundation
import XCTest

@testable import Resolvers

/// Which live subscribers an event is handed to: its audience's, and only those who take its kind.
final class LiveFeedRoutingTests: XCTestCase {
    let ada = UUID(), bola = UUID(), chidi = UUID()

    func testPresenceReachesOnlyContactsSubscribersOfThatKind() {
        var registry = LiveFeed.Registry()
        let messages = UUID(), presence = UUID(), socket = UUID(), stranger = UUID()
        registry.add(messages, user: ada, kinds: [.message], Self.continuation())
        registry.add(presence, user: ada, kinds: [.presence, .membership], Self.continuation())
        registry.add(socket, user: bola, Self.continuation())
        registry.add(stranger, user: chidi, Self.continuation())

        var plan: [UUID: Int] = [:]
        // A storm: a thousand people who share a conversation with Ada and Bola, not with Chidi.
        for n in 0..<1000 {
            let ids = registry.recipients(
                of: .presence(userId: UUID(), status: n.isMultiple(of: 2) ? .online : .offline, lastSeenAt: nil, audience: [ada, bola]))
            for id in ids { plan[id, default: 0] += 1 }
        }
        XCTAssertNil(plan[messages], "a storm of presence never fills a message subscriber's buffer")
        XCTAssertEqual(plan[presence], 1000)
        XCTAssertEqual(plan[socket], 1000, "a subscriber of every kind gets its contacts' presence")
        XCTAssertNil(plan[stranger], "presence goes to the person's contacts only")
    }

    /// A message, and what is said about it, is for the members who had joined before it.
    func testAMessageIsForTheMembersWhoJoinedBeforeIt() {
        var audience = ConversationAudience()
        audience.add(ada, joinedSeq: 0)
        audience.add(bola, joinedSeq: 4)
        XCTAssertEqual(audience.seeing(5), [ada, bola])
        audience.add(chidi, joinedSeq: 7)
        XCTAssertEqual(audience.members, [ada, bola, chidi], "typing and presence go to every member")
        XCTAssertEqual(audience.seeing(8), [ada, bola, chidi])
        XCTAssertEqual(audience.seeing(7), [ada, bola], "joined_seq is the last message before the joining")
        XCTAssertEqual(audience.seeing(4), [ada])
        XCTAssertEqual(audience.seeing(1), [ada])
    }

    func testNewMessagesOfABatchGoOutInSequenceOrderOthersKeepTheirPlace() {
        let conversation = UUID(), other = UUID()
        func created(_ seq: Int64, in id: UUID = conversation) -> DomainEvent {
            .messageCreated(conversationId: id, messageId: UUID(), seq: seq, senderId: ada)
        }
        let typing = DomainEvent.typing(conversationId: conversation, userId: bola, isTyping: true, at: Date())
        let batch = [created(12), typing, created(11), created(3, in: other), created(13)]
        let ordered = LiveFeed.inSequence(batch)
        let seqs = ordered.compactMap { event -> Int64? in
            if case .messageCreated(let id, _, let seq, _) = event, id == conversation { return seq } else { return nil }
        }
        XCTAssertEqual(seqs, [11, 12, 13])
        guard case .typing = ordered[1] else { return XCTFail("the typing event moved: \(ordered)") }
        XCTAssertEqual(ordered.count, batch.count)
    }

    func testMembershipReachesEverySubscriberOfItsKind() {
        var registry = LiveFeed.Registry()
        let messages = UUID(), presence = UUID(), socket = UUID()
        registry.add(messages, user: ada, kinds: [.message], Self.continuation())
        registry.add(presence, user: ada, kinds: [.presence, .membership], Self.continuation())
        registry.add(socket, user: bola, Self.continuation())
        let ids = registry.recipients(of: .membership(conversationId: UUID(), userIds: [chidi]))
        XCTAssertEqual(ids.count, 2, "each once")
        XCTAssertEqual(Set(ids), [presence, socket], "not the message subscriber")
    }

    func testAudienceEventsReachTheirAudiencesSubscribersOfThatKind() {
        var registry = LiveFeed.Registry()
        let adaMessages = UUID(), adaTyping = UUID(), chidiMessages = UUID(), all = UUID()
        registry.add(adaMessages, user: ada, kinds: [.message], Self.continuation())
        registry.add(adaTyping, user: ada, kinds: [.typing], Self.continuation())
        registry.add(chidiMessages, user: chidi, kinds: [.message], Self.continuation())
        registry.add(all, user: nil, Self.continuation())

        let conversation = UUID()
        let message = registry.recipients(of: .message(Self.message(in: conversation), audience: [ada, bola]))
        let typing = registry.recipients(of: .typing(conversationId: conversation, userId: bola, isTyping: true, at: Date(), audience: [ada, bola]))
        XCTAssertEqual(message.count, 2, "each once")
        XCTAssertEqual(Set(message), [adaMessages, all], "not chidi, who is not in the audience")
        XCTAssertEqual(typing.count, 2, "each once")
        XCTAssertEqual(Set(typing), [adaTyping, all])
    }

    func testARemovedSubscriberIsForgottenEverywhere() {
        var registry = LiveFeed.Registry()
        let id = UUID()
        registry.add(id, user: ada, kinds: [.presence], Self.continuation())
        registry.remove(id)
        XCTAssertTrue(registry.recipients(of: .presence(userId: bola, status: .online, lastSeenAt: nil, audience: [ada, bola])).isEmpty)
        XCTAssertTrue(registry.byKind.isEmpty && registry.byUser.isEmpty && registry.kinds.isEmpty)
    }

    static func continuation() -> LiveSubscription.Mailbox {
        LiveSubscription.Mailbox(limit: 8, signalLimit: 8) {}
    }

    static func message(in conversation: UUID) -> Message {
        Message(id: UUID(), conversationId: conversation, seq: 1, senderId: nil, kind: .user, text: "hi", systemEvent: nil,
                replyToId: nil, clientMessageId: nil, createdAt: Date(), editedAt: nil, deletedAt: nil)
    }
}
