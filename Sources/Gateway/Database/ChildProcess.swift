import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts programs with `posix_spawn` rather than Foundation's `Process`, which on Linux falls
/// short twice here: it deems a child running until every process that inherited its private
/// socket has exited, and `pg_ctl start` leaves the server holding it, so `waitUntilExit()` never
/// returns; and children inherit the signal mask of the dispatch thread that started them, where
/// SIGTERM and most other signals are blocked. Here the child gets stdin from /dev/null, the
/// given output pipes, default signal handling, no other descriptor, and a process group of its
/// own.
struct ChildProcess: Sendable {
    private let pid: pid_t

    private struct Output: Sendable {
        var stdout: Int32
        var stderr: Int32?
    }

    /// `arguments[0]` may be a bare name: it is looked up in PATH, then in the sbin folders
    /// (`runuser`, `useradd`) that are often missing from it.
    private static func spawn(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil, mergeOutput: Bool
    ) throws -> (ChildProcess, Output) {
        let command = arguments.joined(separator: " ")
        var argv = [try resolve(arguments[0])] + arguments.dropFirst()
        if let directory {
            // posix_spawn has no portable "change directory" action: the shell does it, then
            // becomes the command.
            argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + argv
        }
        let stdout = try makePipe()
        let stderr = mergeOutput ? stdout : try makePipe()

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr.write, 2)

        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultHandling = sigset_t()
        sigemptyset(&defaultHandling)
        sigaddset(&defaultHandling, SIGPIPE)
        sigaddset(&defaultHandling, SIGTERM)
        sigaddset(&defaultHandling, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaultHandling)
        // Its own process group, so that a timeout reaches whatever it started too.
        posix_spawnattr_setpgroup(&attributes, 0)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETPGROUP)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #else
        // Close every other descriptor, including those opened without O_CLOEXEC (closing one
        // that is gone by then is not an error for glibc).
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        #endif
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let cArguments = argv.map { strdup($0) } + [nil]
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        let cEnvironment = merged.map { strdup("\($0)=\($1)") } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }

        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
        close(stdout.write)
        if !mergeOutput { close(stderr.write) }
        guard spawned == 0 else {
            close(stdout.read)
            if !mergeOutput { close(stderr.read) }
            throw ChildProcessError("could not run \(command): \(String(cString: strerror(spawned)))")
        }
        return (ChildProcess(pid: pid), Output(stdout: stdout.read, stderr: mergeOutput ? nil : stderr.read))
    }

    struct Completion: Sendable {
        /// The exit status, or 128 + N for a death by signal N, as in a shell.
        var status: Int32
        var stdout: Data
        /// Empty when merged into `stdout`.
        var stderr: Data
        var timedOut: Bool

        /// Both outputs as text, for error messages.
        var output: String {
            String(decoding: stdout + stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Blocks a dispatch thread rather than one of the few threads of Swift concurrency.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        mergeOutput: Bool, timeout: Duration? = nil
    ) async throws -> Completion {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    try runBlocking(arguments, environment: environment, directory: directory, mergeOutput: mergeOutput, timeout: timeout)
                })
            }
        }
    }

    /// Runs to completion, reading both outputs at once so that a child filling one pipe while
    /// we wait on the other cannot hang. Past `timeout` the child gets SIGTERM, then SIGKILL
    /// 5 s later if it ignores that.
    static func runBlocking(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        mergeOutput: Bool, timeout: Duration? = nil
    ) throws -> Completion {
        let (child, output) = try spawn(arguments, environment: environment, directory: directory, mergeOutput: mergeOutput)
        let deadline = timeout.map { Deadline(child: child, timeout: $0) }
        let errors = Collected()
        let readers = DispatchGroup()
        if let fd = output.stderr {
            DispatchQueue.global().async(group: readers) { errors.data = readAll(fd) }
        }
        let stdout = readAll(output.stdout)
        readers.wait()
        child.waitForExit()
        let timedOut = deadline?.disarm() ?? false
        return Completion(status: child.reap(), stdout: stdout, stderr: errors.data, timedOut: timedOut)
    }

    /// Waits without reaping: until `reap()`, the pid (and group id) stays this child's, so a
    /// late signal from the deadline cannot reach unrelated processes that reused the number.
    private func waitForExit() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
    }

    private func reap() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    private final class Deadline: @unchecked Sendable {
        private let lock = NSLock()
        private var state = State.armed
        private enum State { case armed, fired, disarmed }

        init(child: ChildProcess, timeout: Duration) {
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                self.lock.withLock {
                    guard self.state == .armed else { return }
                    self.state = .fired
                    kill(-child.pid, SIGTERM)
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
                    self.lock.withLock {
                        if self.state == .fired { kill(-child.pid, SIGKILL) }
                    }
                }
            }
        }

        /// Returns whether the deadline had passed.
        func disarm() -> Bool {
            lock.withLock {
                defer { state = .disarmed }
                return state == .fired
            }
        }
    }

    private final class Collected: @unchecked Sendable {
        var data = Data()
    }

    /// Reads until every writer has closed, then closes `fd`.
    private static func readAll(_ fd: Int32) -> Data {
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                return data
            }
        }
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw ChildProcessError("pipe() failed: \(String(cString: strerror(errno)))") }
        // Only the child's dup2'd copies may survive into other programs.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    private static func resolve(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let folders = path + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        guard let found = folders.map({ "\($0)/\(name)" }).first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw ChildProcessError("`\(name)` not found in PATH or the usual system folders")
        }
        return found
    }
}

struct ChildProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
