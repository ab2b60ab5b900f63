/// `--name value` pairs, bare `--flag`s and positional words, as the load generator takes them.
public struct Arguments: Sendable, Equatable {
    public var positional: [String] = []
    public var options: [String: String] = [:]
    public var flags: Set<String> = []

    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Options that take a value; anything else starting with `--` is a flag.
    public init(_ words: [String], valued: Set<String>) throws {
        var index = 0
        while index < words.count {
            let word = words[index]
            if word.hasPrefix("--") {
                var name = String(word.dropFirst(2))
                var inline: String?
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                guard !name.isEmpty else { throw Problem(description: "empty option name in '\(word)'") }
                if valued.contains(name) {
                    if let inline {
                        options[name] = inline
                    } else {
                        guard index + 1 < words.count, !words[index + 1].hasPrefix("--") else {
                            throw Problem(description: "--\(name) needs a value")
                        }
                        options[name] = words[index + 1]
                        index += 1
                    }
                } else {
                    guard inline == nil else { throw Problem(description: "--\(name) takes no value") }
                    flags.insert(name)
                }
            } else {
                positional.append(word)
            }
            index += 1
        }
    }

    public func required(_ name: String) throws -> String {
        guard let value = options[name], !value.isEmpty else { throw Problem(description: "--\(name) is required") }
        return value
    }

    public func int(_ name: String) throws -> Int? {
        guard let raw = options[name] else { return nil }
        guard let value = Int(raw) else { throw Problem(description: "--\(name) must be a whole number, got '\(raw)'") }
        return value
    }
}
