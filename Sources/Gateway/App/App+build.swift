import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWSCompression
import HummingbirdWebSocket
import Logging
import Metrics
import Outbound
import PostgresNIO
import Prometheus
import Resolvers
import ServiceLifecycle

/// The one assembly of the application, used by `messagerie serve` and by every test: settings
/// in, a runnable application with all its long-lived services out.
func buildApplication(
    settings: Settings, logger: Logger, lifecycle: GatewayLifecycle = GatewayLifecycle()
) async throws -> some ApplicationProtocol {
    var services: [any Service] = []
    var settings = settings
    try Assembly.fillEmbeddedSecrets(&settings, logger: logger)
    let endpoint: DatabaseEndpoint
    switch settings.database {
    case .external(let configured):
        endpoint = configured
    case .embedded:
        let postgres = EmbeddedPostgres(dataDirectory: settings.dataDirectory + "/postgres", logger: logger)
        endpoint = try await postgres.start()
        services.append(EmbeddedPostgresService(postgres: postgres, logger: logger))
        logger.notice("using the embedded PostgreSQL cluster", metadata: ["data": "\(settings.dataDirectory)/postgres", "port": "\(endpoint.port)"])
    }

    let db = DatabasePool(client: PostgresClient(configuration: .init(endpoint, poolSize: settings.databasePoolSize), backgroundLogger: logger))
    services.append(db)

    // One registry per application, so that tests running several gateways read their own figures.
    let registry = PrometheusCollectorRegistry()
    let metrics = PrometheusMetricsFactory(registry: registry)
    let assembled = try await Assembly.domain(settings: settings, db: db, endpoint: endpoint, metrics: metrics, logger: logger)
    let (domain, tokens) = (assembled.services, assembled.tokens)
    let schemaGate = SchemaGate()
    services.append(contentsOf: assembled.background.map { AfterSchema(inner: $0, gate: schemaGate, gated: settings.migrateOnStart) })

    let migrator = try Migrator(directory: MigrationsLocation.resolve(settings.migrationsDirectory))
    let engine = try GraphQLEngine(
        limits: GraphQLLimits(maxDepth: settings.maxQueryDepth, maxCost: settings.maxQueryCost, introspection: settings.introspection,
                              directExecution: settings.directExecution),
        logger: logger, metrics: metrics)

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: HTTPMetricsMiddleware(factory: metrics))
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: RequestIDMiddleware())
    HealthController(db: db, migrator: migrator, logger: logger, lifecycle: lifecycle, live: domain.live).addRoutes(to: router)
    MetricsController(registry: registry, factory: metrics, token: settings.metricsToken, db: db, logger: logger).addRoutes(to: router)
    GraphQLHTTPController(engine: engine, services: domain, tokens: tokens, maxBodyBytes: settings.maxRequestBytes)
        .addRoutes(to: router)
    RestWiring.addRoutes(to: router, services: domain, tokens: tokens, settings: settings)
    RestWiring.removeStaleUploads(settings, logger: logger)

    // Upgrade requests are matched here: GraphQL over WebSocket and the Socket.IO WebSocket transport.
    let webSocketRouter = Router(context: AppWebSocketContext.self)
    // One session check per door and interval for all its connections, and one as soon as a session is announced ended.
    let graphQLSessions = SessionWatch(db: db, interval: settings.webSocket.sessionCheckInterval, logger: logger)
    let socketIOSessions = SessionWatch(db: db, interval: settings.socketIO.sessionCheckInterval, logger: logger)
    assembled.notices.add(graphQLSessions)
    assembled.notices.add(socketIOSessions)
    services.append(contentsOf: [graphQLSessions, socketIOSessions].map { AfterSchema(inner: $0, gate: schemaGate, gated: settings.migrateOnStart) })
    let stalledWrites = StalledWriteWatch(timeout: settings.webSocket.writeTimeout)
    services.append(stalledWrites)
    let deadlines = Deadlines()
    services.append(deadlines)
    GraphQLWebSocketRoute(
        engine: engine, services: domain, tokens: tokens, limits: settings.webSocket, lifecycle: lifecycle, sessions: graphQLSessions,
        stalls: stalledWrites, deadlines: deadlines
    ).addRoutes(to: webSocketRouter)
    services.append(SocketIOWiring.add(
        router: router, webSocketRouter: webSocketRouter, services: domain, tokens: tokens, settings: settings, lifecycle: lifecycle,
        sessions: socketIOSessions))

    var app = Application(
        router: router,
        server: .http1WebSocketUpgradeTuned(
            webSocketRouter: webSocketRouter,
            configuration: .init(ws: .init(
                maxFrameSize: settings.maxRequestBytes,
                extensions: settings.webSocketCompression.extensions(maxMessageBytes: settings.maxRequestBytes),
                // Each door keeps its sockets alive itself, from one task for all of them: GraphQL
                // with the subprotocol's keep-alive, Socket.IO with Engine.IO's heartbeat.
                autoPing: .disabled)),
            userTimeout: settings.tcpUserTimeout),
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: "messagerie",
            availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections)),
        services: services,
        logger: logger)
    if settings.migrateOnStart {
        app.beforeServerStarts {
            let applied = try await migrator.apply(db, logger: logger)
            logger.info("database schema is current", metadata: ["applied": "\(applied.count)"])
            schemaGate.open()
        }
    }
    return app
}

extension PostgresClient.Configuration {
    init(_ endpoint: DatabaseEndpoint, poolSize: Int? = nil) {
        self.init(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database, tls: .disable)
        guard let poolSize else { return }
        options.maximumConnections = poolSize
        // A server's connections are all kept open and none is pinged when idle: postgres-nio's
        // pool gives a connection it may close (above the minimum) an idle timer, and every
        // connection a keep-alive timer, each time it goes back to the pool; a timer is three
        // tasks and a sleep, cancelled by the next lease. A one-query request cost about 30% more
        // server CPU with them (sequential `me { id }` by hand, four rounds each: 1.65-2.31 ms
        // against 1.09-1.73). A connection the database dropped is found by the next query on it.
        options.minimumConnections = options.maximumConnections
        options.keepAliveBehavior = nil
    }
}

/// Where the numbered SQL files are: a setting, the working directory, or the source checkout
/// this binary was built from.
enum MigrationsLocation {
    static func resolve(_ configured: String?) -> String {
        if let configured { return configured }
        let fm = FileManager.default
        if fm.fileExists(atPath: "migrations") { return fm.currentDirectoryPath + "/migrations" }
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return sourceRoot.appendingPathComponent("migrations").path
    }
}

/// The parts of the assembly that one-off commands (`keys rotate`, `activity`) share with the server.
enum Assembly {
    /// With the embedded database, secrets nobody configured are generated once and kept in the
    /// data folder.
    static func fillEmbeddedSecrets(_ settings: inout Settings, logger: Logger) throws {
        guard settings.database == .embedded else { return }
        let local = LocalSecrets(directory: settings.dataDirectory)
        if settings.jwtSecret == nil, settings.jwtES256KeyFile == nil {
            settings.jwtSecret = try local.value(named: "jwt-secret", logger: logger)
        }
        if settings.messageKeys == nil {
            settings.messageKeys = try local.value(named: "message-keys", logger: logger) { MessageKeyring.generateSetting() }
        }
        if settings.searchIndexKey == nil {
            settings.searchIndexKey = try local.value(named: "search-index-key", logger: logger)
        }
    }

    static func domain(
        settings: Settings, db: DatabasePool, endpoint: DatabaseEndpoint, metrics: any MetricsFactory = NOOPMetricsHandler.instance,
        logger: Logger
    ) async throws -> Domain {
        let tokenKey: AccessTokens.Key
        let secretMaterial: String
        if let file = settings.jwtES256KeyFile {
            guard let pem = FileManager.default.contents(atPath: file).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw SettingsError(name: "JWT_ES256_KEY_FILE", reason: "file not readable")
            }
            tokenKey = .es256(pem: pem)
            secretMaterial = settings.jwtSecret ?? pem
        } else if let secret = settings.jwtSecret {
            tokenKey = .hs256(secret: secret)
            secretMaterial = secret
        } else {
            throw SettingsError(name: "JWT_SECRET", reason: "required")
        }
        let tokens: AccessTokens
        do {
            tokens = try await AccessTokens(key: tokenKey, lifetime: TimeInterval(settings.accessTokenLifetimeSeconds))
        } catch {
            throw SettingsError(name: "JWT_ES256_KEY_FILE", reason: "not a valid ES256 private key in PEM form")
        }

        let sender: any OTPSender = switch settings.otpProvider {
        case .console:
            ConsoleOTPSender(logger: logger)
        case .termii:
            TermiiSender(
                httpClient: .shared, baseURL: settings.termiiBaseURL, apiKey: settings.termiiAPIKey ?? "",
                senderID: settings.termiiSenderID, channel: settings.termiiChannel, logger: logger)
        }

        let keyring = try MessageKeyring.parse(settings.messageKeys ?? "")
        let indexKey = settings.searchIndexKey.flatMap { Data(base64Encoded: $0) }.map { SymmetricKey(data: $0) }
            ?? DerivedKeys.searchIndexKey(from: secretMaterial)
        let publisher = EventPublisher(db: db, logger: logger)
        let hub = EventHub()
        let core = MessagingCore(
            db: db, logger: logger, keyring: keyring, index: BlindIndex(key: indexKey), limits: settings.messaging, events: publisher,
            telemetry: Telemetry(factory: metrics), push: settings.push.policy)
        let live = LiveFeed(core: core, hub: hub, typingTimeout: .seconds(settings.typingTimeoutSeconds))
        let presence = PresenceService(db: db, logger: logger, events: publisher, policy: settings.presence)
        let sessions = SessionCache(lifetime: .seconds(settings.sessionCacheSeconds), factory: metrics)
        let notices = SessionNotices()
        notices.add(sessions)
        let domain = DomainServices(
            auth: AuthService(
                db: db, logger: logger, sender: sender, issuer: tokens,
                codeKey: DerivedKeys.otpKey(from: secretMaterial), policy: settings.auth, sessions: sessions),
            users: UserService(db: db, logger: logger),
            messaging: core, live: live, presence: presence, media: RestWiring.mediaStore(settings))
        let listener = EventListener(endpoint: endpoint, hub: hub, sessions: notices, logger: logger) { live.listenerReconnected() }
        let pushWorker = PushWorker(
            core: core, devices: domain.devices, transports: pushTransports(settings.push, logger: logger), policy: settings.push.policy)
        return Domain(services: domain, tokens: tokens, notices: notices, background: [publisher, listener, live, presence, pushWorker])
    }

    /// Expo needs no credentials, so it is always there; FCM only with a service account.
    static func pushTransports(_ push: PushSettings, logger: Logger) -> [PushPlatform: any PushTransport] {
        var transports: [PushPlatform: any PushTransport] = [
            .expo: ExpoTransport(baseURL: push.expoBaseURL, accessToken: push.expoAccessToken, httpClient: .shared, logger: logger),
        ]
        if let account = push.fcmAccount {
            transports[.fcm] = FCMTransport(
                account: account, baseURL: push.fcmBaseURL, tokenURL: push.fcmTokenURL, httpClient: .shared, logger: logger)
        }
        return transports
    }

    struct Domain {
        let services: DomainServices
        let tokens: AccessTokens
        /// Where the session watches of long-lived connections join the cache of sessions.
        let notices: SessionNotices
        /// Long-lived parts the domain needs running: event publisher and listener, live feed, presence.
        let background: [any Service]
    }
}
