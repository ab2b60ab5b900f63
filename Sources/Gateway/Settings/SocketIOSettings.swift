import Compat

/// Settings of the Socket.IO door; the defaults are the reference server's.
struct SocketIOSettings: Sendable {
    var configuration = SocketIOConfiguration()
    var maxConnectionsPerUser = 10
    /// How often a connection re-checks that its session was not revoked.
    var sessionCheckInterval: Duration = .seconds(30)

    init() {}

    init(_ reader: Reader) throws(SettingsError) {
        if let ms = try reader.int("SOCKETIO_PING_INTERVAL_MS", in: 50...600_000) { configuration.engine.pingInterval = .milliseconds(ms) }
        if let ms = try reader.int("SOCKETIO_PING_TIMEOUT_MS", in: 50...600_000) { configuration.engine.pingTimeout = .milliseconds(ms) }
        configuration.engine.maxPayload = try reader.int("SOCKETIO_MAX_PAYLOAD_BYTES", in: 1024...(64 << 20)) ?? configuration.engine.maxPayload
        if let ms = try reader.int("SOCKETIO_CONNECT_TIMEOUT_MS", in: 100...600_000) { configuration.connectTimeout = .milliseconds(ms) }
        maxConnectionsPerUser = try reader.int("SOCKETIO_MAX_CONNECTIONS_PER_USER", in: 1...1000) ?? maxConnectionsPerUser
        if let ms = try reader.int("SOCKETIO_SESSION_CHECK_MS", in: 100...3_600_000) { sessionCheckInterval = .milliseconds(ms) }
        configuration.engine.maxSessions = try reader.int("SOCKETIO_MAX_SESSIONS", in: 1...1_000_000) ?? configuration.engine.maxSessions
    }
}
