import Foundation

/// One file of `Benchmarks/scenarios/`: the sizes a run uses. Checked before anything starts, so
/// a typo stops the run with one clear line instead of a half-finished report.
public struct BenchConfig: Codable, Sendable, Equatable {
    public var name: String
    /// Loopback addresses the client connections are spread over (each gives ~28k source ports).
    public var sources: [String]
    public var fanout: [Fanout] = []
    public var pairs: [Pairs] = []
    public var idle: [Idle] = []
    public var history: [History] = []

    public struct Fanout: Codable, Sendable, Equatable {
        public var members: Int
        /// Messages per second sent by the one sender, one step per rate.
        public var rates: [Double]
        public var seconds: Double
        public var targets: [String]
    }

    public struct Pairs: Codable, Sendable, Equatable {
        public var pairs: Int
        /// Messages per second sent by each user of each pair, one step per rate.
        public var ratesPerUser: [Double]
        public var seconds: Double
        public var targets: [String]
    }

    public struct Idle: Codable, Sendable, Equatable {
        public var connections: Int
        /// Distinct users the connections are spread over (a user may hold several devices).
        public var users: Int
        public var restSeconds: Double
        public var targets: [String]
    }

    public struct History: Codable, Sendable, Equatable {
        public var concurrency: [Int]
        public var seconds: Double
        public var messages: Int
        public var targets: [String]
    }

    enum CodingKeys: String, CodingKey { case name, sources, fanout, pairs, idle, history }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        sources = try c.decode([String].self, forKey: .sources)
        fanout = try c.decodeIfPresent([Fanout].self, forKey: .fanout) ?? []
        pairs = try c.decodeIfPresent([Pairs].self, forKey: .pairs) ?? []
        idle = try c.decodeIfPresent([Idle].self, forKey: .idle) ?? []
        history = try c.decodeIfPresent([History].self, forKey: .history) ?? []
    }

    public static let knownTargets: Set<String> = ["messagerie-graphql", "messagerie-socketio", "peer-socketio", "peer-graphql", "ceiling"]

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func load(_ data: Data) throws -> BenchConfig {
        let config: BenchConfig
        do {
            config = try JSONDecoder().decode(BenchConfig.self, from: data)
        } catch let error as DecodingError {
            throw Invalid(description: "scenario file: \(Self.describe(error))")
        }
        try config.validate()
        return config
    }

    public func validate() throws {
        func fail(_ text: String) throws -> Never { throw Invalid(description: text) }
        guard !sources.isEmpty else { try fail("sources: give at least one loopback address") }
        for source in sources {
            let parts = source.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == "127", parts.allSatisfy({ UInt8($0) != nil }) else {
                try fail("sources: '\(source)' is not a 127.x.y.z loopback address")
            }
        }
        func checkTargets(_ targets: [String], _ place: String, allowed: Set<String>) throws {
            guard !targets.isEmpty else { try fail("\(place): no targets") }
            for target in targets where !allowed.contains(target) {
                try fail("\(place): unknown target '\(target)' (known: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        for (i, f) in fanout.enumerated() {
            guard f.members >= 2 else { try fail("fanout[\(i)].members must be at least 2") }
            guard !f.rates.isEmpty, f.rates.allSatisfy({ $0 > 0 && $0 <= 10_000 }) else { try fail("fanout[\(i)].rates must be 1 or more rates in (0, 10000]") }
            guard f.seconds > 0 else { try fail("fanout[\(i)].seconds must be positive") }
            try checkTargets(f.targets, "fanout[\(i)]", allowed: Self.knownTargets)
        }
        for (i, p) in pairs.enumerated() {
            guard p.pairs >= 1 else { try fail("pairs[\(i)].pairs must be at least 1") }
            guard !p.ratesPerUser.isEmpty, p.ratesPerUser.allSatisfy({ $0 > 0 && $0 <= 1000 }) else { try fail("pairs[\(i)].ratesPerUser must be rates in (0, 1000]") }
            guard p.seconds > 0 else { try fail("pairs[\(i)].seconds must be positive") }
            try checkTargets(p.targets, "pairs[\(i)]", allowed: ["messagerie-graphql", "peer-graphql"])
        }
        for (i, d) in idle.enumerated() {
            guard d.connections >= 1 else { try fail("idle[\(i)].connections must be at least 1") }
            guard d.users >= 1, d.users <= d.connections else { try fail("idle[\(i)].users must be between 1 and connections") }
            guard d.restSeconds > 0 else { try fail("idle[\(i)].restSeconds must be positive") }
            guard d.connections <= sources.count * 28_000 else { try fail("idle[\(i)]: \(d.connections) connections need more source addresses (28000 each)") }
            try checkTargets(d.targets, "idle[\(i)]", allowed: ["messagerie-graphql", "messagerie-socketio", "peer-socketio", "peer-graphql", "ceiling"])
        }
        for (i, h) in history.enumerated() {
            guard !h.concurrency.isEmpty, h.concurrency.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else { try fail("history[\(i)].concurrency must be values in 1...1024") }
            guard h.seconds > 0 else { try fail("history[\(i)].seconds must be positive") }
            guard h.messages >= 50 else { try fail("history[\(i)].messages must be at least 50 (one full page)") }
            try checkTargets(h.targets, "history[\(i)]", allowed: ["messagerie-graphql", "peer-graphql"])
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing '\(key.stringValue)' at \(path(context).isEmpty ? "top level" : path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type at \(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context): return "not valid JSON: \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
