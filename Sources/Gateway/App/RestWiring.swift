import Compat
import Hummingbird
import Logging
import Resolvers

extension AppRequestContext: CompatRequestContext {}

/// The REST door on the gateway's router: it gets the domain services and a way to check bearer
/// tokens, never the token keys or the settings themselves.
enum RestWiring {
    static func addRoutes(to router: Router<AppRequestContext>, services: DomainServices, tokens: AccessTokens, settings: Settings) {
        let rest = RestSettings(maxBodyBytes: settings.maxRequestBytes, allowedOrigins: settings.compat.corsAllowedOrigins)
        RestAPI<AppRequestContext>(services: services, settings: rest) { token in
            let (userId, sessionId) = try await tokens.verify(token)
            return try await services.auth.authenticate(userId: userId, sessionId: sessionId)
        }.addRoutes(to: router)
    }

    /// At start-up: partial uploads older than an hour are what a crash left behind.
    static func removeStaleUploads(_ settings: Settings, logger: Logger) {
        let removed = mediaStore(settings).removeStaleTemporaryFiles(olderThan: 3600)
        if removed > 0 { logger.notice("removed partial uploads left by an earlier run", metadata: ["count": "\(removed)"]) }
    }

    static func mediaStore(_ settings: Settings) -> MediaStore {
        MediaStore(root: settings.uploadsDirectory, policy: settings.compat.media)
    }
}
