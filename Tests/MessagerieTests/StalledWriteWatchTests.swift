import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import Gateway

/// The watch asks every watched socket once per pass, and no socket after it is unwatched,
/// whichever order sockets come and go in.
final class StalledWriteWatchTests: XCTestCase {
    func testEveryWatchedCheckOnceAndNoneUnwatched() {
        let watch = StalledWriteWatch(timeout: .seconds(10))
        let calls = NIOLockedValueBox<[Int: Int]>([:])
        var ids: [Int: UUID] = [:]
        for socket in 0..<5 {
            ids[socket] = watch.watch { _ in calls.withLockedValue { $0[socket, default: 0] += 1 } }
        }
        watch.unwatch(ids[1]!)
        watch.unwatch(ids[4]!)
        watch.unwatch(ids[1]!)
        watch.pass(at: .now)
        XCTAssertEqual(calls.withLockedValue { $0 }, [0: 1, 2: 1, 3: 1])

        ids[5] = watch.watch { _ in calls.withLockedValue { $0[5, default: 0] += 1 } }
        watch.unwatch(ids[0]!)
        watch.pass(at: .now)
        XCTAssertEqual(calls.withLockedValue { $0 }, [0: 1, 2: 2, 3: 2, 5: 1])
    }

    func testAPassHandsEachCheckItsTime() {
        let watch = StalledWriteWatch(timeout: .seconds(10))
        let seen = NIOLockedValueBox<[ContinuousClock.Instant]>([])
        _ = watch.watch { now in seen.withLockedValue { $0.append(now) } }
        let now = ContinuousClock.now
        watch.pass(at: now)
        XCTAssertEqual(seen.withLockedValue { $0 }, [now])
    }

    /// A check that unwatches itself during a pass (a socket closed for stalling) does not
    /// disturb the pass in progress.
    func testACheckMayUnwatchDuringThePass() {
        let watch = StalledWriteWatch(timeout: .seconds(10))
        let calls = NIOLockedValueBox(0)
        let own = NIOLockedValueBox<UUID?>(nil)
        own.withLockedValue { $0 = watch.watch { _ in
            calls.withLockedValue { $0 += 1 }
            if let id = own.withLockedValue({ $0 }) { watch.unwatch(id) }
        } }
        _ = watch.watch { _ in calls.withLockedValue { $0 += 1 } }
        watch.pass(at: .now)
        XCTAssertEqual(calls.withLockedValue { $0 }, 2)
        watch.pass(at: .now)
        XCTAssertEqual(calls.withLockedValue { $0 }, 3, "the unwatched check is not called again")
    }
}
