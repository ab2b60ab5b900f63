import Foundation
import NIOConcurrencyHelpers
import Resolvers

/// What every resolver of one GraphQL operation shares: the services, who is asking, and the
/// per-operation loaders that batch database reads.
public final class OperationContext: Sendable {
    public let services: DomainServices
    public let viewer: Viewer?
    public let clientIP: String?
    public let userAgent: String?
    /// Why a presented token was refused, so the operations that need one say exactly that.
    public let authError: DomainError?
    /// Made on first use: most subscription events are executed once for many subscribers, on a
    /// context of their own, so a subscriber's fresh loaders per event were pure cost.
    private let loaderBox = NIOLockedValueBox<Loaders?>(nil)
    var loaders: Loaders {
        loaderBox.withLockedValue { current in
            if let current { return current }
            let made = Loaders(services: services, viewer: viewer)
            current = made
            return made
        }
    }

    public init(services: DomainServices, viewer: Viewer?, authError: DomainError? = nil, clientIP: String?, userAgent: String?) {
        self.services = services
        self.viewer = viewer
        self.authError = authError
        self.clientIP = clientIP
        self.userAgent = userAgent
    }

    private let signedIn = NIOLockedValueBox<UUID?>(nil)

    /// Sign-in operations return the person who just signed in; they may see their own details
    /// although the request carried no token.
    func recognise(_ userId: UUID) { signedIn.withLockedValue { $0 = userId } }

    /// Whether `userId` is the person making this request.
    func isSelf(_ userId: UUID) -> Bool { viewer?.userId == userId || signedIn.withLockedValue { $0 } == userId }

    private let source = NIOLockedValueBox<(any SubscriptionEvents)?>(nil)

    /// A subscription resolver leaves its source events here instead of handing them to
    /// GraphQLSwift (see `EventPull`); the gateway takes them once the subscribe step succeeded.
    func offer(_ events: any SubscriptionEvents) { source.withLockedValue { $0 = events } }

    public func takeSubscriptionSource() -> (any SubscriptionEvents)? {
        source.withLockedValue { value in
            defer { value = nil }
            return value
        }
    }

    /// A subscription runs its selection once per event; each event must read fresh data, not
    /// what the previous event cached.
    func freshLoaders() {
        loaderBox.withLockedValue { $0 = nil }
    }

    /// Everything but sign-in needs a viewer; this is the one place that says so.
    public func requireViewer() throws(DomainError) -> Viewer {
        if let authError { throw authError }
        guard let viewer else { throw .unauthenticated("Sign in first: this operation needs an access token") }
        return viewer
    }
}
