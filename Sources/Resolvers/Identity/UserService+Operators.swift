import Foundation
import PostgresNIO

extension UserService {
    /// Makes someone an operator (or no longer one) from the command line, where nobody signed
    /// in: the log records the change with no actor.
    public func setOperator(phone: PhoneNumber, _ granted: Bool) async throws -> User {
        let logger = self.logger
        return try await db.transaction(logger: logger) { connection in
            let rows = try await connection.query(
                "UPDATE users SET is_operator = \(granted) WHERE phone = \(phone.e164) RETURNING \(unescaped: User.columns)", logger: logger)
            var updated: User?
            for try await row in rows { updated = try User(row: row) }
            guard let updated else { throw DomainError.notFound("No account with the phone number \(phone.e164)") }
            try await ActivityLog(logger: logger).append(
                granted ? .operatorGranted : .operatorRevoked, actor: nil, target: updated.id, on: connection)
            return updated
        }
    }
}
