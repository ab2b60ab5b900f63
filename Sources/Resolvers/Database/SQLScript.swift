/// Splits a migration file into single statements. PostgresNIO speaks only the extended query
/// protocol, which runs one statement per call, so a file must be cut at its top-level `;`
/// without cutting inside quotes, dollar-quoted bodies or comments.
public enum SQLScript {
    public static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        let chars = Array(sql)
        var i = 0
        func peek(_ offset: Int) -> Character? { i + offset < chars.count ? chars[i + offset] : nil }

        while i < chars.count {
            let c = chars[i]
            if c == "-", peek(1) == "-" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "/", peek(1) == "*" {
                i += 2
                while i < chars.count, !(chars[i] == "*" && peek(1) == "/") { i += 1 }
                i += 2
                continue
            }
            if c == "'" || c == "\"" {
                current.append(c)
                i += 1
                while i < chars.count {
                    current.append(chars[i])
                    if chars[i] == c {
                        if peek(1) == c { i += 1; current.append(chars[i]) } else { break }
                    }
                    i += 1
                }
                i += 1
                continue
            }
            if c == "$", let tag = dollarTag(chars, at: i) {
                current.append(contentsOf: tag)
                i += tag.count
                while i < chars.count {
                    if chars[i] == "$", dollarTag(chars, at: i) == tag {
                        current.append(contentsOf: tag)
                        i += tag.count
                        break
                    }
                    current.append(chars[i])
                    i += 1
                }
                continue
            }
            if c == ";" {
                append(current, to: &statements)
                current = ""
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        append(current, to: &statements)
        return statements
    }

    private static func append(_ statement: String, to list: inout [String]) {
        let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { list.append(trimmed) }
    }

    /// `$$` or `$tag$` starting at `index`, if any.
    private static func dollarTag(_ chars: [Character], at index: Int) -> String? {
        var j = index + 1
        while j < chars.count, chars[j] == "_" || chars[j].isLetter || (chars[j].isNumber && j > index + 1) { j += 1 }
        guard j < chars.count, chars[j] == "$" else { return nil }
        return String(chars[index...j])
    }
}

import Foundation
