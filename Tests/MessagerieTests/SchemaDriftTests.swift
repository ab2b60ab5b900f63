import Foundation
import Schema
import XCTest

/// `schema.graphql` at the package root is what clients generate code from; it must be the
/// schema the server actually serves.
final class SchemaDriftTests: XCTestCase {
    static let schemaFile: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("schema.graphql").path
    }()

    func testCommittedSchemaMatchesTheTypedSchema() throws {
        let committed = try XCTUnwrap(
            FileManager.default.contents(atPath: Self.schemaFile).map { String(decoding: $0, as: UTF8.self) },
            "\(Self.schemaFile) is missing: run `swift run messagerie print-schema -o schema.graphql`")
        let printed = try MessagerieSchema.printed()
        if committed != printed {
            let committedLines = committed.components(separatedBy: "\n")
            let printedLines = printed.components(separatedBy: "\n")
            let first = zip(committedLines, printedLines).enumerated().first { $0.element.0 != $0.element.1 }
            let whereText = first.map { "first difference at line \($0.offset + 1):\n  schema.graphql: \($0.element.0)\n  typed schema:   \($0.element.1)" }
                ?? "one is a prefix of the other (\(committedLines.count) vs \(printedLines.count) lines)"
            XCTFail("""
                schema.graphql is out of date with the typed schema; \
                run `swift run messagerie print-schema -o schema.graphql` and commit the result.
                \(whereText)
                """)
        }
    }

    /// The contract's names are in the printed schema.
    func testContractNamesArePresent() throws {
        let printed = try MessagerieSchema.printed()
        for fragment in [
            "me: User!", "user(id: ID!): User", "requestOtp(phone: String!): OtpChallenge!",
            "verifyOtp(phone: String!, code: String!, displayName: String): AuthPayload!",
            "refreshSession(refreshToken: String!): AuthPayload!", "logout: Boolean!",
            "updateProfile(displayName: String, avatarAttachmentId: ID): User!", "scalar DateTime",
            "accessTokenExpiresAt: DateTime!", "isNewUser: Boolean!", "retryAfterSeconds: Int!",
        ] {
            XCTAssertTrue(printed.contains(fragment), "\(fragment) missing from the schema")
        }
    }
}
