import Foundation

/// One measured step: a scenario, a target (server), the load it was given and what came back.
public struct StepResult: Codable, Sendable, Equatable {
    public var scenario: String
    public var target: String
    /// e.g. `members=1000 rate=20/s`
    public var label: String
    public var parameters: [String: Double]
    public var durationSeconds: Double
    public var sent: Int = 0
    public var expected: Int = 0
    public var received: Int = 0
    public var errors: Int = 0
    /// Deliveries, messages or requests per second, whichever the scenario counts.
    public var throughput: Double = 0
    public var throughputUnit: String = ""
    public var latency: LatencySummary?
    /// Pairs: send until the delivery receipt is back at the sender.
    public var receiptLatency: LatencySummary?
    public var serverRSSBytes: Int?
    public var bytesPerConnection: Double?
    /// Idle: the same once one message has reached every connection and they rest again; a
    /// socket that has delivered keeps what that delivery grew.
    public var bytesPerConnectionAfterDelivery: Double?
    public var cpuPercentAtRest: Double?
    /// CPU time per counted unit (delivery, message, request) over the step, in microseconds:
    /// the server's, and the load generator's own, which shares the machine's cores with it.
    /// Steadier from run to run than the highest rate a step kept up with.
    public var serverCPUMicrosPerUnit: Double?
    public var loadgenCPUMicrosPerUnit: Double?
    public var note: String?

    public init(scenario: String, target: String, label: String, parameters: [String: Double], durationSeconds: Double) {
        self.scenario = scenario
        self.target = target
        self.label = label
        self.parameters = parameters
        self.durationSeconds = durationSeconds
    }

    public var lossFraction: Double { expected == 0 ? 0 : Double(max(0, expected - received)) / Double(expected) }
}

/// Where and how the numbers were taken.
public struct RunMeta: Codable, Sendable, Equatable {
    public var config: String
    public var commit: String
    public var startedAt: String
    public var machine: String
    public var cpuModel: String
    public var cores: Int
    public var memoryGiB: Double
    public var notes: [String]

    public init(config: String, commit: String, startedAt: String, machine: String, cpuModel: String, cores: Int, memoryGiB: Double, notes: [String] = []) {
        self.config = config
        self.commit = commit
        self.startedAt = startedAt
        self.machine = machine
        self.cpuModel = cpuModel
        self.cores = cores
        self.memoryGiB = memoryGiB
        self.notes = notes
    }
}

public struct RunReport: Codable, Sendable, Equatable {
    public var meta: RunMeta
    public var measurements: [StepResult]
    public var skipped: [String]

    public init(meta: RunMeta, measurements: [StepResult], skipped: [String] = []) {
        self.meta = meta
        self.measurements = measurements
        self.skipped = skipped
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The best throughput of a target in a scenario among steps matching `filter`, counting only
    /// steps that lost nothing (a server that drops messages has not delivered that rate).
    public func best(_ scenario: String, _ target: String, where filter: (StepResult) -> Bool = { _ in true }) -> StepResult? {
        measurements
            .filter { $0.scenario == scenario && $0.target == target && filter($0) && $0.lossFraction < 0.001 && $0.errors == 0 }
            .max { $0.throughput < $1.throughput }
    }

    /// The ratios that issue 8 sets targets for, as lines of text; a missing side says so.
    public func ratios() -> [String] {
        var lines: [String] = []
        func ratio(_ title: String, _ a: StepResult?, _ b: StepResult?, goal: String) {
            guard let a, let b, b.throughput > 0 else {
                lines.append("| \(title) | n/a | \(goal) | not measured: \(a == nil ? "first side" : "second side") missing |")
                return
            }
            let r = a.throughput / b.throughput
            lines.append("| \(title) | \(Self.fmt(r))× | \(goal) | \(Self.fmt(a.throughput)) vs \(Self.fmt(b.throughput)) \(a.throughputUnit) |")
        }
        let memberSizes = Set(measurements.filter { $0.scenario == "fanout" }.compactMap { $0.parameters["members"] }).sorted()
        for n in memberSizes {
            let m = { (x: StepResult) in x.parameters["members"] == n }
            let label = "members=\(Int(n))"
            ratio("fan-out \(label): Messagerie GraphQL / python-socketio", best("fanout", "messagerie-graphql", where: m), best("fanout", "peer-socketio", where: m), goal: n == 1000 ? "≥ 5×" : "")
            ratio("fan-out \(label): Messagerie Socket.IO / python-socketio", best("fanout", "messagerie-socketio", where: m), best("fanout", "peer-socketio", where: m), goal: n == 1000 ? "≥ 5×" : "")
            ratio("fan-out \(label): Messagerie GraphQL / strawberry", best("fanout", "messagerie-graphql", where: m), best("fanout", "peer-graphql", where: m), goal: "")
            ratio("fan-out \(label): Messagerie GraphQL / bare ceiling", best("fanout", "messagerie-graphql", where: m), best("fanout", "ceiling", where: m), goal: "≥ 0.5×")
        }
        let concurrencies = Set(measurements.filter { $0.scenario == "history" }.compactMap { $0.parameters["concurrency"] })
        if !concurrencies.isEmpty {
            ratio("history: Messagerie / strawberry (best concurrency)", best("history", "messagerie-graphql"), best("history", "peer-graphql"), goal: "≥ 10×")
        }
        if measurements.contains(where: { $0.scenario == "pairs" }) {
            let under100 = { (x: StepResult) in (x.latency?.p99Ms ?? .infinity) < 100 }
            ratio("pairs: sustained msgs/s at p99 < 100 ms, Messagerie / strawberry", best("pairs", "messagerie-graphql", where: under100), best("pairs", "peer-graphql", where: under100), goal: "")
        }
        return lines
    }

    public func markdown() -> String {
        var out = "# Benchmark run `\(meta.config)`\n\n"
        out += "- commit: `\(meta.commit)`\n- started: \(meta.startedAt)\n- machine: \(meta.machine), \(meta.cpuModel), \(meta.cores) cores, \(Self.fmt(meta.memoryGiB)) GiB\n"
        for note in meta.notes { out += "- \(note)\n" }
        out += "\n"
        for scenario in ["fanout", "pairs", "idle", "history"] {
            let rows = measurements.filter { $0.scenario == scenario }
            guard !rows.isEmpty else { continue }
            out += "## \(scenario)\n\n"
            if scenario == "idle" {
                out += "| target | connections | server RSS | bytes per connection | after one message each | CPU at rest | errors | note |\n|---|---|---|---|---|---|---|---|\n"
                for r in rows {
                    let kib = { (bytes: Double?) in bytes.map { Self.fmt($0 / 1024) + " KiB" } ?? "–" }
                    out += "| \(r.target) | \(Int(r.parameters["connections"] ?? 0)) | \(r.serverRSSBytes.map { Self.fmt(Double($0) / 1_048_576) + " MiB" } ?? "–") | \(kib(r.bytesPerConnection)) | \(kib(r.bytesPerConnectionAfterDelivery)) | \(r.cpuPercentAtRest.map { Self.fmt($0) + " %" } ?? "–") | \(r.errors) | \(r.note ?? "") |\n"
                }
            } else {
                out += "| target | load | throughput | p50 ms | p99 ms | p99.9 ms | max ms | lost | errors | CPU µs per unit: server / load generator |\(scenario == "pairs" ? " receipt p99 ms |" : "")\n"
                out += "|---|---|---|---|---|---|---|---|---|---|\(scenario == "pairs" ? "---|" : "")\n"
                for r in rows {
                    let l = r.latency
                    out += "| \(r.target) | \(r.label) | \(Self.fmt(r.throughput)) \(r.throughputUnit) | \(l.map { Self.fmt($0.p50Ms) } ?? "–") | \(l.map { Self.fmt($0.p99Ms) } ?? "–") | \(l.map { Self.fmt($0.p999Ms) } ?? "–") | \(l.map { Self.fmt($0.maxMs) } ?? "–") | \(Self.fmt(r.lossFraction * 100))% | \(r.errors) | \(Self.cpuPair(r)) |"
                    if scenario == "pairs" { out += " \(r.receiptLatency.map { Self.fmt($0.p99Ms) } ?? "–") |" }
                    out += "\n"
                }
            }
            out += "\n"
        }
        let ratioLines = ratios()
        if !ratioLines.isEmpty {
            out += "## Ratios\n\n| comparison | ratio | goal | figures |\n|---|---|---|---|\n" + ratioLines.joined(separator: "\n") + "\n\n"
        }
        if !skipped.isEmpty {
            out += "## Not run\n\n" + skipped.map { "- \($0)" }.joined(separator: "\n") + "\n"
        }
        return out
    }

    static func cpuPair(_ r: StepResult) -> String {
        guard r.serverCPUMicrosPerUnit != nil || r.loadgenCPUMicrosPerUnit != nil else { return "–" }
        return "\(r.serverCPUMicrosPerUnit.map(fmt) ?? "–") / \(r.loadgenCPUMicrosPerUnit.map(fmt) ?? "–")"
    }

    /// Microseconds of CPU per unit between two readings of a process's CPU seconds; nil without
    /// both readings or without a unit counted.
    public static func cpuMicrosPerUnit(from start: Double?, to end: Double?, units: Int) -> Double? {
        guard let start, let end, units > 0, end >= start else { return nil }
        return (end - start) * 1e6 / Double(units)
    }

    public static func fmt(_ value: Double) -> String {
        if value.isNaN || value.isInfinite { return "–" }
        if abs(value) >= 100 { return String(Int(value.rounded())) }
        if abs(value) >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }
}
