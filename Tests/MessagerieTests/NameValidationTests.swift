import XCTest

@testable import Resolvers

/// Names and titles are refused with a clear error before the database's own checks could
/// refuse them with an internal one.
final class NameValidationTests: XCTestCase {
    func testDisplayNamesAreCountedAsTheColumnCountsThem() throws {
        XCTAssertEqual(try UserService.validDisplayName("  Ada  "), "Ada")
        XCTAssertEqual(try UserService.validDisplayName(String(repeating: "é", count: 64)), String(repeating: "é", count: 64))
        // 40 characters as people count them, 80 code points: over the column's 64.
        let combining = String(repeating: "e\u{301}", count: 40)
        XCTAssertEqual(combining.count, 40)
        XCTAssertThrowsError(try UserService.validDisplayName(combining)) { error in
            XCTAssertEqual((error as? DomainError)?.code, "BAD_USER_INPUT")
        }
        XCTAssertThrowsError(try UserService.validDisplayName("Ada\u{0}"))
    }

    func testGroupTitlesRefuseControlCharacters() throws {
        XCTAssertEqual(try GroupService.validTitle(" Team "), "Team")
        for bad in ["Te\u{0}am", "Team\u{7}", "a\u{1B}[31mred"] {
            XCTAssertThrowsError(try GroupService.validTitle(bad), bad.debugDescription) { error in
                XCTAssertEqual((error as? DomainError)?.code, "BAD_USER_INPUT")
            }
        }
    }
}
