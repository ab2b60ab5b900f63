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

/// The current members of a batch's conversations (who may see each event), prepared once per
/// connection: run beside `AnnouncedMessages` for every batch.
struct ConversationAudiences: FixedQuery {
    static let sql = text(of: ConversationAudiences(conversationIds: []))
    let conversationIds: [UUID]

    var query: PostgresQuery {
        """
        SELECT conversation_id, user_id FROM conversation_members WHERE conversation_id = ANY(\(conversationIds)) AND left_at IS NULL
        """
    }
}
