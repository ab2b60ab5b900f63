import Foundation
import Logging
import PostgresNIO

/// Groups and their roles. Every change is one transaction that also writes the system message
/// members see and the activity-log entry operators see.
public struct GroupService: Sendable {
    let core: MessagingCore

    public init(core: MessagingCore) { self.core = core }

    static func validTitle(_ raw: String) throws(DomainError) -> String {
        let title = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        // PostgreSQL's char_length counts code points, which an emoji may have several of.
        guard (1...100).contains(title.count), title.unicodeScalars.count <= 100 else {
            throw .badUserInput("title must be 1 to 100 characters", field: "title")
        }
        guard !title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badUserInput("title must not contain control characters", field: "title")
        }
        return title
    }

    private func requireUsersExist(_ ids: [UUID], on connection: PostgresConnection) async throws {
        var found = Set<UUID>()
        for try await id in try await connection.query("SELECT id FROM users WHERE id = ANY(\(ids))", logger: core.logger).decode(UUID.self) {
            found.insert(id)
        }
        guard found.count == Set(ids).count else { throw DomainError.notFound("User not found") }
    }

    public func create(title raw: String, memberIds: [UUID], viewer: Viewer) async throws -> UUID {
        let title = try Self.validTitle(raw)
        var others: [UUID] = []
        for id in memberIds where id != viewer.userId && !others.contains(id) { others.append(id) }
        guard others.count + 1 <= core.limits.maxGroupMembers else {
            throw DomainError.badUserInput("A group has at most \(core.limits.maxGroupMembers) members", field: "memberIds")
        }
        let core = self.core
        let (id, appended) = try await core.db.transaction(logger: core.logger) { connection in
            try await requireUsersExist(others, on: connection)
            let id = UUID()
            try await connection.query("""
                INSERT INTO conversations (id, kind, title, created_by) VALUES (\(id), 'GROUP', \(title), \(viewer.userId))
                """, logger: core.logger)
            try await connection.query("""
                INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq)
                SELECT \(id), u, CASE WHEN u = \(viewer.userId) THEN 'OWNER' ELSE 'MEMBER' END, 0
                FROM unnest(\([viewer.userId] + others)::uuid[]) AS u
                """, logger: core.logger)
            let appended = try await core.appendSystemMessage(id, event: SystemEvent(
                type: "GROUP_CREATED", actorId: viewer.userId, userIds: others, title: title, role: nil), on: connection)
            try await core.activity.append(.groupCreated, actor: viewer.userId, conversation: id,
                                           details: ["members": String(others.count + 1)], on: connection)
            return (id, appended)
        }
        core.announce(id, appended: [appended], affected: [viewer.userId] + others)
        return id
    }

    public func update(conversationId: UUID, title raw: String?, viewer: Viewer) async throws {
        guard let raw else { return }
        let title = try Self.validTitle(raw)
        let core = self.core
        let appended = try await core.db.transaction(logger: core.logger) { connection in
            _ = try await manager(conversationId, viewer, on: connection)
            try await connection.query("UPDATE conversations SET title = \(title) WHERE id = \(conversationId)", logger: core.logger)
            let appended = try await core.appendSystemMessage(conversationId, event: SystemEvent(
                type: "TITLE_CHANGED", actorId: viewer.userId, userIds: [], title: title, role: nil), on: connection)
            try await core.activity.append(.groupUpdated, actor: viewer.userId, conversation: conversationId, on: connection)
            return appended
        }
        core.announce(conversationId, appended: [appended], affected: [])
    }

    public func addMembers(conversationId: UUID, userIds: [UUID], viewer: Viewer) async throws {
        let wanted = Array(Set(userIds))
        guard !wanted.isEmpty else { throw DomainError.badUserInput("userIds is empty", field: "userIds") }
        let core = self.core
        let (appended, added): ([MessagingCore.Appended], [UUID]) = try await core.db.transaction(logger: core.logger) { connection in
            _ = try await manager(conversationId, viewer, on: connection)
            try await requireUsersExist(wanted, on: connection)
            let current = Set(try await core.activeMemberIds(conversationId, on: connection))
            let added = wanted.filter { !current.contains($0) }
            guard !added.isEmpty else { return ([], []) }
            guard current.count + added.count <= core.limits.maxGroupMembers else {
                throw DomainError.badUserInput("A group has at most \(core.limits.maxGroupMembers) members", field: "userIds")
            }
            let appended = try await core.appendSystemMessage(conversationId, event: SystemEvent(
                type: "MEMBERS_ADDED", actorId: viewer.userId, userIds: added, title: nil, role: nil), on: connection)
            let seq = appended.seq
            // New members read from the message announcing them; someone re-added starts afresh.
            try await connection.query("""
                INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq)
                SELECT \(conversationId), u, 'MEMBER', \(seq - 1) FROM unnest(\(added)::uuid[]) AS u
                ON CONFLICT (conversation_id, user_id) DO UPDATE
                SET role = 'MEMBER', joined_seq = EXCLUDED.joined_seq, joined_at = clock_timestamp(), left_at = NULL, left_seq = NULL
                """, logger: core.logger)
            for user in added {
                try await core.activity.append(.membersAdded, actor: viewer.userId, target: user, conversation: conversationId, on: connection)
            }
            return ([appended], added)
        }
        core.announce(conversationId, appended: appended, affected: added)
    }

    public func removeMember(conversationId: UUID, userId: UUID, viewer: Viewer) async throws {
        guard userId != viewer.userId else { throw DomainError.badUserInput("Use leaveGroup to leave a group", field: "userId") }
        let core = self.core
        let appended = try await core.db.transaction(logger: core.logger) { connection in
            let me = try await manager(conversationId, viewer, on: connection)
            let target = try await core.membership(conversationId, userId, on: connection)
            guard target.isActive else { throw DomainError.notFound("That person is not a member") }
            if target.role == .owner { throw DomainError.forbidden("The owner cannot be removed") }
            if target.role == .admin, me.role != .owner { throw DomainError.forbidden("Only the owner can remove an admin") }
            let appended = try await core.appendSystemMessage(conversationId, event: SystemEvent(
                type: "MEMBER_REMOVED", actorId: viewer.userId, userIds: [userId], title: nil, role: nil), on: connection)
            try await markLeft(conversationId, userId, seq: appended.seq, on: connection)
            try await core.activity.append(.memberRemoved, actor: viewer.userId, target: userId, conversation: conversationId, on: connection)
            return appended
        }
        core.announce(conversationId, appended: [appended], affected: [userId])
    }

    /// Only the owner grants roles. Making someone OWNER hands ownership over: the previous owner
    /// becomes an admin, so a group always has exactly one owner.
    public func setRole(conversationId: UUID, userId: UUID, role: MemberRole, viewer: Viewer) async throws {
        let core = self.core
        let appended: [MessagingCore.Appended] = try await core.db.transaction(logger: core.logger) { connection in
            let me = try await manager(conversationId, viewer, on: connection)
            guard me.role == .owner else { throw DomainError.forbidden("Only the owner can change roles") }
            guard userId != viewer.userId else { throw DomainError.badUserInput("Hand ownership to someone else instead", field: "userId") }
            let target = try await core.membership(conversationId, userId, on: connection)
            guard target.isActive else { throw DomainError.notFound("That person is not a member") }
            guard target.role != role else { return [] }
            if role == .owner {
                try await setRoleRow(conversationId, viewer.userId, .admin, on: connection)
            }
            try await setRoleRow(conversationId, userId, role, on: connection)
            let appended = try await core.appendSystemMessage(conversationId, event: SystemEvent(
                type: "ROLE_CHANGED", actorId: viewer.userId, userIds: [userId], title: nil, role: role.rawValue), on: connection)
            try await core.activity.append(.roleChanged, actor: viewer.userId, target: userId, conversation: conversationId,
                                           details: ["role": role.rawValue], on: connection)
            return [appended]
        }
        core.announce(conversationId, appended: appended, affected: [])
    }

    /// The last owner leaving hands ownership to the oldest admin, else the oldest member.
    public func leave(conversationId: UUID, viewer: Viewer) async throws {
        let core = self.core
        let appended: [MessagingCore.Appended] = try await core.db.transaction(logger: core.logger) { connection in
            let me = try await core.activeMembership(conversationId, viewer.userId, on: connection, lock: true)
            guard me.kind == .group else { throw DomainError.badUserInput("Only groups can be left", field: "conversationId") }
            var appended = [try await core.appendSystemMessage(conversationId, event: SystemEvent(
                type: "MEMBER_LEFT", actorId: viewer.userId, userIds: [viewer.userId], title: nil, role: nil), on: connection)]
            try await markLeft(conversationId, viewer.userId, seq: appended[0].seq, on: connection)
            if me.role == .owner {
                var heir: UUID?
                for try await id in try await connection.query("""
                    SELECT user_id FROM conversation_members WHERE conversation_id = \(conversationId) AND left_at IS NULL
                    ORDER BY (role = 'ADMIN') DESC, joined_at, user_id LIMIT 1
                    """, logger: core.logger).decode(UUID.self)
                {
                    heir = id
                }
                if let heir {
                    try await setRoleRow(conversationId, heir, .owner, on: connection)
                    appended.append(try await core.appendSystemMessage(conversationId, event: SystemEvent(
                        type: "ROLE_CHANGED", actorId: nil, userIds: [heir], title: nil, role: MemberRole.owner.rawValue), on: connection))
                    try await core.activity.append(.roleChanged, actor: viewer.userId, target: heir, conversation: conversationId,
                                                   details: ["role": "OWNER", "reason": "owner left"], on: connection)
                }
            }
            try await core.activity.append(.memberLeft, actor: viewer.userId, conversation: conversationId, on: connection)
            return appended
        }
        core.announce(conversationId, appended: appended, affected: [viewer.userId])
    }

    // MARK: Helpers

    /// An active owner or admin of a group, with the conversation row locked so that concurrent
    /// changes to one group apply one after the other.
    private func manager(_ conversationId: UUID, _ viewer: Viewer, on connection: PostgresConnection) async throws -> MessagingCore.Membership {
        let me = try await core.activeMembership(conversationId, viewer.userId, on: connection, lock: true)
        guard me.kind == .group else { throw DomainError.badUserInput("This is not a group", field: "conversationId") }
        guard me.role.canManageMembers else { throw DomainError.forbidden("Only the owner or an admin can do this") }
        return me
    }

    private func setRoleRow(_ conversationId: UUID, _ userId: UUID, _ role: MemberRole, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE conversation_members SET role = \(role.rawValue) WHERE conversation_id = \(conversationId) AND user_id = \(userId)
            """, logger: core.logger)
    }

    /// The person keeps the messages up to and including the one announcing their departure.
    private func markLeft(_ conversationId: UUID, _ userId: UUID, seq: Int64, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE conversation_members SET left_at = clock_timestamp(), left_seq = \(seq)
            WHERE conversation_id = \(conversationId) AND user_id = \(userId)
            """, logger: core.logger)
    }
}
