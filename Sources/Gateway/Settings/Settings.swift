import Foundation
import Logging
import NIOCore
import Resolvers

/// A setting that stops start-up. Its text names the setting and never echoes a secret value.
struct SettingsError: Error, CustomStringConvertible, Equatable {
    let name: String
    let reason: String
    var description: String { "invalid setting \(name): \(reason)" }
}

/// Every setting the gateway reads. Only the gateway reads configuration; everything else is
/// handed what it needs.
struct Settings: Sendable {
    enum Database: Sendable, Equatable {
        case external(DatabaseEndpoint)
        /// No database configured: a private cluster in the data folder.
        case embedded
    }

    enum OTPProvider: String, Sendable { case termii, console }

    var host = "127.0.0.1"
    var port = 4001
    var database = Database.embedded
    var dataDirectory = ".messagerie"
    var jwtSecret: String?
    var jwtES256KeyFile: String?
    var accessTokenLifetimeSeconds = 900
    /// Longest a session found valid is trusted without asking the database again; sign-outs and
    /// revocations reach the cache at once through LISTEN (`SessionCache`). 0 asks at every request.
    var sessionCacheSeconds = 60
    var otpProvider: OTPProvider = .console
    var termiiAPIKey: String?
    var termiiBaseURL = "https://api.ng.termii.com"
    var termiiSenderID = "Messagerie"
    var termiiChannel = "generic"
    var uploadsDirectory = "uploads"
    var compat = CompatSettings()
    var logLevel = Logger.Level.info
    var migrateOnStart = true
    var migrationsDirectory: String?
    var introspection = true
    var directExecution = true
    var maxQueryDepth = 12
    var maxQueryCost = 5000
    var maxRequestBytes = 1 << 20
    /// Bearer token scrapers present at `/metrics`; without it only loopback callers are answered.
    var metricsToken: String?
    /// How long `/readyz` reports draining before the server stops on SIGTERM.
    var drainDelay: Duration = .seconds(5)
    /// Connections the server accepts at once. A process out of file descriptors is not merely
    /// refusing sockets: libdispatch's worker monitor traps when it cannot open /proc, so the
    /// default keeps a reserve below the open-files limit for the database, uploads and logs.
    var maxConnections = Settings.connectionsWithinFileLimit()
    /// How long what the server sent may stay unacknowledged before the kernel drops the
    /// connection (TCP_USER_TIMEOUT); nil leaves the kernel's own, about 15 minutes of
    /// retransmissions. WebSocket keep-alives are protocol messages sent from `Deadlines` (no
    /// ping task per socket), and a legacy graphql-ws client answers none of them: its sent
    /// `ka` going unacknowledged is what finds a client that vanished (a phone out of coverage).
    var tcpUserTimeout: Duration? = .seconds(60)
    /// Connections this process keeps open to PostgreSQL; several gateways on one server share
    /// its `max_connections`.
    var databasePoolSize = 20
    /// SwiftNIO event loops (threads doing socket and database I/O) of a server process. The
    /// application's own work runs on Swift's global pool, one thread per core; with as many
    /// loops again, twice as many busy threads as cores took turns on them. Half the cores: on 2
    /// cores one loop carried a 1,000-member fan-out at 40 messages/s at 32.7-35.8k deliveries/s
    /// against 23.3-34.8k with two (five runs each, alternating; Benchmarks/).
    var eventLoops = max(1, System.coreCount / 2)
    var auth = AuthPolicy()
    /// `MESSAGE_KEYS` as given; parsed (and checked) at load so a bad value stops start-up.
    var messageKeys: String?
    var searchIndexKey: String?
    var messaging = MessagingLimits()
    var presence = PresencePolicy()
    var typingTimeoutSeconds = 6
    var push = PushSettings()
    var webSocket = GraphQLWSLimits()
    var webSocketCompression = WebSocketCompression()
    var socketIO = SocketIOSettings()

    static func load(environment: [String: String] = ProcessInfo.processInfo.environment, dotEnvPath: String = ".env")
        throws(SettingsError) -> Settings
    {
        try Settings(values: DotEnv.merged(environment: environment, file: dotEnvPath))
    }

    init() {}

    init(values env: [String: String]) throws(SettingsError) {
        var reader = Reader(values: env)
        host = reader.string("HOST") ?? host
        port = try reader.int("PORT", in: 0...65535) ?? port
        dataDirectory = reader.string("DATA_DIR") ?? dataDirectory
        database = try Self.database(&reader)
        jwtSecret = reader.string("JWT_SECRET")
        jwtES256KeyFile = reader.string("JWT_ES256_KEY_FILE")
        if let secret = jwtSecret, secret.utf8.count < 32 {
            throw SettingsError(name: "JWT_SECRET", reason: "must be at least 32 characters long")
        }
        if case .external = database, jwtSecret == nil, jwtES256KeyFile == nil {
            throw SettingsError(name: "JWT_SECRET", reason: "required when a database is configured (or set JWT_ES256_KEY_FILE)")
        }
        accessTokenLifetimeSeconds = try reader.int("ACCESS_TOKEN_TTL_SECONDS", in: 30...86400) ?? accessTokenLifetimeSeconds
        sessionCacheSeconds = try reader.int("SESSION_CACHE_SECONDS", in: 0...3600) ?? sessionCacheSeconds
        let providerDefault: OTPProvider = database == .embedded ? .console : .termii
        if let raw = reader.string("OTP_PROVIDER") {
            guard let provider = OTPProvider(rawValue: raw.lowercased()) else {
                throw SettingsError(name: "OTP_PROVIDER", reason: "must be termii or console")
            }
            otpProvider = provider
        } else {
            otpProvider = providerDefault
        }
        termiiAPIKey = reader.string("TERMII_API_KEY")
        termiiBaseURL = reader.string("TERMII_BASE_URL") ?? termiiBaseURL
        termiiSenderID = reader.string("TERMII_SENDER_ID") ?? termiiSenderID
        termiiChannel = reader.string("TERMII_CHANNEL") ?? termiiChannel
        if otpProvider == .termii {
            guard termiiAPIKey != nil else {
                throw SettingsError(name: "TERMII_API_KEY", reason: "required when OTP_PROVIDER is termii")
            }
            guard let url = URL(string: termiiBaseURL), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw SettingsError(name: "TERMII_BASE_URL", reason: "must be an http(s) URL")
            }
        }
        uploadsDirectory = reader.string("UPLOADS_DIR") ?? uploadsDirectory
        compat = try CompatSettings(reader)
        socketIO = try SocketIOSettings(reader)
        if let level = reader.string("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw SettingsError(name: "LOG_LEVEL", reason: "must be one of trace, debug, info, notice, warning, error, critical")
            }
            logLevel = parsed
        }
        migrateOnStart = try reader.bool("MIGRATE_ON_START") ?? migrateOnStart
        migrationsDirectory = reader.string("MIGRATIONS_DIR")
        introspection = try reader.bool("GRAPHQL_INTROSPECTION") ?? introspection
        directExecution = try reader.bool("GRAPHQL_DIRECT_EXECUTION") ?? directExecution
        maxQueryDepth = try reader.int("GRAPHQL_MAX_DEPTH", in: 2...100) ?? maxQueryDepth
        maxQueryCost = try reader.int("GRAPHQL_MAX_COST", in: 10...1_000_000) ?? maxQueryCost
        maxRequestBytes = try reader.int("MAX_REQUEST_BYTES", in: 1024...(64 << 20)) ?? maxRequestBytes
        metricsToken = reader.string("METRICS_TOKEN")
        if let ms = try reader.int("DRAIN_MS", in: 0...300_000) { drainDelay = .milliseconds(ms) }
        maxConnections = try reader.int("MAX_CONNECTIONS", in: 1...10_000_000) ?? maxConnections
        if let ms = try reader.int("TCP_USER_TIMEOUT_MS", in: 0...3_600_000) { tcpUserTimeout = ms == 0 ? nil : .milliseconds(ms) }
        databasePoolSize = try reader.int("DATABASE_POOL_SIZE", in: 1...1000) ?? databasePoolSize
        eventLoops = try reader.int("EVENT_LOOPS", in: 1...256) ?? eventLoops
        auth.codeLifetimeSeconds = try reader.int("OTP_TTL_SECONDS", in: 30...3600) ?? auth.codeLifetimeSeconds
        auth.maxWrongAttempts = try reader.int("OTP_MAX_ATTEMPTS", in: 1...20) ?? auth.maxWrongAttempts
        auth.resendCooldownSeconds = try reader.int("OTP_RESEND_COOLDOWN_SECONDS", in: 0...3600) ?? auth.resendCooldownSeconds
        auth.maxCodesPerPhonePerHour = try reader.int("OTP_MAX_PER_PHONE_PER_HOUR", in: 1...1000) ?? auth.maxCodesPerPhonePerHour
        auth.maxCodesPerIPPerHour = try reader.int("OTP_MAX_PER_IP_PER_HOUR", in: 1...100_000) ?? auth.maxCodesPerIPPerHour
        auth.refreshLifetimeSeconds = try reader.int("REFRESH_TOKEN_TTL_SECONDS", in: 3600...(400 * 86400)) ?? auth.refreshLifetimeSeconds
        messageKeys = reader.string("MESSAGE_KEYS")
        if let keys = messageKeys {
            do { _ = try MessageKeyring.parse(keys) } catch {
                throw SettingsError(name: "MESSAGE_KEYS", reason: "\(error)")
            }
        } else if case .external = database {
            throw SettingsError(name: "MESSAGE_KEYS", reason: "required when a database is configured (id:base64key entries; messagerie keys generate prints one)")
        }
        searchIndexKey = reader.string("SEARCH_INDEX_KEY")
        if let key = searchIndexKey, Data(base64Encoded: key)?.count != 32 {
            throw SettingsError(name: "SEARCH_INDEX_KEY", reason: "must be 32 bytes in base64")
        }
        messaging.maxTextLength = try reader.int("MESSAGE_MAX_LENGTH", in: 1...100_000) ?? messaging.maxTextLength
        messaging.maxGroupMembers = try reader.int("GROUP_MAX_MEMBERS", in: 2...100_000) ?? messaging.maxGroupMembers
        messaging.presenceGroupLimit = try reader.int("PRESENCE_MAX_GROUP_MEMBERS", in: 2...100_000) ?? messaging.presenceGroupLimit
        if let seconds = try reader.int("PRESENCE_AWAY_SECONDS", in: 5...86400) { presence.awayAfter = .seconds(seconds) }
        if let ms = try reader.int("PRESENCE_OFFLINE_GRACE_MS", in: 0...4500) { presence.offlineGrace = .milliseconds(ms) }
        typingTimeoutSeconds = try reader.int("TYPING_TIMEOUT_SECONDS", in: 1...60) ?? typingTimeoutSeconds
        push = try PushSettings(reader, awayAfter: presence.awayAfter)
        webSocket.maxConnectionsPerUser = try reader.int("WS_MAX_CONNECTIONS_PER_USER", in: 1...1000) ?? webSocket.maxConnectionsPerUser
        webSocket.maxOperationsPerConnection = try reader.int("WS_MAX_SUBSCRIPTIONS", in: 1...10_000) ?? webSocket.maxOperationsPerConnection
        webSocket.maxMessageBytes = try reader.int("WS_MAX_MESSAGE_BYTES", in: 1024...(16 << 20)) ?? webSocket.maxMessageBytes
        if let ms = try reader.int("WS_INIT_TIMEOUT_MS", in: 100...120_000) { webSocket.initTimeout = .milliseconds(ms) }
        webSocket.outgoingBuffer = try reader.int("WS_OUTGOING_BUFFER", in: 1...100_000) ?? webSocket.outgoingBuffer
        webSocket.outgoingBufferBytes = try reader.int("WS_OUTGOING_BUFFER_BYTES", in: 65536...(1 << 30)) ?? webSocket.outgoingBufferBytes
        if let ms = try reader.int("WS_WRITE_TIMEOUT_MS", in: 100...600_000) { webSocket.writeTimeout = .milliseconds(ms) }
        if let seconds = try reader.int("WS_SESSION_CHECK_SECONDS", in: 1...3600) { webSocket.sessionCheckInterval = .seconds(seconds) }
        if let seconds = try reader.int("WS_KEEPALIVE_SECONDS", in: 1...600) { webSocket.keepAliveInterval = .seconds(seconds) }
        if let seconds = try reader.int("WS_PING_SECONDS", in: 1...600) { webSocket.pingInterval = .seconds(seconds) }
        if let ms = try reader.int("WS_CLOSE_GRACE_MS", in: 100...120_000) { webSocket.closeGrace = .milliseconds(ms) }
        webSocketCompression.enabled = try reader.bool("WS_COMPRESSION") ?? webSocketCompression.enabled
        webSocketCompression.windowBits = try reader.int("WS_COMPRESSION_WINDOW_BITS", in: 9...15) ?? webSocketCompression.windowBits
        webSocketCompression.memoryLevel = try reader.int("WS_COMPRESSION_MEMORY_LEVEL", in: 1...9) ?? webSocketCompression.memoryLevel
        if let code = reader.string("DEFAULT_COUNTRY_CODE") {
            let digits = code.hasPrefix("+") ? String(code.dropFirst()) : code
            guard (1...3).contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  digits.first != "0"
            else {
                throw SettingsError(name: "DEFAULT_COUNTRY_CODE", reason: "must be a country calling code such as 234")
            }
            auth.defaultCountryCallingCode = digits
        }
    }

    /// `DATABASE_URL` wins; otherwise the original README's `DB_*` names; otherwise embedded.
    private static func database(_ reader: inout Reader) throws(SettingsError) -> Database {
        if let url = reader.string("DATABASE_URL") {
            guard let endpoint = DatabaseURL.parse(url) else {
                throw SettingsError(name: "DATABASE_URL", reason: "must look like postgres://user:password@host:5432/name")
            }
            return .external(endpoint)
        }
        guard let host = reader.string("DB_HOST") else { return .embedded }
        let port = try reader.int("DB_PORT", in: 1...65535) ?? 5432
        guard let user = reader.string("DB_USER") else {
            throw SettingsError(name: "DB_USER", reason: "required when DB_HOST is set")
        }
        guard let name = reader.string("DB_NAME") else {
            throw SettingsError(name: "DB_NAME", reason: "required when DB_HOST is set")
        }
        return .external(DatabaseEndpoint(host: host, port: port, username: user, password: reader.string("DB_PASSWORD"), database: name))
    }
}

/// Typed reads with errors that name the setting and never quote its value.
struct Reader {
    let values: [String: String]

    func string(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws(SettingsError) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw SettingsError(name: name, reason: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool(_ name: String) throws(SettingsError) -> Bool? {
        guard let raw = string(name)?.lowercased() else { return nil }
        switch raw {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SettingsError(name: name, reason: "must be true or false")
        }
    }
}

enum DatabaseURL {
    static func parse(_ text: String) -> DatabaseEndpoint? {
        guard let components = URLComponents(string: text),
              ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty,
              let user = components.user, !user.isEmpty
        else { return nil }
        let name = String(components.path.drop(while: { $0 == "/" }))
        return DatabaseEndpoint(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding, database: name.isEmpty ? user : name)
    }
}

extension Settings {
    static let reservedFileDescriptors = 256

    /// The open-files limit less a reserve (at least 16 connections on a tiny limit).
    static func connectionsWithinFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1 << 40 else { return 1_000_000 }
        return max(16, Int(clamping: limit.rlim_cur) - reservedFileDescriptors)
    }
}
