import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import Resolvers

/// The one task that keeps every connection's timers: actions run once, in order, never after
/// cancel, and an earlier deadline wakes the task out of a long sleep.
final class DeadlinesTests: XCTestCase {
    /// Runs `body` with the watch's task running; the task is cancelled after.
    func withRunning(_ deadlines: Deadlines, _ body: () async throws -> Void) async rethrows {
        let runner = Task { try await deadlines.run() }
        defer { runner.cancel() }
        try await body()
    }

    /// Waits for `expectations` with a limit that only a broken watch reaches.
    func wait(_ expectations: [XCTestExpectation], enforceOrder: Bool = false) async {
        await fulfillment(of: expectations, timeout: 10, enforceOrder: enforceOrder)
    }

    func testActionsRunInTheOrderOfTheirDeadlines() async {
        let deadlines = Deadlines()
        let order = NIOLockedValueBox<[Int]>([])
        let done = expectation(description: "all three ran")
        done.expectedFulfillmentCount = 3
        for (index, delay) in [(3, 150), (1, 10), (2, 80)] {
            deadlines.schedule(after: .milliseconds(delay)) {
                order.withLockedValue { $0.append(index) }
                done.fulfill()
            }
        }
        await withRunning(deadlines) { await wait([done]) }
        XCTAssertEqual(order.withLockedValue { $0 }, [1, 2, 3])
        XCTAssertEqual(deadlines.pending, 0)
    }

    func testACancelledActionNeverRuns() async {
        let deadlines = Deadlines()
        let ran = NIOLockedValueBox<[String]>([])
        let cancelled = deadlines.schedule(after: .milliseconds(20)) { ran.withLockedValue { $0.append("cancelled") } }
        let later = expectation(description: "the later action ran")
        deadlines.schedule(after: .milliseconds(100)) {
            ran.withLockedValue { $0.append("kept") }
            later.fulfill()
        }
        deadlines.cancel(cancelled)
        XCTAssertEqual(deadlines.pending, 1)
        await withRunning(deadlines) { await wait([later]) }
        XCTAssertEqual(ran.withLockedValue { $0 }, ["kept"], "the cancelled action was due first and must not have run")
    }

    /// The task sleeps toward the only deadline it knows (an hour away); one scheduled sooner
    /// meanwhile must wake it, or that action would wait the hour.
    func testAnEarlierDeadlineWakesTheSleepingTask() async throws {
        let deadlines = Deadlines()
        let far = expectation(description: "the far action ran")
        far.isInverted = true
        deadlines.schedule(after: .seconds(3600)) { far.fulfill() }
        let soon = expectation(description: "the near action ran")
        try await withRunning(deadlines) {
            try await Task.sleep(for: .milliseconds(100))  // the task is asleep toward the hour by now
            deadlines.schedule(after: .milliseconds(50)) { soon.fulfill() }
            await wait([soon])
        }
        await fulfillment(of: [far], timeout: 0.1)
        XCTAssertEqual(deadlines.pending, 1, "the far action is still scheduled")
    }

    /// Sockets that close long before their token expires leave cancelled entries behind;
    /// the heap is rebuilt from the live ones instead of growing with every socket ever opened.
    func testCancelledEntriesDoNotAccumulate() {
        let deadlines = Deadlines()
        let kept = (0..<10).map { _ in deadlines.schedule(after: .seconds(3600)) {} }
        for _ in 0..<10_000 {
            deadlines.cancel(deadlines.schedule(after: .seconds(3600)) {})
        }
        XCTAssertEqual(deadlines.pending, kept.count)
        XCTAssertLessThanOrEqual(deadlines.queued, 1025, "the heap holds \(deadlines.queued) entries for \(kept.count) live ones")
    }
}
