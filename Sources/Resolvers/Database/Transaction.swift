import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction`, but a domain error thrown inside comes out as itself: PostgresNIO wraps
    /// whatever the closure throws, and the doors must still see `DomainError`.
    func transaction<Result>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, isolation: isolation, body)
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw inner }
            throw error
        }
    }
}
