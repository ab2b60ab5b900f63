import Foundation

/// Text forms every response repeats many times (a page of 50 messages holds hundreds of ids and
/// dates), written byte by byte: Foundation's format styles, `uuidString.lowercased()` and
/// `replacingOccurrences` were each a visible share of a history page's server time in perf.
public enum WireText {
    /// RFC 3339 in UTC with milliseconds, truncated, as `Date.ISO8601FormatStyle(includingFractionalSeconds: true)`
    /// writes it for Gregorian years up to 9999 (before 1582 Foundation counts Julian days).
    public static func rfc3339(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        let whole = interval.rounded(.down)
        let fraction = min(Int64((interval - whole) * 1000), 999)
        let (days, seconds) = floorDivide(Int64(whole), 86_400)
        let (year, month, day) = civil(fromDays: days)
        return String(unsafeUninitializedCapacity: 24) { out in
            var i = 0
            func put(_ value: Int64, digits: Int) {
                var value = value
                for position in stride(from: i + digits - 1, through: i, by: -1) {
                    out[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                i += digits
            }
            func put(_ byte: Unicode.Scalar) {
                out[i] = UInt8(ascii: byte)
                i += 1
            }
            put(year, digits: 4); put("-"); put(month, digits: 2); put("-"); put(day, digits: 2); put("T")
            put(seconds / 3600, digits: 2); put(":"); put(seconds / 60 % 60, digits: 2); put(":"); put(seconds % 60, digits: 2)
            put("."); put(fraction, digits: 3); put("Z")
            return i
        }
    }

    /// The lowercase hyphenated form of a UUID.
    public static func lowercased(_ id: UUID) -> String {
        let hex: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: id.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var i = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[i] = UInt8(ascii: "-")
                        i += 1
                    }
                    out[i] = hex.utf8Start[Int(byte >> 4)]
                    out[i + 1] = hex.utf8Start[Int(byte & 0x0F)]
                    i += 2
                }
                return i
            }
        }
    }

    /// Base64url without padding (RFC 4648 §5).
    public static func base64URL(_ bytes: some Collection<UInt8>) -> String {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        let table = alphabet.utf8Start
        let input = Array(bytes)
        return String(unsafeUninitializedCapacity: (input.count * 4 + 2) / 3) { out in
            var i = 0, index = 0
            while index + 3 <= input.count {
                let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                for shift in [18, 12, 6, 0] {
                    out[i] = table[Int(chunk >> UInt32(shift) & 63)]
                    i += 1
                }
                index += 3
            }
            let rest = input.count - index
            if rest > 0 {
                let chunk = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
                for shift in [18, 12, 6].prefix(rest + 1) {
                    out[i] = table[Int(chunk >> UInt32(shift) & 63)]
                    i += 1
                }
            }
            return i
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
        return (quotient, value - quotient * divisor)
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
