import XCTest
@testable import Resolvers

final class PhoneNumberTests: XCTestCase {
    // MARK: accepted forms

    func testAcceptsE164AsIs() throws {
        XCTAssertEqual(try PhoneNumber(parsing: "+2348012345678").e164, "+2348012345678")
    }

    func testAcceptsSpacedDashedDottedAndBracketedForms() throws {
        let forms = [
            "+234 801 234 5678",
            "+234-801-234-5678",
            "+234.801.234.5678",
            "(+234) 801 234 5678",
            "(+234) 801-234-5678",
            "+234 (801) 234-5678",
            "  +2348012345678\n",
            "+234\u{00A0}801\u{00A0}234\u{00A0}5678",
        ]
        for form in forms {
            XCTAssertEqual(try PhoneNumber(parsing: form).e164, "+2348012345678", "input: \(form.debugDescription)")
        }
    }

    func testAcceptsDoubleZeroInternationalPrefix() throws {
        XCTAssertEqual(try PhoneNumber(parsing: "002348012345678").e164, "+2348012345678")
        XCTAssertEqual(try PhoneNumber(parsing: "00 234 801 234 5678").e164, "+2348012345678")
        // "00" is international even when a default country is known.
        XCTAssertEqual(
            try PhoneNumber(parsing: "0044 20 7946 0958", defaultCountryCallingCode: "234").e164,
            "+442079460958"
        )
    }

    func testNationalFormUsesDefaultCountryAndDropsTrunkZero() throws {
        XCTAssertEqual(try PhoneNumber(parsing: "08012345678", defaultCountryCallingCode: "234").e164, "+2348012345678")
        XCTAssertEqual(try PhoneNumber(parsing: "0801 234 5678", defaultCountryCallingCode: "+234").e164, "+2348012345678")
        XCTAssertEqual(try PhoneNumber(parsing: "020 7946 0958", defaultCountryCallingCode: "44").e164, "+442079460958")
    }

    func testInternationalFormIgnoresDefaultCountry() throws {
        XCTAssertEqual(try PhoneNumber(parsing: "+33 6 12 34 56 78", defaultCountryCallingCode: "234").e164, "+33612345678")
    }

    func testDropsBracketedTrunkZeroInInternationalForm() throws {
        XCTAssertEqual(try PhoneNumber(parsing: "+44 (0)20 7946 0958").e164, "+442079460958")
    }

    func testLengthBoundsAreInclusive() throws {
        XCTAssertEqual(try PhoneNumber(parsing: "+12345678").e164, "+12345678") // 8 digits
        XCTAssertEqual(try PhoneNumber(parsing: "+123456789012345").e164, "+123456789012345") // 15 digits
    }

    func testEqualAfterNormalisation() throws {
        let a = try PhoneNumber(parsing: "+234 801 234 5678")
        let b = try PhoneNumber(parsing: "08012345678", defaultCountryCallingCode: "234")
        XCTAssertEqual(a, b)
        XCTAssertEqual(Set([a, b]).count, 1)
        XCTAssertEqual(a.description, "+2348012345678")
    }

    // MARK: refusals

    func testRefusesEmptyAndBlank() {
        assertRefused("", mentioning: "empty")
        assertRefused("   ", mentioning: "empty")
    }

    func testRefusesLetters() {
        assertRefused("+234801234567a", mentioning: "letters")
        assertRefused("call me", mentioning: "letters")
        assertRefused("+234 801 234 5678 ext 12", mentioning: "letters")
    }

    func testRefusesOtherSymbols() {
        assertRefused("+234*8012345678", mentioning: "\"*\"")
        assertRefused("+234#8012345678", mentioning: "\"#\"")
    }

    func testRefusesNonASCIIDigits() {
        // Arabic-Indic digits look like numbers to Character.isNumber but no provider takes them.
        assertRefused("+٢٣٤٨٠١٢٣٤٥٦٧٨", mentioning: "character")
    }

    func testRefusesSeveralPlusSigns() {
        assertRefused("++2348012345678", mentioning: "at most one +")
        assertRefused("+234+8012345678", mentioning: "at most one +")
    }

    func testRefusesPlusNotFirst() {
        assertRefused("234+8012345678", mentioning: "+ must come first")
    }

    func testRefusesTooShort() {
        assertRefused("+1234567", mentioning: "too short")
        assertRefused("+", mentioning: "too short")
        assertRefused("0", defaultCountryCallingCode: "234", mentioning: "too short")
    }

    func testRefusesTooLong() {
        assertRefused("+1234567890123456", mentioning: "too long")
        assertRefused("080123456789012345", defaultCountryCallingCode: "234", mentioning: "too long")
    }

    func testRefusesCountryCodeStartingWithZero() {
        assertRefused("+0348012345678", mentioning: "must not start with 0")
        assertRefused("0000348012345678", mentioning: "must not start with 0")
    }

    func testRefusesNationalFormWithoutDefaultCountry() {
        assertRefused("08012345678", mentioning: "no country code")
    }

    func testRefusesDigitsWithoutPlusOrTrunkZero() {
        assertRefused("2348012345678", mentioning: "must start with +")
        assertRefused("8012345678", defaultCountryCallingCode: "234", mentioning: "must start with +")
    }

    func testRefusesSeparatorsOnly() {
        assertRefused("( ) - -", mentioning: "must contain digits")
    }

    func testInvalidDefaultCountryIsAnInternalErrorNotTheUsers() {
        XCTAssertThrowsError(try PhoneNumber(parsing: "08012345678", defaultCountryCallingCode: "2345")) { error in
            guard case .internal = error as? DomainError else {
                return XCTFail("expected DomainError.internal, got \(error)")
            }
        }
        XCTAssertThrowsError(try PhoneNumber(parsing: "08012345678", defaultCountryCallingCode: "NG")) { error in
            guard case .internal = error as? DomainError else {
                return XCTFail("expected DomainError.internal, got \(error)")
            }
        }
    }

    // MARK: helpers

    private func assertRefused(
        _ raw: String,
        defaultCountryCallingCode: String? = nil,
        mentioning expected: String,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        do {
            let parsed = try PhoneNumber(parsing: raw, defaultCountryCallingCode: defaultCountryCallingCode)
            XCTFail("\(raw.debugDescription) was accepted as \(parsed.e164)", file: file, line: line)
        } catch {
            guard case .badUserInput(let message, let field) = error else {
                return XCTFail("\(raw.debugDescription): expected badUserInput, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(field, "phone", file: file, line: line)
            XCTAssertEqual(error.code, "BAD_USER_INPUT", file: file, line: line)
            XCTAssertTrue(
                message.contains(expected),
                "\(raw.debugDescription): message \(message.debugDescription) does not mention \(expected.debugDescription)",
                file: file,
                line: line
            )
        }
    }
}
