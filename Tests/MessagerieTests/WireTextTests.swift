import Foundation
import XCTest

@testable import Resolvers

/// The hand-written text forms answer exactly as the Foundation routes they replace.
final class WireTextTests: XCTestCase {
    func testDatesAsISO8601FormatStyleWithMilliseconds() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        // From the Gregorian reform (Foundation counts Julian days before it) to the year 9999.
        let range = -12_219_292_800.0...253_402_300_799.999
        var dates = [0, -0.0005, -1, 951_782_400, 951_868_799.9999, 1_798_761_599.999, 4_102_444_800, range.lowerBound, range.upperBound]
            .map(Date.init(timeIntervalSince1970:))
        dates += (0..<20_000).map { _ in Date(timeIntervalSince1970: Double.random(in: range, using: &generator)) }
        // Parsed dates are the nearest double to a millisecond, often just below it.
        dates += (0..<2_000).map { _ in Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_102_444_800_000, using: &generator)) / 1000) }
        var mismatches: [String] = []
        for date in dates where WireText.rfc3339(date) != style.format(date) {
            mismatches.append("\(date.timeIntervalSince1970): \(WireText.rfc3339(date)) vs \(style.format(date))")
        }
        XCTAssertEqual(mismatches.prefix(5), [], "\(mismatches.count) of \(dates.count) differ")
        XCTAssertEqual(WireText.rfc3339(Date(timeIntervalSince1970: 1_796_083_200.5)), "2026-12-01T00:00:00.500Z")
    }

    func testUUIDsLowercased() {
        for _ in 0..<1000 {
            let id = UUID()
            XCTAssertEqual(WireText.lowercased(id), id.uuidString.lowercased())
        }
    }

    func testBase64URLWithoutPadding() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            XCTAssertEqual(WireText.base64URL(bytes), expected, "\(bytes)")
        }
        XCTAssertEqual(WireText.base64URL(Array("s|42".utf8)), "c3w0Mg")
    }
}
