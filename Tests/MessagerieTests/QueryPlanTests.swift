import Foundation
import XCTest

@testable import Gateway
@testable import Resolvers

/// The main list and search queries use an index on a database with a realistic number of rows
/// (docs/query-plans.md). The SQL below mirrors what the services in Sources/Resolvers/Messaging
/// send; keep the two in step.
final class QueryPlanTests: XCTestCase {
    /// 400 people, 800 three-person groups (and one heavy reader in 400 of them), 100 messages in each (80,000), a receipt per
    /// recipient of the first 89 of each (142,400: receipts exist once reported), some reactions and 20,000 activity entries; then ANALYZE. Search
    /// tokens are 16-byte digests of words from a 3,000-word vocabulary, as the blind index stores.
    static let fill = """
        INSERT INTO users (id, phone, display_name)
        SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, '+2348100' || lpad(i::text, 6, '0'), 'P' || i
        FROM generate_series(1, 400) AS i;

        INSERT INTO conversations (id, kind, title, created_by, last_seq, last_activity_at, created_at)
        SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(c), 12, '0'))::uuid, 'GROUP', 'G' || c,
               ('00000000-0000-4000-8000-' || lpad(to_hex(1 + c % 400), 12, '0'))::uuid, 100,
               now() - (c || ' minutes')::interval, now() - interval '30 days'
        FROM generate_series(1, 800) AS c;

        INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq)
        SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(c), 12, '0'))::uuid,
               ('00000000-0000-4000-8000-' || lpad(to_hex(1 + (c * 7 + k * 131) % 400), 12, '0'))::uuid,
               CASE WHEN k = 0 THEN 'OWNER' ELSE 'MEMBER' END, 0
        FROM generate_series(1, 800) AS c, generate_series(0, 2) AS k;

        INSERT INTO messages (id, conversation_id, seq, sender_id, kind, body_key_id, body, client_message_id, search_tokens, created_at)
        SELECT gen_random_uuid(), cm.conversation_id, s, cm.user_id, 'USER', 'k1', decode(md5(random()::text) || md5(random()::text), 'hex'),
               'client-' || cm.conversation_id || '-' || s,
               ARRAY(SELECT decode(md5('word' || ((s * 37 + w * 101 + hashtext(cm.conversation_id::text)) & 2047)), 'hex')
                     FROM generate_series(1, 6) AS w),
               now() - interval '30 days' + (s || ' minutes')::interval + (hashtext(cm.conversation_id::text) & 1023) * interval '1 second'
        FROM (SELECT conversation_id, user_id, row_number() OVER (PARTITION BY conversation_id ORDER BY user_id) AS n
              FROM conversation_members) cm, generate_series(1, 100) AS s
        WHERE s % 3 = cm.n - 1;

        INSERT INTO message_receipts (message_id, user_id, conversation_id, seq, delivered_at, read_at)
        SELECT m.id, cm.user_id, m.conversation_id, m.seq, m.created_at, CASE WHEN m.seq < 80 THEN m.created_at END
        FROM messages m JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id <> m.sender_id
        WHERE m.seq < 90;

        UPDATE conversation_members SET last_read_seq = 79;

        INSERT INTO message_reactions (message_id, user_id, emoji)
        SELECT m.id, m.sender_id, '👍' FROM messages m WHERE m.seq % 10 = 0;

        INSERT INTO users (id, phone, display_name) VALUES (\(heavy), '+2348200000001', 'Heavy');

        INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq)
        SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(c), 12, '0'))::uuid, \(heavy), 'MEMBER', 0
        FROM generate_series(2, 800, 2) AS c;

        INSERT INTO activity_log (actor_id, kind, target_user_id, details)
        SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % 400), 12, '0'))::uuid, 'sign_in', NULL, '{}'::jsonb
        FROM generate_series(1, 20000) AS i;

        ANALYZE;

        CREATE FUNCTION explain_json(query text) RETURNS text LANGUAGE plpgsql AS $$
        DECLARE plan text;
        BEGIN
            EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
            RETURN plan;
        END $$;
        """

    /// In six groups.
    static let viewer = "'00000000-0000-4000-8000-000000000008'::uuid"
    /// In 400 groups (40,000 readable messages), where a word search must go through the blind index.
    static let heavy = "'00000000-0000-4000-8000-000000000191'::uuid"
    static let conversation = "'00000000-0000-4000-9000-000000000001'::uuid"
    static let messageColumns = """
        m.id, m.conversation_id, m.seq, m.sender_id, m.kind, m.body_key_id, m.body, m.system_event::text,
        m.reply_to_id, m.client_message_id, m.created_at, m.edited_at, m.deleted_at
        """
    static let tokens = "ARRAY[decode(md5('word17'), 'hex'), decode(md5('word1500'), 'hex')]::bytea[]"
    static let someMessages = "ARRAY(SELECT id FROM messages WHERE conversation_id = \(conversation) ORDER BY seq LIMIT 50)"

    /// Name, SQL as the service sends it (with sample values), and the index it must use (`a|b`: either).
    static let queries: [(name: String, sql: String, index: String)] = [
        ("messages, forward page with the viewer's membership (MessageService.page)", """
            SELECT \(messageColumns), cm.joined_seq, cm.left_seq
            FROM conversation_members cm
            LEFT JOIN LATERAL (
                SELECT * FROM messages m
                WHERE m.conversation_id = cm.conversation_id
                  AND m.seq > GREATEST(40, cm.joined_seq)
                  AND m.seq < LEAST(9223372036854775807, COALESCE(cm.left_seq + 1, 9223372036854775807))
                ORDER BY m.seq ASC LIMIT 51
            ) m ON true
            WHERE cm.conversation_id = \(conversation) AND cm.user_id = \(viewer)
            ORDER BY m.seq ASC
            """, "messages_seq"),
        ("messages, backward page with the viewer's membership (MessageService.page)", """
            SELECT \(messageColumns), cm.joined_seq, cm.left_seq
            FROM conversation_members cm
            LEFT JOIN LATERAL (
                SELECT * FROM messages m
                WHERE m.conversation_id = cm.conversation_id
                  AND m.seq > GREATEST(0, cm.joined_seq)
                  AND m.seq < LEAST(60, COALESCE(cm.left_seq + 1, 9223372036854775807))
                ORDER BY m.seq DESC LIMIT 51
            ) m ON true
            WHERE cm.conversation_id = \(conversation) AND cm.user_id = \(viewer)
            ORDER BY m.seq DESC
            """, "messages_seq"),
        ("messages by id for a viewer (MessageService.messages, loaders)", """
            SELECT \(messageColumns) FROM messages m
            JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(viewer)
            WHERE m.id = ANY(\(someMessages)) AND m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
            """, "messages_pkey"),
        ("conversations of a viewer, newest activity first (ConversationService.list)", """
            WITH mine AS (
                SELECT c.id, c.kind, c.title, c.created_at,
                       CASE WHEN m.left_at IS NULL THEN c.last_activity_at ELSE m.left_at END AS activity_at, m.joined_seq, m.left_seq
                FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
                WHERE m.user_id = \(viewer)
            )
            SELECT * FROM mine ORDER BY activity_at DESC, id DESC LIMIT 21
            """, "conversation_members_user_idx"),
        ("last message per conversation (ConversationService.lastMessages)", """
            SELECT \(messageColumns)
            FROM unnest(ARRAY(SELECT conversation_id FROM conversation_members WHERE user_id = \(viewer)),
                        ARRAY(SELECT 9223372036854775807::bigint FROM conversation_members WHERE user_id = \(viewer))) AS v(conversation_id, max_seq)
            CROSS JOIN LATERAL (
                SELECT * FROM messages x WHERE x.conversation_id = v.conversation_id AND x.seq <= v.max_seq ORDER BY x.seq DESC LIMIT 1
            ) m
            """, "messages_seq"),
        ("unread counts (ConversationService.unreadCounts)", """
            SELECT cm.conversation_id, count(*) FROM conversation_members cm
            JOIN messages m ON m.conversation_id = cm.conversation_id
                AND m.seq > GREATEST(cm.last_read_seq, cm.joined_seq) AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
            WHERE cm.user_id = \(viewer) AND cm.conversation_id = ANY(ARRAY(SELECT conversation_id FROM conversation_members WHERE user_id = \(viewer)))
              AND m.kind = 'USER' AND m.sender_id <> cm.user_id
            GROUP BY cm.conversation_id
            """, "messages_seq"),
        // The prepared statements' own text, their parameters replaced by sample values.
        ("receipts of a page (ReceiptService.receipts)",
         ReceiptRows.sql.replacingOccurrences(of: "$1", with: someMessages), "message_receipts_pkey"),
        ("reaction summaries of a page (ReactionService.summaries)",
         ReactionSummaries.sql.replacingOccurrences(of: "$2", with: someMessages).replacingOccurrences(of: "$1", with: viewer),
         "message_reactions_pkey"),
        ("search by words, someone in few conversations (SearchService.search)", """
            SELECT \(messageColumns) FROM messages m
            JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(viewer)
            WHERE m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
              AND m.kind = 'USER' AND m.deleted_at IS NULL AND m.search_tokens @> \(tokens)
            ORDER BY m.created_at DESC, m.id DESC LIMIT 21
            """, "messages_search_idx|messages_seq"),
        ("search by words, someone in many conversations (SearchService.search)", """
            SELECT \(messageColumns) FROM messages m
            JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(heavy)
            WHERE m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
              AND m.kind = 'USER' AND m.deleted_at IS NULL AND m.search_tokens @> \(tokens)
            ORDER BY m.created_at DESC, m.id DESC LIMIT 21
            """, "messages_search_idx"),
        ("search by sender (SearchService.search)", """
            SELECT \(messageColumns) FROM messages m
            JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(viewer)
            WHERE m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
              AND m.kind = 'USER' AND m.deleted_at IS NULL AND m.sender_id = '00000000-0000-4000-8000-000000000009'::uuid
            ORDER BY m.created_at DESC, m.id DESC LIMIT 21
            """, "messages_sender_idx"),
        ("search in a conversation over dates (SearchService.search)", """
            SELECT \(messageColumns) FROM messages m
            JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(viewer)
            WHERE m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
              AND m.kind = 'USER' AND m.deleted_at IS NULL AND m.conversation_id = \(conversation)
              AND m.created_at >= now() - interval '29 days 23 hours' AND m.created_at < now() - interval '29 days 22 hours'
            ORDER BY m.created_at DESC, m.id DESC LIMIT 21
            """, "messages_conversation_created_idx|messages_seq"),
        ("idempotent retry lookup (MessageService.existing)", """
            SELECT \(messageColumns) FROM messages m
            WHERE m.sender_id = '00000000-0000-4000-8000-000000000009'::uuid AND m.client_message_id = 'client-x'
            """, "messages_client_message_key"),
        ("my activity (ActivityReader.entries)", """
            SELECT id, at, actor_id, kind, target_user_id, conversation_id, details::text FROM activity_log
            WHERE true AND actor_id = \(viewer) ORDER BY id DESC LIMIT 21
            """, "activity_log_actor_idx"),
    ]

    /// Every node of a plan, depth first.
    private static func nodes(_ plan: [String: Any]) -> [[String: Any]] {
        [plan] + (plan["Plans"] as? [[String: Any]] ?? []).flatMap(nodes)
    }

    func testMainQueriesUseTheirIndexes() async throws {
        try await withGateway { gw in
            do {
                // One statement per blank-line-separated block: the extended protocol takes one at a time.
                for statement in Self.fill.components(separatedBy: "\n\n") { try await gw.harness.execute(statement) }
            } catch {
                XCTFail("filling the database failed: \(String(reflecting: error))")
                throw error
            }
            let counts = try await gw.harness.column(
                "SELECT (SELECT count(*) FROM messages) || '/' || (SELECT count(*) FROM message_receipts)")
            XCTAssertEqual(counts, ["80000/142400"], "the fill produced the intended volume")
            for query in Self.queries {
                let text: [String?]
                do {
                    text = try await gw.harness.column("SELECT explain_json($q$\(query.sql)$q$)")
                } catch {
                    XCTFail("\(query.name): \(String(reflecting: error))")
                    continue
                }
                let json = try XCTUnwrap(text.first ?? nil, query.name)
                let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
                let root = try XCTUnwrap(parsed?.first?["Plan"] as? [String: Any], "\(query.name): \(json)")
                let all = Self.nodes(root)
                let indexes = Set(all.compactMap { $0["Index Name"] as? String })
                let expected = Set(query.index.split(separator: "|").map(String.init))
                XCTAssertFalse(indexes.isDisjoint(with: expected), "\(query.name) should use \(query.index); plan uses \(indexes.sorted()):\n\(json)")
                let big = ["messages", "message_receipts", "message_reactions", "activity_log"]
                let scanned = all.filter { $0["Node Type"] as? String == "Seq Scan" }.compactMap { $0["Relation Name"] as? String }
                XCTAssertTrue(Set(scanned).isDisjoint(with: big), "\(query.name) reads a whole table: \(scanned)\n\(json)")
            }
        }
    }
}
