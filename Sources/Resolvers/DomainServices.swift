import Logging
import PostgresNIO

/// Every domain service, built once by the gateway and handed to each door.
public struct DomainServices: Sendable {
    public let auth: AuthService
    public let users: UserService

    public init(auth: AuthService, users: UserService) {
        self.auth = auth
        self.users = users
    }
}
