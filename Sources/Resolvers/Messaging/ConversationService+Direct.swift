import Foundation

extension ConversationService {
    /// The direct conversation of two people if they have one; nothing is created.
    public func existingDirectConversation(between a: UUID, and b: UUID) async throws -> UUID? {
        let key = [a, b].map { $0.uuidString.lowercased() }.sorted().joined(separator: ":")
        for try await id in try await core.db.query(
            "SELECT id FROM conversations WHERE direct_key = \(key)", logger: core.logger
        ).decode(UUID.self) {
            return id
        }
        return nil
    }
}
