import Foundation
import XCTest

@testable import Resolvers

/// NOTIFY payloads stay under PostgreSQL's 8,000-byte limit whatever the events carry.
final class EventCodecTests: XCTestCase {
    func testAnEventNamingThousandsTravelsInPartsUnderTheLimit() {
        let group = UUID()
        let members = (0..<5000).map { _ in UUID() }
        let read = (0..<250).map { _ in UUID() }
        let created = DomainEvent.messageCreated(conversationId: group, messageId: UUID(), seq: 7, senderId: members[0])
        let events: [DomainEvent] = [
            created,
            .membership(conversationId: group, userIds: members),
            .receipt(conversationId: group, messageIds: read, userId: members[1], status: .read, at: Date(timeIntervalSince1970: 1_700_000_000)),
        ]
        let payloads = EventCodec.payloads(events)
        XCTAssertGreaterThan(payloads.count, 1)
        for payload in payloads { XCTAssertLessThanOrEqual(payload.utf8.count, EventCodec.maxPayloadBytes) }

        let decoded = payloads.flatMap(EventCodec.decode)
        var joined: [UUID] = []
        var receipted: [UUID] = []
        for event in decoded {
            switch event {
            case .membership(let id, let userIds):
                XCTAssertEqual(id, group)
                XCTAssertLessThanOrEqual(userIds.count, EventCodec.maxIds)
                joined += userIds
            case .receipt(_, let ids, let userId, let status, _):
                XCTAssertEqual(userId, members[1])
                XCTAssertEqual(status, .read)
                receipted += ids
            case .messageCreated:
                XCTAssertEqual(event, created)
            default:
                XCTFail("unexpected \(event)")
            }
        }
        XCTAssertEqual(joined, members, "every member, in order")
        XCTAssertEqual(receipted, read)
        XCTAssertEqual(decoded.count, 1 + 50 + 3)
    }
}
