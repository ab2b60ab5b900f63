import Foundation
import Resolvers

/// Recovery ids and offsets. An offset names a message in the log by creation time (µs) and id,
/// so any gateway, even after a restart, can tell what came after it. Creation time is taken in
/// the sending transaction, so two sends racing within a few milliseconds may commit out of that
/// order; a client that dropped exactly between them could miss the earlier one on recovery (the
/// per-conversation `messages` query, by sequence, has no such gap).
enum SocketIOOffsets {
    static func offset(of message: Message) -> String {
        "\(Int64((message.createdAt.timeIntervalSince1970 * 1_000_000).rounded()))_\(message.id.wire)"
    }

    static func parse(_ text: String) -> (micros: Int64, id: UUID)? {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 19, let micros = Int64(parts[0]), micros > 0, let id = UUID(uuidString: String(parts[1]))
        else { return nil }
        return (micros, id)
    }

    static func newPid() -> String { EngineIOServer.newSid() }

    static func isValidPid(_ text: String) -> Bool {
        (8...64).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
