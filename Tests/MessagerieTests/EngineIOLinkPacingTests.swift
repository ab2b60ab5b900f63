import NIOConcurrencyHelpers
import XCTest

@testable import Compat

/// A WebSocket link counts the frames handed to its writer and not yet written, so that live
/// events wait upstream (where they can be ordered and merged) instead of piling up in it.
final class EngineIOLinkPacingTests: XCTestCase {
    func testRoomWaitsUntilTheWriterCatchesUp() async throws {
        let link = EngineIOWebSocketLink(bufferSize: 100)
        for n in 0..<20 { XCTAssertTrue(link.send(.message("\(n)"))) }
        let passed = NIOLockedValueBox(false)
        let waiter = Task {
            await link.room(below: 16)
            passed.withLockedValue { $0 = true }
        }
        var frames = link.frames.makeAsyncIterator()
        for written in 1...5 {
            _ = await frames.next()
            try await Task.sleep(for: .milliseconds(20))
            XCTAssertFalse(passed.withLockedValue { $0 }, "\(20 - written + 1) frames still unwritten")
            link.written()
        }
        await waiter.value
        XCTAssertTrue(passed.withLockedValue { $0 }, "15 unwritten: room below 16")
        await link.room(below: 16)
    }

    func testClosingOrCancellingReleasesAWaiter() async throws {
        let link = EngineIOWebSocketLink(bufferSize: 100)
        for n in 0..<4 { link.send(.message("\(n)")) }
        let cancelled = Task { await link.room(below: 2) }
        cancelled.cancel()
        await cancelled.value

        let waiting = Task { await link.room(below: 2) }
        try await Task.sleep(for: .milliseconds(20))
        link.close()
        await waiting.value
        await link.room(below: 1)
    }

    func testAFullLinkRefusesAndIsNotCounted() {
        let link = EngineIOWebSocketLink(bufferSize: 2)
        XCTAssertEqual((0..<3).map { link.send(.message("\($0)")) }, [true, true, false])
    }
}
