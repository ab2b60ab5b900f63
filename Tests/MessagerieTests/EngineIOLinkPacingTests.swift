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
        let released = await Self.returns(within: .seconds(10), waiter)
        XCTAssertTrue(released && passed.withLockedValue { $0 }, "15 unwritten: room below 16")
        let immediate = await Self.returns(within: .seconds(10), Task { await link.room(below: 16) })
        XCTAssertTrue(immediate)
    }

    func testClosingOrCancellingReleasesAWaiter() async throws {
        let link = EngineIOWebSocketLink(bufferSize: 100)
        for n in 0..<4 { link.send(.message("\(n)")) }
        let cancelled = Task { await link.room(below: 2) }
        cancelled.cancel()
        let afterCancel = await Self.returns(within: .seconds(10), cancelled)
        XCTAssertTrue(afterCancel, "a cancelled waiter returns")

        let waiting = Task { await link.room(below: 2) }
        try await Task.sleep(for: .milliseconds(20))
        link.close()
        let afterClose = await Self.returns(within: .seconds(10), waiting)
        XCTAssertTrue(afterClose, "closing releases a waiter")
        let closed = await Self.returns(within: .seconds(10), Task { await link.room(below: 1) })
        XCTAssertTrue(closed, "a closed link never makes anyone wait")
    }

    func testAFullLinkRefusesAndIsNotCounted() async {
        let link = EngineIOWebSocketLink(bufferSize: 2)
        XCTAssertEqual((0..<3).map { link.send(.message("\($0)")) }, [true, true, false])
        let twoCounted = await Self.returns(within: .seconds(10), Task { await link.room(below: 3) })
        XCTAssertTrue(twoCounted, "the refused frame is not counted as waiting")
    }

    /// Whether `task` finishes within `limit`; one that does not is cancelled (the link's waits
    /// end on cancellation), so a pacing bug fails the test instead of hanging it.
    static func returns(within limit: Duration, _ task: Task<Void, Never>) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await task.value
                return true
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            if !first { task.cancel() }
            group.cancelAll()
            return first
        }
    }
}
