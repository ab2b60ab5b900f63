import Foundation
import XCTest

@testable import Gateway

/// The GraphQL-over-WebSocket limits are settings with defaults; bad values stop start-up.
final class GraphQLWSSettingsTests: XCTestCase {
    func testDefaults() throws {
        let limits = try Settings(values: [:]).webSocket
        XCTAssertEqual(limits, GraphQLWSLimits())
        XCTAssertEqual(limits.maxConnectionsPerUser, 16)
        XCTAssertEqual(limits.maxOperationsPerConnection, 64)
        XCTAssertEqual(limits.maxMessageBytes, 262_144)
        XCTAssertEqual(limits.initTimeout, .seconds(10))
        XCTAssertEqual(limits.outgoingBuffer, 512)
        XCTAssertEqual(limits.outgoingBufferBytes, 8 << 20)
        XCTAssertEqual(limits.writeTimeout, .seconds(30))
        XCTAssertEqual(limits.sessionCheckInterval, .seconds(30))
        XCTAssertEqual(limits.pingInterval, .seconds(30), "Hummingbird's own ping period, which this replaces")
        XCTAssertEqual(limits.keepAliveInterval, .seconds(12))
    }

    func testEveryLimitIsRead() throws {
        let limits = try Settings(values: [
            "WS_MAX_CONNECTIONS_PER_USER": "3", "WS_MAX_SUBSCRIPTIONS": "7", "WS_MAX_MESSAGE_BYTES": "2048",
            "WS_INIT_TIMEOUT_MS": "1500", "WS_OUTGOING_BUFFER": "9", "WS_OUTGOING_BUFFER_BYTES": "100000", "WS_SESSION_CHECK_SECONDS": "4",
            "WS_KEEPALIVE_SECONDS": "5", "WS_CLOSE_GRACE_MS": "250", "WS_WRITE_TIMEOUT_MS": "1200", "WS_PING_SECONDS": "7",
        ]).webSocket
        XCTAssertEqual(limits.maxConnectionsPerUser, 3)
        XCTAssertEqual(limits.maxOperationsPerConnection, 7)
        XCTAssertEqual(limits.maxMessageBytes, 2048)
        XCTAssertEqual(limits.initTimeout, .milliseconds(1500))
        XCTAssertEqual(limits.outgoingBuffer, 9)
        XCTAssertEqual(limits.outgoingBufferBytes, 100_000)
        XCTAssertEqual(limits.sessionCheckInterval, .seconds(4))
        XCTAssertEqual(limits.keepAliveInterval, .seconds(5))
        XCTAssertEqual(limits.pingInterval, .seconds(7))
        XCTAssertEqual(limits.closeGrace, .milliseconds(250))
        XCTAssertEqual(limits.writeTimeout, .milliseconds(1200))
    }

    func testCompressionIsLeanByDefaultAndEachKnobIsRead() throws {
        XCTAssertEqual(try Settings(values: [:]).webSocketCompression, WebSocketCompression(enabled: true, windowBits: 11, memoryLevel: 4))
        let read = try Settings(values: [
            "WS_COMPRESSION": "false", "WS_COMPRESSION_WINDOW_BITS": "15", "WS_COMPRESSION_MEMORY_LEVEL": "8",
        ]).webSocketCompression
        XCTAssertEqual(read, WebSocketCompression(enabled: false, windowBits: 15, memoryLevel: 8))
        XCTAssertTrue(read.extensions(maxMessageBytes: 1024).isEmpty, "disabled offers no extension")
        for (name, value) in ["WS_COMPRESSION_WINDOW_BITS": "8", "WS_COMPRESSION_MEMORY_LEVEL": "10"] {
            XCTAssertThrowsError(try Settings(values: [name: value]), "\(name)=\(value)") { error in
                XCTAssertEqual((error as? SettingsError)?.name, name)
            }
        }
        XCTAssertThrowsError(try Settings(values: ["WS_COMPRESSION": "sometimes"])) { error in
            XCTAssertEqual((error as? SettingsError)?.name, "WS_COMPRESSION")
        }
    }

    func testOutOfRangeValuesNameTheSetting() {
        let bad = [
            "WS_MAX_CONNECTIONS_PER_USER": "0", "WS_MAX_SUBSCRIPTIONS": "many", "WS_MAX_MESSAGE_BYTES": "10",
            "WS_INIT_TIMEOUT_MS": "5", "WS_OUTGOING_BUFFER": "0", "WS_OUTGOING_BUFFER_BYTES": "1000", "WS_SESSION_CHECK_SECONDS": "-1",
            "WS_KEEPALIVE_SECONDS": "0", "WS_CLOSE_GRACE_MS": "1", "WS_WRITE_TIMEOUT_MS": "10", "WS_PING_SECONDS": "0",
        ]
        for (name, value) in bad {
            do {
                _ = try Settings(values: [name: value])
                XCTFail("\(name)=\(value) must be refused")
            } catch {
                XCTAssertEqual(error.name, name)
                XCTAssertTrue(error.reason.hasPrefix("must be a whole number"), error.reason)
            }
        }
    }
}
