/// The one error type the domain throws. Each door (GraphQL, REST, Socket.IO) maps it to its own
/// wire form at the edge, so a rule is refused the same way everywhere.
public enum DomainError: Error, Sendable, Equatable {
    case unauthenticated(String)
    case forbidden(String)
    case notFound(String)
    case badUserInput(String, field: String? = nil)
    case rateLimited(String, retryAfterSeconds: Int)
    case conflict(String)
    /// A service we depend on (SMS provider, push provider) answered badly; the message is safe to show.
    case upstream(String)
    /// Anything unexpected; the message is for logs only, clients see a generic text.
    case `internal`(String)

    /// The contract's `extensions.code`.
    public var code: String {
        switch self {
        case .unauthenticated: "UNAUTHENTICATED"
        case .forbidden: "FORBIDDEN"
        case .notFound: "NOT_FOUND"
        case .badUserInput: "BAD_USER_INPUT"
        case .rateLimited: "RATE_LIMITED"
        case .conflict: "CONFLICT"
        case .upstream, .internal: "INTERNAL"
        }
    }

    /// Text that may be shown to a client: never internals.
    public var publicMessage: String {
        switch self {
        case .unauthenticated(let m), .forbidden(let m), .notFound(let m), .conflict(let m), .upstream(let m):
            m
        case .badUserInput(let m, _):
            m
        case .rateLimited(let m, _):
            m
        case .internal:
            "Internal server error"
        }
    }
}
