import XCTest

@testable import Gateway

/// The Socket.IO settings: reference defaults, overrides, and refusals that name the setting.
final class SocketIOSettingsTests: XCTestCase {
    func testDefaultsAreTheReferenceServers() throws {
        let settings = try Settings(values: [:]).socketIO
        XCTAssertEqual(settings.configuration.engine.pingInterval, .seconds(25))
        XCTAssertEqual(settings.configuration.engine.pingTimeout, .seconds(20))
        XCTAssertEqual(settings.configuration.engine.maxPayload, 1_000_000)
        XCTAssertEqual(settings.configuration.connectTimeout, .seconds(45))
        XCTAssertEqual(settings.maxConnectionsPerUser, 10)
        XCTAssertEqual(settings.sessionCheckInterval, .seconds(30))
    }

    func testOverrides() throws {
        let settings = try Settings(values: [
            "SOCKETIO_PING_INTERVAL_MS": "300", "SOCKETIO_PING_TIMEOUT_MS": "200", "SOCKETIO_MAX_PAYLOAD_BYTES": "2048",
            "SOCKETIO_CONNECT_TIMEOUT_MS": "1000", "SOCKETIO_MAX_CONNECTIONS_PER_USER": "3", "SOCKETIO_MAX_SESSIONS": "50",
            "SOCKETIO_SESSION_CHECK_MS": "500",
        ]).socketIO
        XCTAssertEqual(settings.configuration.engine.pingInterval, .milliseconds(300))
        XCTAssertEqual(settings.configuration.engine.pingTimeout, .milliseconds(200))
        XCTAssertEqual(settings.configuration.engine.maxPayload, 2048)
        XCTAssertEqual(settings.configuration.connectTimeout, .milliseconds(1000))
        XCTAssertEqual(settings.maxConnectionsPerUser, 3)
        XCTAssertEqual(settings.configuration.engine.maxSessions, 50)
        XCTAssertEqual(settings.sessionCheckInterval, .milliseconds(500))
    }

    func testBadValuesAreRefusedByName() {
        for (name, value) in [
            ("SOCKETIO_PING_INTERVAL_MS", "10"), ("SOCKETIO_PING_TIMEOUT_MS", "abc"), ("SOCKETIO_MAX_PAYLOAD_BYTES", "1"),
            ("SOCKETIO_CONNECT_TIMEOUT_MS", "-5"), ("SOCKETIO_MAX_CONNECTIONS_PER_USER", "0"), ("SOCKETIO_SESSION_CHECK_MS", "1"),
        ] {
            do {
                _ = try Settings(values: [name: value])
                XCTFail("\(name)=\(value) was accepted")
            } catch {
                XCTAssertEqual(error.name, name)
            }
        }
    }
}
