import NIOConcurrencyHelpers
import XCTest

@testable import Compat

/// A WebSocket link writes a live frame in the caller's task when it is free and queues the rest
/// in order; it counts the frames handed over and not yet written, so that live events wait
/// upstream (where they can be ordered and merged) instead of piling up in it.
final class EngineIOLinkPacingTests: XCTestCase {
    /// Writes that each wait for a permit from the test, recording what went out.
    final class HeldWrites: Sendable {
        let written = NIOLockedValueBox<[EngineIOFrame]>([])
        let writers = NIOLockedValueBox<[String]>([])
        private let permits: AsyncStream<Void>
        private let permit: AsyncStream<Void>.Continuation
        let failing = NIOLockedValueBox(false)

        init(held: Bool) {
            (permits, permit) = AsyncStream.makeStream()
            if !held { release(1_000) }
        }

        func release(_ count: Int = 1) { for _ in 0..<count { permit.yield() } }

        func write(_ frame: EngineIOFrame) async throws {
            var iterator = permits.makeAsyncIterator()
            _ = await iterator.next()
            if failing.withLockedValue({ $0 }) { throw CancellationError() }
            written.withLockedValue { $0.append(frame) }
        }

        var texts: [String] {
            written.withLockedValue { $0 }.compactMap { if case .text(let text) = $0 { text } else { nil } }
        }
    }

    private func link(_ writes: HeldWrites, bufferSize: Int = 100) -> EngineIOWebSocketLink {
        EngineIOWebSocketLink(bufferSize: bufferSize) { try await writes.write($0) }
    }

    func testRoomWaitsUntilTheWriterCatchesUp() async throws {
        let writes = HeldWrites(held: true)
        let link = link(writes)
        for n in 0..<20 { XCTAssertTrue(link.send(.message("\(n)"))) }
        let passed = NIOLockedValueBox(false)
        let waiter = Task {
            await link.room(below: 16)
            passed.withLockedValue { $0 = true }
        }
        for written in 1...4 {
            writes.release()
            try await eventually("frame \(written) written") { writes.texts.count == written }
            try await Task.sleep(for: .milliseconds(20))
            XCTAssertFalse(passed.withLockedValue { $0 }, "\(20 - written) frames still unwritten")
        }
        writes.release()
        let released = await Self.returns(within: .seconds(10), waiter)
        XCTAssertTrue(released && passed.withLockedValue { $0 }, "15 unwritten: room below 16")
        writes.release(15)
        try await eventually("all written") { writes.texts.count == 20 }
        XCTAssertEqual(writes.texts, (0..<20).map { "4\($0)" }, "in the order handed over")
        let immediate = await Self.returns(within: .seconds(10), Task { await link.room(below: 1) })
        XCTAssertTrue(immediate)
    }

    /// A free link is written by the caller before `deliver` returns; a busy one queues, and the
    /// holder writes what was queued, in order, before it lets go.
    func testADeliveryIsWrittenByItsCallerWhenTheLinkIsFree() async throws {
        let writes = HeldWrites(held: false)
        let link = link(writes)
        let accepted = await link.deliver(.message("first"))
        XCTAssertTrue(accepted)
        XCTAssertEqual(writes.texts, ["4first"], "written before deliver returned")

        let held = HeldWrites(held: true)
        let busy = self.link(held)
        let holder = Task { await busy.deliver(.message("a")) }
        try await Task.sleep(for: .milliseconds(20))
        let queued = await Self.returns(within: .seconds(10), Task {
            _ = await busy.deliver(.message("b"))
            busy.send(.message("c"))
        })
        XCTAssertTrue(queued, "a delivery to a busy link is queued, not waited for")
        XCTAssertEqual(held.texts, [])
        held.release(3)
        _ = await holder.value
        XCTAssertEqual(held.texts, ["4a", "4b", "4c"], "the holder wrote what was queued before returning")
    }

    func testClosingWritesTheCloseLastAndTakesNothingAfter() async throws {
        let writes = HeldWrites(held: false)
        let link = link(writes)
        link.send(.message("bye"))
        link.close()
        XCTAssertTrue(link.send(.message("late")), "a closed link ignores frames; it did not fall behind")
        let done = await Self.returns(within: .seconds(10), Task { await link.untilDone() })
        XCTAssertTrue(done)
        XCTAssertEqual(writes.written.withLockedValue { $0 }, [.text("4bye"), .close])
        let late = await link.deliver(.message("later"))
        XCTAssertTrue(late)
        XCTAssertEqual(writes.written.withLockedValue { $0 }.count, 2)
    }

    func testAFailedWriteEndsTheLink() async throws {
        let writes = HeldWrites(held: false)
        writes.failing.withLockedValue { $0 = true }
        let link = link(writes)
        _ = await link.deliver(.message("lost"))
        let done = await Self.returns(within: .seconds(10), Task { await link.untilDone() })
        XCTAssertTrue(done, "the connection may end")
        let free = await Self.returns(within: .seconds(10), Task { await link.room(below: 1) })
        XCTAssertTrue(free, "a failed link never makes anyone wait")
    }

    func testClosingOrCancellingReleasesAWaiter() async throws {
        let writes = HeldWrites(held: true)
        let link = link(writes)
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
        let untilDone = Task { await link.untilDone() }
        untilDone.cancel()
        let cancelledWait = await Self.returns(within: .seconds(10), untilDone)
        XCTAssertTrue(cancelledWait, "a cancelled wait for the end returns")
        writes.release(5)
    }

    func testAFullLinkRefusesAndIsNotCounted() async {
        let writes = HeldWrites(held: true)
        let link = link(writes, bufferSize: 2)
        XCTAssertEqual((0..<3).map { link.send(.message("\($0)")) }, [true, true, false])
        let full = await link.deliver(.message("3"))
        XCTAssertFalse(full)
        let twoCounted = await Self.returns(within: .seconds(10), Task { await link.room(below: 3) })
        XCTAssertTrue(twoCounted, "the refused frames are not counted as waiting")
        link.close()
        writes.release(3)
        let done = await Self.returns(within: .seconds(10), Task { await link.untilDone() })
        XCTAssertTrue(done)
        XCTAssertEqual(writes.written.withLockedValue { $0 }, [.text("40"), .text("41"), .close])
    }

    /// The socket's reader ends the link when the client is gone: the connection's task, waiting
    /// in `untilDone`, returns (a probe socket dropped before the upgrade has no close frame to
    /// write that would end it otherwise), and nothing is taken or written after.
    func testTheEndOfTheInboundEndsTheLink() async throws {
        let writes = HeldWrites(held: true)
        let link = link(writes)
        XCTAssertTrue(link.send(.message("queued")))
        let returned = NIOLockedValueBox(false)
        let waiting = Task {
            await link.untilDone()
            returned.withLockedValue { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertFalse(returned.withLockedValue { $0 }, "the link is not done while its socket is open")
        link.inboundEnded()
        let done = await Self.returns(within: .seconds(10), waiting)
        XCTAssertTrue(done && returned.withLockedValue { $0 }, "untilDone returns once the inbound ended")
        link.send(.message("after"))
        writes.release(10)
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertFalse(writes.texts.contains("4after"), "\(writes.texts)")
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
