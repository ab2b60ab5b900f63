import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import XCTest

@testable import Gateway

/// A Socket.IO client over raw polling on namespace `/`.
struct SocketIOPollingClient {
    let gw: GatewayClient
    let sid: String

    static func open(_ gw: GatewayClient) async throws -> SocketIOPollingClient {
        let reply = try await gw.raw(method: .get, uri: "/socket.io/?EIO=4&transport=polling")
        let open = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reply.text.dropFirst().utf8)) as? [String: Any])
        return SocketIOPollingClient(gw: gw, sid: try XCTUnwrap(open["sid"] as? String))
    }

    var query: String { "/socket.io/?EIO=4&transport=polling&sid=\(sid)" }

    func send(_ packet: String) async throws {
        let reply = try await gw.raw(method: .post, uri: query, body: ByteBuffer(string: packet))
        XCTAssertEqual(reply.text, "ok")
    }

    /// The Engine.IO packets of one poll.
    func poll() async throws -> [String] {
        let reply = try await gw.raw(method: .get, uri: query)
        guard reply.status == .ok else { throw PollingFailed(status: reply.status.code, body: reply.text) }
        return reply.text.split(separator: "\u{1E}").map(String.init)
    }

    /// Polls until `count` packets that are not pings have arrived.
    func packets(_ count: Int) async throws -> [String] {
        var packets: [String] = []
        while packets.count < count { packets += try await poll().filter { $0 != "2" } }
        return packets
    }

    /// Skips events until `messageReceived` for `text`: the live feed may still bring
    /// messages committed just before this client subscribed.
    func message(_ text: String) async throws -> (text: String?, offset: String?) {
        while true {
            for packet in try await packets(1) where packet.hasPrefix(#"42["messageReceived""#) {
                let event = try SocketIORecoveryTests.received(packet)
                if event.text == text { return event }
            }
        }
    }

    /// Packets up to and including the CONNECT reply.
    func untilConnected() async throws -> [String] {
        var packets: [String] = []
        while !(packets.last?.hasPrefix("40") ?? false) { packets += try await self.packets(1) }
        return packets
    }

    func connect(_ auth: [String: Any]) async throws {
        let data = try JSONSerialization.data(withJSONObject: auth)
        try await send("40" + String(decoding: data, as: UTF8.self))
    }
}

struct PollingFailed: Error, CustomStringConvertible {
    let status: Int
    let body: String
    var description: String { "poll answered \(status): \(body)" }
}
