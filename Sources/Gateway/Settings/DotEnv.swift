import Foundation

/// Reads a `.env` file: `KEY=value` lines, `#` comments, optional `export `, single or double
/// quotes. Variables already in the environment win, as with every dotenv loader people know.
enum DotEnv {
    static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if let quote = value.first, quote == "\"" || quote == "'",
               let close = value.dropFirst().firstIndex(of: quote)
            {
                // The value is what the quotes hold; anything after them (a comment) is dropped.
                value = String(value[value.index(after: value.startIndex)..<close])
                if quote == "\"" { value = value.replacingOccurrences(of: "\\n", with: "\n") }
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            guard !key.isEmpty else { continue }
            values[key] = value
        }
        return values
    }

    static func merged(environment: [String: String], file path: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { return environment }
        return parse(String(decoding: data, as: UTF8.self)).merging(environment) { _, env in env }
    }
}
