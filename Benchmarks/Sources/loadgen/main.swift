import AsyncHTTPClient
import BenchCore
import Foundation
import NIOPosix

/// loadgen run    --config FILE --target NAME --url http://127.0.0.1:PORT --out FILE
///                [--server-pid PID] [--termii-port PORT] [--users-cache FILE] [--only fanout,idle,...]
/// loadgen report --out-dir DIR [--commit SHA] [--note TEXT] RAW.json...
let usage = """
    usage: loadgen run --config FILE --target NAME --url URL --out FILE [--server-pid PID] [--termii-port PORT] [--users-cache FILE] [--only LIST] [--commit SHA] [--psql PATH --database-url URL]
           loadgen report --out-dir DIR [--commit SHA] [--note TEXT] RAW.json...
    """

func machineMeta(config: String, commit: String, startedAt: String, notes: [String] = []) -> RunMeta {
    var name = utsname()
    uname(&name)
    let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    return RunMeta(config: config, commit: commit, startedAt: startedAt, machine: "Linux \(release) \(machine)",
                   cpuModel: ProcessStats.cpuModel(), cores: ProcessInfo.processInfo.activeProcessorCount,
                   memoryGiB: ProcessStats.memoryGiB(), notes: notes)
}

func runCommand(_ args: Arguments) async throws {
    let startedAt = Date().formatted(.iso8601)
    let configPath = try args.required("config")
    guard let data = FileManager.default.contents(atPath: configPath) else { throw Arguments.Problem(description: "cannot read \(configPath)") }
    let config = try BenchConfig.load(data)
    let targetName = try args.required("target")
    guard let (proto, isMessagerie) = Target.named(targetName) else { throw Arguments.Problem(description: "unknown target \(targetName)") }
    guard let url = URL(string: try args.required("url")), let host = url.host, let port = url.port else {
        throw Arguments.Problem(description: "--url must look like http://127.0.0.1:4001")
    }
    let out = try args.required("out")
    let only = args.options["only"].map { Set($0.split(separator: ",").map(String.init)) }
    let pid = try args.int("server-pid").map(Int32.init)

    let termii: FakeTermii? = try args.int("termii-port").map { port in
        let fake = FakeTermii()
        Task { do { try await fake.run(port: port) } catch { log("fake Termii stopped: \(error)") } }
        return fake
    }
    if termii != nil { try await Task.sleep(for: .milliseconds(500)) }
    let client = HTTPJSON.makeClient(connections: 512)
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let target = Target(name: targetName, proto: proto, isMessagerie: isMessagerie, host: host, port: port,
                        http: HTTPJSON(client: client, baseURL: "http://\(host):\(port)"), group: group,
                        sources: config.sources, termii: termii, usersCache: args.options["users-cache"])
    let analyzeWith = args.options["psql"].flatMap { psql in args.options["database-url"].map { (psql: psql, databaseURL: $0) } }
    let scenarios = Scenarios(target: target, serverPID: pid, analyzeWith: analyzeWith)
    var measurements: [StepResult] = []
    var skipped: [String] = []
    func wanted(_ name: String, _ targets: [String]) -> Bool { (only?.contains(name) ?? true) && targets.contains(targetName) }
    func attempt(_ what: String, _ body: () async throws -> [StepResult]) async {
        do { measurements += try await body() } catch {
            log("\(what) failed: \(error)")
            skipped.append("\(what) on \(targetName): failed: \(String(describing: error).prefix(300))")
        }
    }
    // Idle first: resident memory is measured before other scenarios grow the heap.
    for spec in config.idle where wanted("idle", spec.targets) {
        await attempt("idle connections=\(spec.connections)") { [try await scenarios.idle(spec)] }
    }
    for spec in config.fanout where wanted("fanout", spec.targets) {
        await attempt("fan-out members=\(spec.members)") { try await scenarios.fanout(spec) }
    }
    for spec in config.pairs where wanted("pairs", spec.targets) {
        await attempt("pairs \(spec.pairs)") { try await scenarios.pairs(spec) }
    }
    for spec in config.history where wanted("history", spec.targets) {
        await attempt("history") { try await scenarios.history(spec) }
    }
    let report = RunReport(meta: machineMeta(config: config.name, commit: args.options["commit"] ?? "unknown", startedAt: startedAt), measurements: measurements, skipped: skipped)
    try report.json().write(to: URL(fileURLWithPath: out))
    log("wrote \(out): \(measurements.count) measurements, \(skipped.count) failures")
    try await client.shutdown()
    try await group.shutdownGracefully()
}

func reportCommand(_ args: Arguments) throws {
    let outDir = try args.required("out-dir")
    guard !args.positional.isEmpty else { throw Arguments.Problem(description: "report needs raw result files") }
    var measurements: [StepResult] = []
    var skipped: [String] = []
    var configName = "?"
    var startedAt: String?
    for path in args.positional {
        guard let data = FileManager.default.contents(atPath: path) else { throw Arguments.Problem(description: "cannot read \(path)") }
        let part = try JSONDecoder().decode(RunReport.self, from: data)
        measurements += part.measurements
        skipped += part.skipped
        configName = part.meta.config
        // The run started when its first part did (ISO 8601 in UTC: text order is time order).
        startedAt = min(startedAt ?? part.meta.startedAt, part.meta.startedAt)
    }
    let notes = args.options["note"].map { $0.components(separatedBy: " | ") } ?? []
    let extraSkipped = args.options["skipped"].map { $0.components(separatedBy: " | ").filter { !$0.isEmpty } } ?? []
    let report = RunReport(meta: machineMeta(
        config: configName, commit: args.options["commit"] ?? "unknown", startedAt: startedAt ?? Date().formatted(.iso8601), notes: notes),
                           measurements: measurements, skipped: skipped + extraSkipped)
    try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
    try report.json().write(to: URL(fileURLWithPath: outDir + "/results.json"))
    try Data(report.markdown().utf8).write(to: URL(fileURLWithPath: outDir + "/results.md"))
    print(report.markdown())
}

do {
    let words = Array(CommandLine.arguments.dropFirst())
    let args = try Arguments(words, valued: ["config", "target", "url", "out", "server-pid", "termii-port", "users-cache", "only", "commit", "out-dir", "note", "skipped", "psql", "database-url"])
    switch args.positional.first {
    case "run": try await runCommand(args)
    case "report":
        var rest = args
        rest.positional.removeFirst()
        try reportCommand(rest)
    default:
        print(usage)
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("loadgen: \(error)\n".utf8))
    exit(1)
}
