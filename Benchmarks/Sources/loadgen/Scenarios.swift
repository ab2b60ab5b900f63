import BenchCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The four scenarios, written once against `Target`.
struct Scenarios {
    let target: Target
    let serverPID: Int32?
    /// `psql` and the target's database URL, for `ANALYZE` once a scenario's data is in.
    let analyzeWith: (psql: String, databaseURL: String)?
    let stats = LiveStats()

    private func seconds(since start: UInt64) -> Double { Double(nowNanos() - start) / 1e9 }

    private func open(_ users: [BenchUser], indexes: [Int], subscriptions: [String] = [Target.receivedQuery],
                      onFrame: @escaping @Sendable (Int, ByteBuffer, WSConnection) -> Void) async throws -> [Session] {
        let target = self.target
        let started = nowNanos()
        let sessions = try await boundedMap(indexes, limit: 48) { i in
            try await target.connect(users[i % users.count], index: i, subscriptions: subscriptions) { buffer, connection in
                onFrame(i, buffer, connection)
            }
        }
        log("opened \(sessions.count) \(target.proto.rawValue) connections in \(String(format: "%.1f", seconds(since: started))) s")
        return sessions
    }

    /// Refreshes the planner's statistics of the target's database once a scenario's rows are
    /// written, as pgbench does after loading: measured at once, a step ran on plans made for
    /// tables PostgreSQL still took for empty until autovacuum's next pass (a minute by default),
    /// and for history that plan read every receipt of a user per message (2.1 ms of a page's
    /// 3.5 ms in PostgreSQL, 0.26 ms after `ANALYZE`). Every target's database gets the same.
    private func analyze() {
        guard let analyzeWith else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyzeWith.psql)
        process.arguments = ["-qc", "ANALYZE", analyzeWith.databaseURL]
        do {
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { log("  ANALYZE failed (psql exit \(process.terminationStatus))") }
        } catch {
            log("  ANALYZE could not run: \(error)")
        }
    }

    /// Waits until the server uses under a tenth of a core over a second (at most `cap`): a step
    /// that saturated it leaves a backlog (queued deliveries, receipts) that would otherwise be
    /// measured as the next step's slowness.
    private func settle(cap: Duration = .seconds(60)) async {
        guard let pid = serverPID, var last = ProcessStats.cpuSeconds(pid: pid) else { return }
        let deadline = ContinuousClock.now + cap
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .seconds(1))
            guard let now = ProcessStats.cpuSeconds(pid: pid) else { return }
            if now - last < 0.1 { return }
            last = now
        }
        log("  the server was still busy after \(cap); measuring anyway")
    }

    /// CPU seconds used so far by the server and by this process.
    private func cpuNow() -> (server: Double?, own: Double?) {
        (serverPID.flatMap { ProcessStats.cpuSeconds(pid: $0) }, ProcessStats.cpuSeconds(pid: getpid()))
    }

    private func recordCPU(_ m: inout StepResult, since start: (server: Double?, own: Double?), units: Int) {
        let now = cpuNow()
        m.serverCPUMicrosPerUnit = RunReport.cpuMicrosPerUnit(from: start.server, to: now.server, units: units)
        m.loadgenCPUMicrosPerUnit = RunReport.cpuMicrosPerUnit(from: start.own, to: now.own, units: units)
    }

    private func closeAll(_ sessions: [Session]) async {
        for session in sessions {
            session.connection.close()
            session.acks?.failAll()
        }
        try? await Task.sleep(for: .seconds(1))
    }

    // MARK: fan-out

    func fanout(_ spec: BenchConfig.Fanout) async throws -> [StepResult] {
        let n = spec.members
        log("fan-out: \(n) members on \(target.name)")
        // The scenario before may have left the server busy (closing 10,000 idle connections kept
        // python-socketio from answering this setup's requests within their deadline).
        await settle()
        let users = try await target.users(n)
        let conversation = try await target.makeGroup(users)
        let stats = self.stats
        let receivers = try await open(users, indexes: Array(1..<n)) { _, buffer, _ in
            if let sent = Marker.find(in: buffer) { stats.delivered(sentAt: sent) }
        }
        let sender: Session? = target.proto == .graphql ? nil : try await target.connect(users[0], index: 0) { _, _ in }
        defer { Task { [receivers] in await closeAll(receivers + (sender.map { [$0] } ?? [])) } }
        try await Task.sleep(for: .seconds(1))
        analyze()

        var results: [StepResult] = []
        for rate in spec.rates {
            await stats.quiet()
            await settle()
            stats.reset()
            let count = max(1, Int((rate * spec.seconds).rounded()))
            let inFlight = InFlight(limit: 256)
            let cpu = cpuNow()
            let sent = await paced(count: count, rate: rate, inFlight: inFlight) { sentAt in
                try await target.send(text: Marker.text(sentAt: sentAt), conversationId: conversation, sender: users[0], session: sender)
            }
            let expected = sent.started * (n - 1)
            await stats.drain(cap: .seconds(max(10, spec.seconds * 2))) { $0.received >= expected }
            let s = stats.snapshot
            var m = StepResult(scenario: "fanout", target: target.name, label: "members=\(n) rate=\(RunReport.fmt(rate))/s",
                                parameters: ["members": Double(n), "rate": rate], durationSeconds: Double(s.lastArrival - s.stepStart) / 1e9)
            m.sent = sent.started
            m.expected = expected
            m.received = s.received
            m.errors = s.errors + sent.skipped
            m.throughput = m.durationSeconds > 0 ? Double(s.received) / m.durationSeconds : 0
            m.throughputUnit = "deliveries/s"
            m.latency = s.deliveries.summary
            recordCPU(&m, since: cpu, units: s.received)
            if let e = s.firstError { m.note = "first error: \(e.prefix(160))" }
            if sent.skipped > 0 { m.note = (m.note ?? "") + " \(sent.skipped) sends skipped: too many in flight" }
            results.append(m)
            log("  rate \(rate)/s: \(Int(m.throughput)) deliveries/s, p99 \(RunReport.fmt(m.latency!.p99Ms)) ms, lost \(RunReport.fmt(m.lossFraction * 100))%, errors \(m.errors)")
            let unanswered = await inFlight.drained()
            if unanswered > 0 {
                m.errors += unanswered
                m.note = (m.note ?? "") + " \(unanswered) sends never acknowledged within 30 s"
            }
            results[results.count - 1] = m
            if m.lossFraction > 0.02 || m.errors > count / 10 || m.latency!.p99Ms > 5_000 {
                log("  saturated: higher rates skipped")
                break
            }
        }
        return results
    }

    /// Starts `count` sends at a fixed rate without waiting for each to finish (open loop).
    private func paced(count: Int, rate: Double, inFlight: InFlight, _ body: @escaping @Sendable (UInt64) async throws -> Void) async -> (started: Int, skipped: Int) {
        let interval = UInt64(1e9 / rate)
        let start = nowNanos()
        var started = 0, skipped = 0
        let stats = self.stats
        for i in 0..<count {
            let due = start + UInt64(i) * interval
            let now = nowNanos()
            if due > now { try? await Task.sleep(for: .nanoseconds(Int64(due - now))) }
            guard inFlight.enter() else { skipped += 1; continue }
            started += 1
            let sentAt = nowNanos()
            Task {
                do { try await body(sentAt) } catch { stats.error("\(error)") }
                inFlight.leave()
            }
        }
        return (started, skipped)
    }

    // MARK: pairs

    func pairs(_ spec: BenchConfig.Pairs) async throws -> [StepResult] {
        let m = spec.pairs, n = 2 * m
        log("pairs: \(m) direct conversations on \(target.name)")
        await settle()
        let users = try await target.users(n)
        let target = self.target
        let conversations = try await boundedMap(Array(0..<m), limit: 16) { p in try await target.makeDirect(users[2 * p], users[2 * p + 1]) }
        let stats = self.stats
        let http = target.http
        let receipts = InFlight(limit: 1 << 20)
        let sessions = try await open(users, indexes: Array(0..<n), subscriptions: [Target.receivedQuery, Target.statusQuery]) { i, buffer, _ in
            let view = buffer.readableBytesView
            guard let sentAt = Marker.find(in: view), let from = Marker.find(in: view, key: "u") else { return }
            let mine = Int(from) == i
            if contains(view, "\"messageStatusChanged\"") {
                if mine && contains(view, "\"DELIVERED\"") { stats.receipt(sentAt: sentAt) }
            } else if contains(view, "\"messageReceived\"") && !mine {
                stats.delivered(sentAt: sentAt)
                guard let id = GraphQLWSFrame.stringValue(of: "mid", in: view) else { return }
                let token = users[i].token
                _ = receipts.enter()
                Task {
                    do { _ = try await http.graphQL("mutation($ids: [ID!]!) { markDelivered(messageIds: $ids) { id } }", variables: ["ids": [id]], token: token) }
                    catch { stats.error("markDelivered: \(error)") }
                    receipts.leave()
                }
            }
        }
        defer { Task { await closeAll(sessions) } }
        try await Task.sleep(for: .seconds(1))
        analyze()

        var results: [StepResult] = []
        for rate in spec.ratesPerUser {
            await stats.quiet()
            await settle()
            stats.reset()
            let total = rate * Double(n)
            let count = max(1, Int((total * spec.seconds).rounded()))
            let inFlight = InFlight(limit: 2048)
            let cpu = cpuNow()
            let sent = await paced(count: count, rate: total, inFlight: inFlight) { sentAt in
                let u = Int.random(in: 0..<n)
                let text = "p ~t\(sentAt)~ ~u\(u)~"
                try await target.send(text: text, conversationId: conversations[u / 2], sender: users[u], session: nil)
            }
            await stats.drain(cap: .seconds(max(10, spec.seconds * 2))) { $0.received >= sent.started && $0.receiptCount >= sent.started }
            let s = stats.snapshot
            var r = StepResult(scenario: "pairs", target: target.name, label: "pairs=\(m) \(RunReport.fmt(total)) msg/s offered",
                                parameters: ["pairs": Double(m), "ratePerUser": rate, "offered": total], durationSeconds: Double(s.lastArrival - s.stepStart) / 1e9)
            r.sent = sent.started
            r.expected = sent.started
            r.received = min(s.received, s.receiptCount)
            r.errors = s.errors + sent.skipped
            r.throughput = r.durationSeconds > 0 ? Double(r.received) / r.durationSeconds : 0
            r.throughputUnit = "msgs/s (delivered + receipted)"
            r.latency = s.deliveries.summary
            r.receiptLatency = s.receipts.summary
            recordCPU(&r, since: cpu, units: r.received)
            if let e = s.firstError { r.note = "first error: \(e.prefix(160))" }
            results.append(r)
            log("  \(total) msg/s offered: \(Int(r.throughput)) msg/s, deliver p99 \(RunReport.fmt(r.latency!.p99Ms)) ms, receipt p99 \(RunReport.fmt(r.receiptLatency!.p99Ms)) ms, lost \(RunReport.fmt(r.lossFraction * 100))%, errors \(r.errors)")
            await inFlight.drained()
            await receipts.drained()
            if r.lossFraction > 0.02 || r.errors > count / 10 || r.latency!.p99Ms > 5_000 {
                log("  saturated: higher rates skipped")
                break
            }
        }
        return results
    }

    // MARK: idle

    func idle(_ spec: BenchConfig.Idle) async throws -> StepResult {
        log("idle: \(spec.connections) connections over \(spec.users) users on \(target.name)")
        let users = try await target.users(spec.users)
        // One group of everyone, for the message that reaches every connection at the end.
        let everyone = try await target.makeGroup(users)
        var m = StepResult(scenario: "idle", target: target.name, label: "connections=\(spec.connections)",
                            parameters: ["connections": Double(spec.connections), "users": Double(spec.users)], durationSeconds: spec.restSeconds)
        try await Task.sleep(for: .seconds(2))
        let before = serverPID.flatMap(ProcessStats.rssBytes)
        let reached = NIOLockedValueBox(Set<Int>())
        let sessions = try await open(users, indexes: Array(0..<spec.connections)) { i, _, _ in
            reached.withLockedValue { _ = $0.insert(i) }
        }
        try await Task.sleep(for: .seconds(min(5, spec.restSeconds)))
        let cpu0 = serverPID.flatMap(ProcessStats.cpuSeconds)
        let t0 = nowNanos()
        try await Task.sleep(for: .seconds(spec.restSeconds))
        let cpu1 = serverPID.flatMap(ProcessStats.cpuSeconds)
        let after = serverPID.flatMap(ProcessStats.rssBytes)
        let alive = sessions.filter { $0.connection.channel.isActive }.count
        m.sent = spec.connections
        m.expected = spec.connections
        m.received = alive
        m.throughput = Double(alive)
        m.throughputUnit = "connections open"
        m.serverRSSBytes = after
        if let before, let after { m.bytesPerConnection = Double(after - before) / Double(spec.connections) }
        if let cpu0, let cpu1 { m.cpuPercentAtRest = (cpu1 - cpu0) / (Double(nowNanos() - t0) / 1e9) * 100 }
        m.note = "RSS before connecting \(before.map { "\($0 / 1_048_576) MiB" } ?? "?")"
        log("  \(alive)/\(spec.connections) open, \(m.bytesPerConnection.map { Int($0) } ?? -1) bytes per connection, CPU at rest \(RunReport.fmt(m.cpuPercentAtRest ?? -1)) %")

        // Then one message to everyone, and the same rest again: what a connection keeps once it
        // has delivered something. The sender's own connections may not be told of its message.
        let others = (0..<spec.connections).filter { $0 % users.count != 0 }.count
        try await target.send(text: "one for everyone", conversationId: everyone, sender: users[0], session: sessions[0])
        let deadline = nowNanos() + 60_000_000_000
        while reached.withLockedValue({ $0.count }) < others, nowNanos() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let delivered = reached.withLockedValue { $0.count }
        try await Task.sleep(for: .seconds(spec.restSeconds))
        if let before, let later = serverPID.flatMap(ProcessStats.rssBytes) {
            m.bytesPerConnectionAfterDelivery = Double(later - before) / Double(spec.connections)
        }
        m.note = (m.note ?? "") + "; the message to everyone reached \(delivered) connections"
        if delivered < others { m.errors += 1 }
        log("  one message to everyone: \(delivered)/\(spec.connections) connections reached, \(m.bytesPerConnectionAfterDelivery.map { Int($0) } ?? -1) bytes per connection after it")
        await closeAll(sessions)
        return m
    }

    // MARK: history

    static let historyQuery = """
        query($c: ID!) { messages(conversationId: $c, last: 50) { edges { node { id text createdAt sender { id displayName } \
        reactions { emoji count reactedByMe } receipts { user { id displayName } deliveredAt readAt } } } } }
        """

    func history(_ spec: BenchConfig.History) async throws -> [StepResult] {
        log("history: \(spec.messages) messages in a 5-member group on \(target.name)")
        await settle()
        let users = try await target.users(5)
        let conversation = try await seedHistory(users, count: spec.messages)
        let body = try JSONSerialization.data(withJSONObject: ["query": Self.historyQuery, "variables": ["c": conversation]])
        let http = target.http
        let (status, check) = try await http.post(path: "/graphql", body: body, token: users[0].token)
        guard status == 200, String(buffer: check).components(separatedBy: "\"deliveredAt\"").count > 50, !String(buffer: check).contains("\"errors\"") else {
            throw HTTPJSON.Failed(description: "history query check failed (\(status)): \(String(buffer: check).prefix(300))")
        }
        analyze()
        await settle()
        var results: [StepResult] = []
        for concurrency in spec.concurrency {
            stats.reset()
            let stats = self.stats
            let end = nowNanos() + UInt64(spec.seconds * 1e9)
            let start = nowNanos()
            let cpu = cpuNow()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<concurrency {
                    group.addTask {
                        while nowNanos() < end {
                            let t = nowNanos()
                            do {
                                let (status, bytes) = try await http.post(path: "/graphql", body: body, token: users[w % users.count].token)
                                if status == 200 && bytes.readableBytes > 1000 && !ByteSearch.contains(bytes, "\"errors\"") {
                                    stats.delivered(sentAt: t)
                                } else {
                                    stats.error("status \(status): \(String(buffer: bytes).prefix(160))")
                                }
                            } catch { stats.error("\(error)") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let s = stats.snapshot
            var m = StepResult(scenario: "history", target: target.name, label: "concurrency=\(concurrency)",
                                parameters: ["concurrency": Double(concurrency)], durationSeconds: seconds(since: start))
            m.sent = s.received + s.errors
            m.expected = m.sent
            m.received = s.received
            m.errors = s.errors
            m.throughput = Double(s.received) / m.durationSeconds
            m.throughputUnit = "requests/s"
            m.latency = s.deliveries.summary
            recordCPU(&m, since: cpu, units: s.received)
            if let e = s.firstError { m.note = "first error: \(e.prefix(160))" }
            results.append(m)
            log("  concurrency \(concurrency): \(Int(m.throughput)) req/s, p50 \(RunReport.fmt(m.latency!.p50Ms)) ms, p99 \(RunReport.fmt(m.latency!.p99Ms)) ms, errors \(m.errors)")
        }
        return results
    }

    /// 5 members, `count` messages from rotating senders, two reactions on each, every message
    /// delivered to every other member and read by two of them: every page row has a sender,
    /// reactions and four receipts to resolve.
    private func seedHistory(_ users: [BenchUser], count: Int) async throws -> String {
        if !target.isMessagerie {
            let answer = try await target.http.postJSON(path: "/setup/history", object: ["memberIds": users.map(\.id), "count": count])
            guard let object = answer as? [String: Any], let id = object["conversationId"] else { throw HTTPJSON.Failed(description: "peer /setup/history answered badly") }
            return "\(id)"
        }
        let http = target.http
        let conversation = try await target.makeGroup(users)
        var ids: [[String]] = Array(repeating: [], count: users.count)
        var all: [String] = []
        for i in 0..<count {
            let s = i % users.count
            let data = try await http.graphQL("mutation($c: ID!, $t: String!) { sendMessage(input: {conversationId: $c, text: $t}) { id } }",
                                              variables: ["c": conversation, "t": "history message \(i) with a few words of text"], token: users[s].token)
            let id = (data["sendMessage"] as! [String: Any])["id"] as! String
            ids[s].append(id)
            all.append(id)
            for (k, emoji) in ["👍", "❤️"].enumerated() {
                _ = try await http.graphQL("mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id } }",
                                           variables: ["m": id, "e": emoji], token: users[(s + 1 + k) % users.count].token)
            }
        }
        for (u, user) in users.enumerated() {
            let others = all.filter { !ids[u].contains($0) }
            _ = try await http.graphQL("mutation($ids: [ID!]!) { markDelivered(messageIds: $ids) { id } }", variables: ["ids": others], token: user.token)
            if u < 2 {
                _ = try await http.graphQL("mutation($c: ID!, $m: ID!) { markRead(conversationId: $c, upToMessageId: $m) }",
                                           variables: ["c": conversation, "m": all.last!], token: user.token)
            }
        }
        return conversation
    }
}

func contains(_ view: ByteBufferView, _ text: StaticString) -> Bool {
    let needle = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    return view.withUnsafeBytes { ByteSearch.contains($0, needle) }
}
