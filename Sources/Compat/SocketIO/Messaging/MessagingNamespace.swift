import Foundation
import Resolvers

/// The contract's Socket.IO door on namespace `/`: a token at CONNECT, the live events of the
/// viewer's conversations out, and the client's actions in, all through the domain services that
/// GraphQL and REST use.
public enum MessagingNamespace {
    /// Checks an access token; the gateway owns the keys.
    public typealias Authenticator = @Sendable (String) async throws -> Viewer

    public static func make(services: DomainServices, authenticate: @escaping Authenticator) -> SocketIONamespace {
        SocketIONamespace("/") { socket in
            guard let token = token(of: socket), let viewer = try? await authenticate(token) else {
                return .refuse(message: "unauthorized")
            }
            let connection = MessagingConnection(socket: socket, viewer: viewer, services: services)
            do {
                try await connection.prepare()
            } catch {
                return .refuse(message: "Internal server error")
            }
            return .accept(connection)
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
