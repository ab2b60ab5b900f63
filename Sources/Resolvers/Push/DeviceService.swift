import Foundation
import Logging
import PostgresNIO

public enum PushPlatform: String, Sendable, Codable, CaseIterable { case fcm = "FCM", expo = "EXPO" }

public struct PushDevice: Sendable, Equatable {
    public let token: String
    public let userId: UUID
    public let platform: PushPlatform
    public let createdAt: Date
    public let updatedAt: Date
}

/// Devices that receive push notifications. A token names one installed app, so it belongs to
/// whoever registered it last: signing in as someone else on the same phone moves it.
public struct DeviceService: Sendable {
    let db: DatabasePool
    let logger: Logger

    public init(db: DatabasePool, logger: Logger) {
        self.db = db
        self.logger = logger
    }

    public static func validToken(_ raw: String) throws(DomainError) -> String {
        let token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...4096).contains(token.count), !token.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else { throw .badUserInput("token must be 1 to 4096 printable characters", field: "token") }
        return token
    }

    public func register(token raw: String, platform: PushPlatform, viewer: Viewer) async throws -> PushDevice {
        let token = try Self.validToken(raw)
        let rows = try await db.query("""
            INSERT INTO push_devices (token, user_id, platform) VALUES (\(token), \(viewer.userId), \(platform.rawValue))
            ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id, platform = EXCLUDED.platform, updated_at = now()
            RETURNING token, user_id, platform, created_at, updated_at
            """, logger: logger)
        for try await (token, userId, platform, createdAt, updatedAt) in rows.decode((String, UUID, String, Date, Date).self) {
            return PushDevice(token: token, userId: userId, platform: PushPlatform(rawValue: platform) ?? .fcm,
                              createdAt: createdAt, updatedAt: updatedAt)
        }
        throw DomainError.internal("device upsert returned nothing")
    }

    /// True when the viewer had that token; someone else's token is left alone.
    public func unregister(token raw: String, viewer: Viewer) async throws -> Bool {
        let token = try Self.validToken(raw)
        let rows = try await db.query(
            "DELETE FROM push_devices WHERE token = \(token) AND user_id = \(viewer.userId) RETURNING token", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    public func devices(of userIds: [UUID]) async throws -> [PushDevice] {
        guard !userIds.isEmpty else { return [] }
        var result: [PushDevice] = []
        for try await (token, userId, platform, createdAt, updatedAt) in try await db.query("""
            SELECT token, user_id, platform, created_at, updated_at FROM push_devices WHERE user_id = ANY(\(userIds)) ORDER BY created_at
            """, logger: logger).decode((String, UUID, String, Date, Date).self)
        {
            result.append(PushDevice(token: token, userId: userId, platform: PushPlatform(rawValue: platform) ?? .fcm,
                                     createdAt: createdAt, updatedAt: updatedAt))
        }
        return result
    }
}
