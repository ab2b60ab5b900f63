import Foundation
import NIOConcurrencyHelpers
import Resolvers

/// The contract's Socket.IO door on namespace `/`: a token at CONNECT, the live events of the
/// viewer's conversations out, and the client's actions in, all through the domain services that
/// GraphQL and REST use.
public enum MessagingNamespace {
    /// Who a token names and until when it is valid; checking it is the gateway's (it owns the keys).
    public struct Identity: Sendable {
        public let viewer: Viewer
        public let expiresAt: Date?
        public init(viewer: Viewer, expiresAt: Date?) {
            self.viewer = viewer
            self.expiresAt = expiresAt
        }
    }

    public typealias Authenticator = @Sendable (String) async throws -> Identity

    public static func make(
        services: DomainServices, maxConnectionsPerUser: Int = 10, sessions: SessionWatch? = nil,
        authenticate: @escaping Authenticator
    ) -> SocketIONamespace {
        let slots = UserSlots(limit: maxConnectionsPerUser)
        let cache = LiveMessageCache()
        return SocketIONamespace("/") { socket in
            guard let token = token(of: socket), let identity = try? await authenticate(token) else {
                return .refuse(message: "unauthorized")
            }
            let viewer = identity.viewer
            guard slots.admit(viewer.userId) else {
                return .refuse(message: "too many connections (limit \(maxConnectionsPerUser) per user)")
            }
            let connection = MessagingConnection(
                socket: socket, viewer: viewer, services: services,
                expiry: SessionExpiry(expiresAt: identity.expiresAt, sessions: sessions), cache: cache
            ) {
                slots.release(viewer.userId)
            }
            do {
                try await connection.prepare()
            } catch {
                slots.release(viewer.userId)
                return .refuse(message: "Internal server error")
            }
            return .accept(connection)
        }
    }

    /// Connections per user in this process: one person cannot hold unbounded feeds.
    final class UserSlots: Sendable {
        let limit: Int
        private let counts = NIOLockedValueBox([UUID: Int]())

        init(limit: Int) { self.limit = limit }

        func admit(_ userId: UUID) -> Bool {
            counts.withLockedValue { counts in
                guard counts[userId, default: 0] < limit else { return false }
                counts[userId, default: 0] += 1
                return true
            }
        }

        func release(_ userId: UUID) {
            counts.withLockedValue { counts in
                let left = counts[userId, default: 0] - 1
                counts[userId] = left > 0 ? left : nil
            }
        }
    }

    /// `{token}` in the CONNECT payload, else `?token=`, else `Authorization: Bearer`.
    static func token(of socket: SocketIOSocket) -> String? {
        if let token = socket.auth?["token"]?.stringValue, !token.isEmpty { return token }
        if let token = socket.request.query["token"], !token.isEmpty { return token }
        if let header = socket.request.headers["Authorization"] ?? socket.request.headers["authorization"],
           header.lowercased().hasPrefix("bearer ")
        {
            let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
            return token.isEmpty ? nil : token
        }
        return nil
    }
}
