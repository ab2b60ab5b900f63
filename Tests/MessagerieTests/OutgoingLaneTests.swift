import NIOConcurrencyHelpers
import XCTest

@testable import Gateway

/// The socket's outgoing lane without a socket: a write that can be held open stands in for a
/// client that stopped reading.
final class OutgoingLaneTests: XCTestCase {
    /// Records what was written; the first write waits until `release()`.
    final class HeldWrites: Sendable {
        private let written = NIOLockedValueBox<[String]>([])
        private let gate: AsyncStream<Void>
        private let opener: AsyncStream<Void>.Continuation
        private let started: AsyncStream<Void>
        private let startedSink: AsyncStream<Void>.Continuation

        init() {
            (gate, opener) = AsyncStream.makeStream()
            (started, startedSink) = AsyncStream.makeStream()
        }

        var frames: [String] { written.withLockedValue { $0 } }

        func write(_ text: String) async throws {
            let first = written.withLockedValue { list -> Bool in
                list.append(text)
                return list.count == 1
            }
            guard first else { return }
            startedSink.yield()
            for await _ in gate { break }
            try Task.checkCancellation()
        }

        func firstWriteStarted() async { for await _ in started { break } }
        func release() { opener.yield(); opener.finish() }
    }

    func lane(_ writes: HeldWrites, maxFrames: Int = 8, maxBytes: Int = 1 << 20) -> OutgoingLane {
        OutgoingLane(maxFrames: maxFrames, maxBytes: maxBytes) { try await writes.write($0) }
    }

    func testFramesGoOutOnceEachInTheOrderTheyWereHandedOver() async throws {
        let writes = HeldWrites()
        let lane = lane(writes)
        let first = Task { try await lane.deliver("a1") }
        await writes.firstWriteStarted()
        try lane.enqueue("b1")
        try lane.enqueue("b2")
        let queued = Task { try await lane.deliver("a2") }
        try await queued.value
        XCTAssertEqual(lane.queuedFrames, 3, "queued behind the write under way, returned at once")
        writes.release()
        try await first.value
        await lane.flushed()
        XCTAssertEqual(writes.frames, ["a1", "b1", "b2", "a2"])
        try await lane.deliver("a3")
        XCTAssertEqual(writes.frames.last, "a3", "a free lane is written at once by the caller")
        XCTAssertEqual(lane.queuedFrames, 0)
    }

    func testAQueueBeyondItsBoundIsRefusedAsFull() async throws {
        let writes = HeldWrites()
        let lane = lane(writes, maxFrames: 2)
        let first = Task { try await lane.deliver("first") }
        await writes.firstWriteStarted()
        try lane.enqueue("x")
        try await lane.deliver("y")
        XCTAssertThrowsError(try lane.enqueue("z")) { XCTAssertEqual($0 as? OutgoingLane.Refusal, .full) }
        do {
            try await lane.deliver("z")
            XCTFail("a full queue takes no more")
        } catch {
            XCTAssertEqual(error, .full)
        }
        writes.release()
        try await first.value
        await lane.flushed()
        XCTAssertEqual(writes.frames, ["first", "x", "y"])
    }

    func testTheByteBoundLetsOneLargeFrameThroughAlone() async throws {
        let writes = HeldWrites()
        let lane = lane(writes, maxBytes: 10)
        let first = Task { try await lane.deliver("held") }
        await writes.firstWriteStarted()
        try lane.enqueue(String(repeating: "x", count: 50))
        XCTAssertThrowsError(try lane.enqueue("y")) { XCTAssertEqual($0 as? OutgoingLane.Refusal, .full) }
        writes.release()
        try await first.value
        await lane.flushed()
        XCTAssertEqual(writes.frames.count, 2)
    }

    func testAWriteThatWaitsIsReportedAsStalledUntilItCompletes() async throws {
        let writes = HeldWrites()
        let lane = lane(writes)
        XCTAssertNil(lane.stalled(), "nothing under way")
        let first = Task { try await lane.deliver("held") }
        await writes.firstWriteStarted()
        let waited = try XCTUnwrap(lane.stalled(at: .now + .seconds(5)))
        XCTAssertGreaterThanOrEqual(waited, .seconds(5))
        writes.release()
        try await first.value
        XCTAssertNil(lane.stalled(at: .now + .seconds(5)))
    }

    func testClosingDropsWhatIsQueuedAndRefusesMore() async throws {
        let writes = HeldWrites()
        let lane = lane(writes)
        try lane.enqueue("held")  // written by the lane's own task
        await writes.firstWriteStarted()
        try lane.enqueue("dropped")
        lane.close()
        await lane.flushed()  // returns although the held write has not completed
        XCTAssertThrowsError(try lane.enqueue("late")) { XCTAssertEqual($0 as? OutgoingLane.Refusal, .closed) }
        writes.release()
        XCTAssertEqual(lane.queuedFrames, 0)
        XCTAssertFalse(writes.frames.contains("dropped"))
        XCTAssertFalse(writes.frames.contains("late"))
    }

    func testASealedLaneStillWritesWhatWasQueued() async throws {
        let writes = HeldWrites()
        let lane = lane(writes)
        let first = Task { try await lane.deliver("held") }
        await writes.firstWriteStarted()
        try lane.enqueue("complete")
        lane.seal()
        XCTAssertThrowsError(try lane.enqueue("late")) { XCTAssertEqual($0 as? OutgoingLane.Refusal, .closed) }
        let flushed = Task { await lane.flushed() }
        writes.release()
        try await first.value
        await flushed.value
        XCTAssertEqual(writes.frames, ["held", "complete"])
    }

    /// Many producers at once, queueing and writing directly: every frame goes out once, each
    /// producer's in its order. (A frame queued just as the lane's holder found the queue empty
    /// and let go once waited for no one.)
    func testConcurrentProducersLoseNothing() async throws {
        let written = NIOLockedValueBox<[String]>([])
        let lane = OutgoingLane(maxFrames: 10_000, maxBytes: 1 << 30) { text in
            await Task.yield()
            written.withLockedValue { $0.append(text) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<8 {
                group.addTask {
                    for n in 0..<200 {
                        if n.isMultiple(of: 2) { try lane.enqueue("\(producer):\(n)") } else { try await lane.deliver("\(producer):\(n)") }
                        if n.isMultiple(of: 7) { await Task.yield() }
                    }
                }
            }
            try await group.waitForAll()
        }
        await lane.flushed()
        let frames = written.withLockedValue { $0 }
        XCTAssertEqual(frames.count, 1600)
        for producer in 0..<8 {
            let mine = frames.filter { $0.hasPrefix("\(producer):") }.map { Int($0.split(separator: ":")[1])! }
            XCTAssertEqual(mine, Array(0..<200), "producer \(producer) in order")
        }
    }
}
