import Crypto
import Foundation
import Logging
import PostgresNIO

/// Sign-in by phone and one-time code, sessions, and refresh-token rotation.
public struct AuthService: Sendable {
    let db: DatabasePool
    let logger: Logger
    let sender: any OTPSender
    let issuer: any AccessTokenIssuer
    let codeKey: SymmetricKey
    let policy: AuthPolicy
    let activity: ActivityLog
    let sessions: SessionCache?

    public init(
        db: DatabasePool, logger: Logger, sender: any OTPSender, issuer: any AccessTokenIssuer,
        codeKey: SymmetricKey, policy: AuthPolicy, sessions: SessionCache? = nil
    ) {
        self.sessions = sessions
        self.db = db
        self.logger = logger
        self.sender = sender
        self.issuer = issuer
        self.codeKey = codeKey
        self.policy = policy
        self.activity = ActivityLog(logger: logger)
    }

    public func normalise(phone raw: String) throws(DomainError) -> PhoneNumber {
        try PhoneNumber(parsing: raw, defaultCountryCallingCode: policy.defaultCountryCallingCode)
    }

    public func isRegistered(phone: PhoneNumber) async throws -> Bool {
        let rows = try await db.query("SELECT 1 FROM users WHERE phone = \(phone.e164)", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    // MARK: Codes

    public func requestOTP(phone raw: String, ip: String?) async throws -> OTPChallengeInfo {
        let phone = try normalise(phone: raw).e164
        let code = Secrets.sixDigitCode()
        let digest = Secrets.codeDigest(code: code, phone: phone, key: codeKey)
        let policy = self.policy
        let logger = self.logger

        let (challengeId, expiresAt) = try await db.transaction(logger: logger) { connection in
            // Serialises requests for one phone so the limits below cannot be raced past.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(phone)))", logger: logger)
            let stats = try await connection.query("""
                SELECT
                  (SELECT EXTRACT(EPOCH FROM now() - max(created_at))::float8 FROM otp_challenges WHERE phone = \(phone)),
                  (SELECT count(*) FROM otp_challenges WHERE phone = \(phone) AND created_at > now() - interval '1 hour'),
                  (SELECT EXTRACT(EPOCH FROM min(created_at) + interval '1 hour' - now())::float8 FROM otp_challenges WHERE phone = \(phone) AND created_at > now() - interval '1 hour'),
                  (SELECT count(*) FROM otp_challenges WHERE requested_ip = \(ip) AND created_at > now() - interval '1 hour'),
                  (SELECT EXTRACT(EPOCH FROM min(created_at) + interval '1 hour' - now())::float8 FROM otp_challenges WHERE requested_ip = \(ip) AND created_at > now() - interval '1 hour')
                """, logger: logger)
            for try await (sinceLast, phoneCount, phoneWindow, ipCount, ipWindow) in stats.decode(
                (Double?, Int, Double?, Int, Double?).self)
            {
                if let sinceLast, sinceLast < Double(policy.resendCooldownSeconds) {
                    throw DomainError.rateLimited(
                        "A code was just sent to this phone; wait before asking again",
                        retryAfterSeconds: max(1, Int((Double(policy.resendCooldownSeconds) - sinceLast).rounded(.up))))
                }
                if phoneCount >= policy.maxCodesPerPhonePerHour {
                    throw DomainError.rateLimited(
                        "Too many codes requested for this phone", retryAfterSeconds: max(1, Int((phoneWindow ?? 3600).rounded(.up))))
                }
                if ip != nil, ipCount >= policy.maxCodesPerIPPerHour {
                    throw DomainError.rateLimited(
                        "Too many codes requested from this address", retryAfterSeconds: max(1, Int((ipWindow ?? 3600).rounded(.up))))
                }
            }
            let inserted = try await connection.query("""
                INSERT INTO otp_challenges (phone, code_hash, requested_ip, expires_at)
                VALUES (\(phone), \(digest), \(ip), now() + make_interval(secs => \(policy.codeLifetimeSeconds)))
                RETURNING id, expires_at
                """, logger: logger)
            for try await row in inserted.decode((UUID, Date).self) { return row }
            throw DomainError.internal("challenge insert returned nothing")
        }

        do {
            try await sender.send(code: code, to: phone, expiresInMinutes: max(1, policy.codeLifetimeSeconds / 60))
        } catch {
            // An undelivered code must not spend the person's cooldown or hourly allowance.
            _ = try? await db.query("DELETE FROM otp_challenges WHERE id = \(challengeId)", logger: logger)
            if let domain = error as? DomainError { throw domain }
            throw DomainError.upstream("SMS provider failed")
        }
        // The new code supersedes the earlier ones once it was sent, not before: a code that
        // could not be sent leaves the earlier one usable. (Only the latest code is ever checked,
        // so a failure here changes nothing a person sees.)
        _ = try? await db.query("""
            UPDATE otp_challenges SET consumed_at = now()
            WHERE phone = \(phone) AND consumed_at IS NULL AND id <> \(challengeId)
              AND created_at < (SELECT created_at FROM otp_challenges WHERE id = \(challengeId))
            """, logger: logger)
        return OTPChallengeInfo(phone: phone, expiresAt: expiresAt, retryAfterSeconds: policy.resendCooldownSeconds)
    }

    private enum CodeCheck: Sendable {
        case accepted(User, isNew: Bool, sessionId: UUID, refreshToken: String)
        case refused(DomainError)
    }

    public func verifyOTP(
        phone raw: String, code: String, displayName: String?, ip: String?, userAgent: String?
    ) async throws -> AuthResult {
        let phone = try normalise(phone: raw).e164
        let code = code.trimmingCharacters(in: .whitespaces)
        guard code.count == 6, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw DomainError.badUserInput("The code must be 6 digits", field: "code")
        }
        let name = try displayName.map { try UserService.validDisplayName($0) }
        let digest = Secrets.codeDigest(code: code, phone: phone, key: codeKey)
        let (policy, logger, activity) = (self.policy, self.logger, self.activity)

        let outcome: CodeCheck = try await db.transaction(logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT id, code_hash, expires_at < now(), attempts, consumed_at IS NOT NULL,
                       EXTRACT(EPOCH FROM created_at + make_interval(secs => \(policy.resendCooldownSeconds)) - now())::float8
                FROM otp_challenges WHERE phone = \(phone) ORDER BY created_at DESC LIMIT 1 FOR UPDATE
                """, logger: logger)
            var found: (UUID, Data, Bool, Int, Bool, Double)?
            for try await row in rows.decode((UUID, Data, Bool, Int, Bool, Double).self) { found = row }
            guard let (id, stored, expired, attempts, consumed, cooldownLeft) = found, !consumed else {
                return .refused(.badUserInput("No active code for this phone; request a new one", field: "code"))
            }
            if attempts >= policy.maxWrongAttempts {
                return .refused(.rateLimited(
                    "Too many wrong codes; request a new one", retryAfterSeconds: max(0, Int(cooldownLeft.rounded(.up)))))
            }
            if expired {
                return .refused(.badUserInput("The code has expired; request a new one", field: "code"))
            }
            guard Secrets.constantTimeEqual(stored, digest) else {
                try await connection.query(
                    "UPDATE otp_challenges SET attempts = attempts + 1 WHERE id = \(id)", logger: logger)
                let left = policy.maxWrongAttempts - attempts - 1
                return .refused(left > 0
                    ? .badUserInput("Wrong code (\(left) tries left)", field: "code")
                    : .rateLimited("Wrong code; this code is now locked, request a new one",
                                   retryAfterSeconds: max(0, Int(cooldownLeft.rounded(.up)))))
            }
            try await connection.query("UPDATE otp_challenges SET consumed_at = now() WHERE id = \(id)", logger: logger)

            var user: User?
            var isNew = false
            for try await row in try await connection.query("""
                INSERT INTO users (phone, display_name) VALUES (\(phone), \(name))
                ON CONFLICT (phone) DO NOTHING RETURNING \(unescaped: User.columns)
                """, logger: logger)
            {
                user = try User(row: row)
                isNew = true
            }
            if user == nil {
                for try await row in try await connection.query(
                    "SELECT \(unescaped: User.columns) FROM users WHERE phone = \(phone)", logger: logger)
                {
                    user = try User(row: row)
                }
            }
            guard let user else { throw DomainError.internal("user vanished during sign-in") }
            let (sessionId, refreshToken) = try await Self.openSession(
                userId: user.id, ip: ip, userAgent: userAgent, policy: policy, on: connection, logger: logger)
            try await activity.append(isNew ? .signUp : .signIn, actor: user.id, details: ["session": sessionId.uuidString], on: connection)
            return .accepted(user, isNew: isNew, sessionId: sessionId, refreshToken: refreshToken)
        }

        switch outcome {
        case .refused(let error):
            throw error
        case .accepted(let user, let isNew, let sessionId, let refreshToken):
            let access = try await issuer.issue(userId: user.id, sessionId: sessionId)
            return AuthResult(
                accessToken: access.token, refreshToken: refreshToken, accessTokenExpiresAt: access.expiresAt,
                user: user, isNewUser: isNew)
        }
    }

    private static func openSession(
        userId: UUID, ip: String?, userAgent: String?, policy: AuthPolicy, on connection: PostgresConnection, logger: Logger
    ) async throws -> (UUID, String) {
        var sessionId: UUID?
        for try await id in try await connection.query("""
            INSERT INTO sessions (user_id, expires_at, ip, user_agent)
            VALUES (\(userId), now() + make_interval(secs => \(policy.refreshLifetimeSeconds)), \(ip), \(userAgent.map { String($0.prefix(256)) }))
            RETURNING id
            """, logger: logger).decode(UUID.self)
        {
            sessionId = id
        }
        guard let sessionId else { throw DomainError.internal("session insert returned nothing") }
        let token = try await issueRefreshToken(sessionId: sessionId, policy: policy, on: connection, logger: logger)
        return (sessionId, token)
    }

    private static func issueRefreshToken(
        sessionId: UUID, policy: AuthPolicy, on connection: PostgresConnection, logger: Logger
    ) async throws -> String {
        let token = Secrets.opaqueToken()
        try await connection.query("""
            INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
            VALUES (\(Secrets.sha256(token)), \(sessionId), now() + make_interval(secs => \(policy.refreshLifetimeSeconds)))
            """, logger: logger)
        return token
    }

    // MARK: Sessions

    private enum RefreshCheck: Sendable {
        case rotated(userId: UUID, sessionId: UUID, token: String)
        case refused(DomainError)
    }

    /// Rotation: each refresh token works once. Presenting a spent one means it was copied, so the
    /// whole session (every token descended from the same sign-in) is revoked.
    public func refresh(token: String) async throws -> AuthResult {
        let hash = Secrets.sha256(token)
        let (policy, logger, activity) = (self.policy, self.logger, self.activity)
        let outcome: RefreshCheck = try await db.transaction(logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT s.id, s.user_id, rt.used_at IS NOT NULL, rt.expires_at < now() OR s.expires_at < now(), s.revoked_at IS NOT NULL
                FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
                WHERE rt.token_hash = \(hash) FOR UPDATE OF rt, s
                """, logger: logger)
            var found: (UUID, UUID, Bool, Bool, Bool)?
            for try await row in rows.decode((UUID, UUID, Bool, Bool, Bool).self) { found = row }
            guard let (sessionId, userId, used, expired, revoked) = found else {
                return .refused(.unauthenticated("Invalid refresh token"))
            }
            if revoked { return .refused(.unauthenticated("This session has been signed out")) }
            if used {
                try await connection.query("""
                    UPDATE sessions SET revoked_at = now(), revoked_reason = 'refresh_token_reuse' WHERE id = \(sessionId)
                    """, logger: logger)
                try await activity.append(.refreshReuse, actor: userId, details: ["session": sessionId.uuidString], on: connection)
                return .refused(.unauthenticated("Refresh token already used; the session has been revoked"))
            }
            if expired { return .refused(.unauthenticated("Refresh token expired")) }
            try await connection.query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = \(hash)", logger: logger)
            try await connection.query("UPDATE sessions SET last_used_at = now() WHERE id = \(sessionId)", logger: logger)
            let next = try await Self.issueRefreshToken(sessionId: sessionId, policy: policy, on: connection, logger: logger)
            return .rotated(userId: userId, sessionId: sessionId, token: next)
        }
        switch outcome {
        case .refused(let error):
            throw error
        case .rotated(let userId, let sessionId, let next):
            let user = try await UserService(db: db, logger: logger).requireUser(id: userId)
            let access = try await issuer.issue(userId: userId, sessionId: sessionId)
            return AuthResult(
                accessToken: access.token, refreshToken: next, accessTokenExpiresAt: access.expiresAt,
                user: user, isNewUser: false)
        }
    }

    public func logout(viewer: Viewer) async throws {
        let (logger, activity) = (self.logger, self.activity)
        try await db.transaction(logger: logger) { connection in
            try await connection.query("""
                UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'
                WHERE id = \(viewer.sessionId) AND revoked_at IS NULL
                """, logger: logger)
            try await activity.append(.signOut, actor: viewer.userId, details: ["session": viewer.sessionId.uuidString], on: connection)
        }
        // At once here; other gateways when the trigger's notice reaches them.
        sessions?.forget(session: viewer.sessionId)
    }

    /// Called for every authenticated request: a revoked session stops working at once, even
    /// though its access token has not expired yet.
    public func authenticate(userId: UUID, sessionId: UUID) async throws -> Viewer {
        let lookup = sessions?.lookup(sessionId: sessionId, userId: userId) ?? .off
        if case .valid(let viewer) = lookup { return viewer }
        let rows = try await db.execute(SessionCheck(sessionId: sessionId, userId: userId), logger: logger)
        for try await (isOperator, expiresAt) in rows.decode((Bool, Date).self) {
            let viewer = Viewer(userId: userId, sessionId: sessionId, isOperator: isOperator)
            if case .check(let ticket) = lookup { sessions?.remember(viewer, expiresAt: expiresAt, ticket: ticket) }
            return viewer
        }
        throw DomainError.unauthenticated("Session expired or signed out")
    }
}

/// The session check of every authenticated request, prepared once per connection.
struct SessionCheck: FixedQuery {
    static let sql = text(of: SessionCheck(sessionId: UUID(), userId: UUID()))
    let sessionId: UUID
    let userId: UUID

    var query: PostgresQuery {
        """
        SELECT u.is_operator, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = \(sessionId) AND s.user_id = \(userId) AND s.revoked_at IS NULL AND s.expires_at > now()
        """
    }
}
