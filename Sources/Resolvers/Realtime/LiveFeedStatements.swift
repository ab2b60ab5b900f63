import Foundation
import PostgresNIO

/// The messages a batch of notifications announced, prepared once per connection: the live feed
/// runs it for every batch, before the first delivery of each message.
struct AnnouncedMessages: FixedQuery {
    static let sql = text(of: AnnouncedMessages(ids: []))
    let ids: [UUID]

    var query: PostgresQuery {
        "SELECT \(unescaped: MessagingCore.messageColumns) FROM messages m WHERE m.id = ANY(\(ids))"
    }
}

/// The current members of a batch's conversations (who may see each event) and where each
/// joined, prepared once per connection: run beside `AnnouncedMessages` for every batch.
struct ConversationAudiences: FixedQuery {
    static let sql = text(of: ConversationAudiences(conversationIds: []))
    let conversationIds: [UUID]

    var query: PostgresQuery {
        """
        SELECT conversation_id, user_id, joined_seq FROM conversation_members
        WHERE conversation_id = ANY(\(conversationIds)) AND left_at IS NULL
        """
    }
}

/// A conversation's current members, read when its events are delivered rather than when they
/// happened: someone added in between is a member by then, yet may see only the messages after
/// `joined_seq`, live as in history. A removal in between errs the other way: the one removed
/// misses the live event, and still finds the message in history.
struct ConversationAudience {
    private(set) var members: Set<UUID> = []
    private var joins: [(user: UUID, seq: Int64)] = []
    private var latestJoin = Int64.min

    mutating func add(_ user: UUID, joinedSeq: Int64) {
        members.insert(user)
        joins.append((user, joinedSeq))
        latestJoin = max(latestJoin, joinedSeq)
    }

    /// Who may see the message at `seq`, or an event about it: every member unless someone
    /// joined at or after it, the rare case that costs a new set.
    func seeing(_ seq: Int64) -> Set<UUID> {
        guard latestJoin >= seq else { return members }
        return Set(joins.lazy.filter { $0.seq < seq }.map(\.user))
    }
}
