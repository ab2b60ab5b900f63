/// Engine.IO server settings; the defaults are the reference server's.
public struct EngineIOConfiguration: Sendable {
    public var pingInterval: Duration = .milliseconds(25_000)
    public var pingTimeout: Duration = .milliseconds(20_000)
    /// Largest polling body or WebSocket message accepted from a client, in bytes.
    public var maxPayload = 1_000_000
    /// Packets waiting for a client that does not poll; past this the session is closed.
    public var maxQueuedPackets = 1_000
    public var maxSessions = 10_000
    /// How long a WebSocket may take between `2probe` and `5`.
    public var upgradeTimeout: Duration = .seconds(10)
    /// `nil`: no CORS headers. `["*"]`: any origin (credentials allowed, origin echoed).
    public var allowedOrigins: [String]? = ["*"]
    public var allowUpgrades = true

    public init() {}

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// Why the reference server refuses a request, with its numeric codes.
public enum EngineIOError: Int, Error, Sendable {
    case unknownTransport = 0
    case unknownSid = 1
    case badHandshakeMethod = 2
    case badRequest = 3
    case forbidden = 4
    case unsupportedProtocolVersion = 5

    public var message: String {
        switch self {
        case .unknownTransport: "Transport unknown"
        case .unknownSid: "Session ID unknown"
        case .badHandshakeMethod: "Bad handshake method"
        case .badRequest: "Bad request"
        case .forbidden: "Forbidden"
        case .unsupportedProtocolVersion: "Unsupported protocol version"
        }
    }

    public var json: String {
        JSONCodec.serialize(.object(["code": .number(Double(rawValue)), "message": .string(message)]))
    }
}
