/// A phone number in E.164 form, the only form we store, compare and hand to SMS providers.
///
/// People type numbers the way they read them on a card (`+234 801 234 5678`, `(+234) 801-234-5678`,
/// `00234…`, or the national `0801…`). Normalising once, at the edge, means one account per phone
/// however it was typed, and a refusal that tells the user what to fix instead of an SMS that never
/// arrives.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// `+` followed by 8 to 15 digits, the first not `0`.
    public let e164: String

    /// The field name errors point at, so every door reports the same input as wrong.
    static let field = "phone"

    /// - Parameter defaultCountryCallingCode: the country assumed for a national number written with
    ///   its trunk `0` (`08012345678` with `"234"`). Without it such a number is refused rather than
    ///   guessed, since the same national digits exist in many countries.
    public init(parsing raw: String, defaultCountryCallingCode: String? = nil) throws(DomainError) {
        var text = raw.trimmingWhitespace()
        guard !text.isEmpty else {
            throw Self.invalid("Phone number is empty.")
        }
        // The international habit "+44 (0)20 …" marks a trunk 0 that is not dialled from abroad;
        // kept, it would silently become a wrong but well-formed number. At the very start it is
        // the national trunk 0 itself, so it stays.
        if let range = text.firstRange(of: "(0)"), range.lowerBound != text.startIndex {
            text.replaceSubrange(range, with: "")
        }

        var compact = ""
        for character in text {
            if Self.isASCIIDigit(character) || character == "+" {
                compact.append(character)
            } else if Self.separators.contains(character) || character.isWhitespace {
                continue
            } else if character.isLetter {
                throw Self.invalid("Phone number must not contain letters; use digits only, with an optional leading +.")
            } else {
                throw Self.invalid("Phone number contains the character \"\(character)\"; use digits, spaces, dashes or brackets only.")
            }
        }

        let plusCount = compact.count(where: { $0 == "+" })
        if plusCount > 1 {
            throw Self.invalid("Phone number must contain at most one +.")
        }
        if plusCount == 1, compact.first != "+" {
            throw Self.invalid("The + must come first in a phone number, before the country code.")
        }

        let international: String
        if compact.hasPrefix("+") {
            international = String(compact.dropFirst())
        } else if compact.hasPrefix("00") {
            // "00" is the international call prefix used in most of the world for "+".
            international = String(compact.dropFirst(2))
        } else if compact.hasPrefix("0") {
            guard let countryCode = try Self.normalisedCountryCode(defaultCountryCallingCode) else {
                throw Self.invalid("Phone number has no country code; write it as + followed by the country code and the number (e.g. +2348012345678).")
            }
            international = countryCode + compact.dropFirst()
        } else if compact.isEmpty {
            throw Self.invalid("Phone number must contain digits.")
        } else {
            throw Self.invalid("Phone number must start with + and the country code (e.g. +2348012345678).")
        }

        guard international.count >= 8 else {
            throw Self.invalid("Phone number is too short: expected 8 to 15 digits including the country code.")
        }
        guard international.count <= 15 else {
            throw Self.invalid("Phone number is too long: expected 8 to 15 digits including the country code.")
        }
        guard international.first != "0" else {
            throw Self.invalid("Country code must not start with 0.")
        }
        self.e164 = "+" + international
    }

    public var description: String { e164 }

    private static let separators: Set<Character> = ["-", ".", "(", ")", "/"]

    /// ASCII only: `Character.isNumber` would let Arabic-Indic or full-width digits through, which
    /// providers reject and which would make two spellings of one number two accounts.
    private static func isASCIIDigit(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        return ascii >= 48 && ascii <= 57
    }

    /// A malformed default is a deployment mistake, not the user's, so it is not blamed on `phone`.
    private static func normalisedCountryCode(_ raw: String?) throws(DomainError) -> String? {
        guard let raw else { return nil }
        var code = raw.trimmingWhitespace()
        if code.hasPrefix("+") { code.removeFirst() }
        guard (1...3).contains(code.count), code.allSatisfy(isASCIIDigit), code.first != "0" else {
            throw DomainError.internal("Invalid default country calling code \"\(raw)\": expected 1 to 3 digits.")
        }
        return code
    }

    private static func invalid(_ message: String) -> DomainError {
        .badUserInput(message, field: field)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
