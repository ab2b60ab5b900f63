import Foundation
import NIOConcurrencyHelpers

/// Open authenticated sockets per person in this process, for the per-user limit.
final class WSConnectionRegistry: Sendable {
    private let counts = NIOLockedValueBox([UUID: Int]())

    /// Counts one more socket for `userId` unless the limit is reached.
    func admit(_ userId: UUID, limit: Int) -> Bool {
        counts.withLockedValue { counts in
            let current = counts[userId, default: 0]
            guard current < limit else { return false }
            counts[userId] = current + 1
            return true
        }
    }

    func release(_ userId: UUID) {
        counts.withLockedValue { counts in
            guard let current = counts[userId] else { return }
            counts[userId] = current > 1 ? current - 1 : nil
        }
    }
}
