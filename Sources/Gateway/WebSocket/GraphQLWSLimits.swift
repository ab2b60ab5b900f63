import Foundation

/// Limits of GraphQL over WebSocket; each is a setting (see `Settings`).
struct GraphQLWSLimits: Sendable, Equatable {
    /// Sockets one person may hold at once on one gateway process.
    var maxConnectionsPerUser = 16
    /// Operations running at once on one socket.
    var maxOperationsPerConnection = 64
    /// Largest client message; a larger one closes the socket (1009).
    var maxMessageBytes = 256 * 1024
    /// Time allowed between the upgrade and `connection_init` (4408 after it).
    var initTimeout: Duration = .seconds(10)
    /// Frames waiting for a slow socket; one more closes it (1013) so that it reconnects and catches up.
    var outgoingBuffer = 512
    /// The same bound in bytes, for fat results.
    var outgoingBufferBytes = 8 << 20
    /// Longest a write may wait for a socket that does not read before it is closed (1013).
    var writeTimeout: Duration = .seconds(30)
    /// How often a connection re-checks that its session was not revoked (closing with 4403).
    var sessionCheckInterval: Duration = .seconds(30)
    /// Legacy `ka` keep-alive period.
    var keepAliveInterval: Duration = .seconds(12)
    /// graphql-transport-ws `ping` period; a ping still unanswered at the next one closes the socket (1001).
    var pingInterval: Duration = .seconds(30)
    /// After the server's close frame, how long the client has to answer before the socket is dropped.
    var closeGrace: Duration = .seconds(5)
}
