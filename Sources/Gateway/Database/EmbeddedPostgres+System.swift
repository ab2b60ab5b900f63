import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension EmbeddedPostgres {
    /// The PostgreSQL tools report problems on stdout or stderr indifferently, so both are kept
    /// together, in order, for the error messages.
    ///
    /// Not Foundation's `Process`: on Linux it hands every child a socket and deems the child
    /// running until that socket closes, and `pg_ctl start` leaves the server holding it, so
    /// `waitUntilExit()` never returns. Here the child inherits nothing but stdin/stdout/stderr.
    enum Subprocess {
        struct Outcome: Sendable {
            var status: Int32
            var output: String
        }

        /// Blocks a dispatch thread rather than one of the few threads of Swift concurrency.
        static func run(_ arguments: [String], in directory: String) async throws -> Outcome {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try runBlocking(arguments, in: directory) })
                }
            }
        }

        static func runBlocking(_ arguments: [String], in directory: String) throws -> Outcome {
            let command = arguments.joined(separator: " ")
            // posix_spawn has no portable "change directory" action; the shell does it, then
            // becomes the command.
            let argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory, try resolve(arguments[0])] + arguments.dropFirst()
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw EmbeddedPostgresError("pipe() failed for \(command): \(String(cString: strerror(errno)))") }
            let (readEnd, writeEnd) = (fds[0], fds[1])
            _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
            defer { close(readEnd) }

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
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
            #if canImport(Darwin)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_CLOEXEC_DEFAULT))
            #else
            // Everything else stays behind, even descriptors opened without O_CLOEXEC.
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for fd in open.compactMap({ Int32($0) }) where fd > 2 {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
            #endif

            let cArguments = argv.map { strdup($0) } + [nil]
            let environment = ProcessInfo.processInfo.environment.map { strdup("\($0)=\($1)") } + [nil]
            defer { (cArguments + environment).forEach { free($0) } }
            var pid = pid_t()
            let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environment)
            close(writeEnd)
            guard spawned == 0 else {
                throw EmbeddedPostgresError("could not run \(command): \(String(cString: strerror(spawned)))")
            }

            var output = Data()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(readEnd, &buffer, buffer.count)
                if count > 0 {
                    output.append(contentsOf: buffer[0..<count])
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let signal = status & 0x7F
            let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return Outcome(status: signal == 0 ? (status >> 8) & 0xFF : 128 + signal, output: text)
        }

        /// `runuser`, `useradd` and `chown` live in sbin folders that are often missing from PATH.
        private static func resolve(_ name: String) throws -> String {
            if name.contains("/") { return name }
            let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            let folders = path + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            guard let found = folders.map({ "\($0)/\(name)" }).first(where: FileManager.default.isExecutableFile(atPath:)) else {
                throw EmbeddedPostgresError("`\(name)` not found in PATH or the usual system folders")
            }
            return found
        }
    }

    /// PostgreSQL refuses to run as root; as root, the cluster belongs to the `postgres` user.
    enum SystemUser {
        struct Account: Sendable {
            var uid: uid_t
            var gid: gid_t
        }

        static var isRoot: Bool { geteuid() == 0 }

        static func postgres() throws -> Account {
            if let account = lookup("postgres") { return account }
            let created = try Subprocess.runBlocking(
                ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], in: "/"
            )
            guard created.status == 0, let account = lookup("postgres") else {
                throw EmbeddedPostgresError(
                    "running as root needs a `postgres` system user to own the embedded PostgreSQL, and `useradd --system postgres` failed: \(created.output)"
                )
            }
            return account
        }

        static func owner(of path: String) -> uid_t? {
            var info = stat()
            return stat(path, &info) == 0 ? info.st_uid : nil
        }

        /// Prefers `runuser`, which needs no login shell; `su` is for systems without util-linux.
        static func asPostgres(_ arguments: [String]) -> [String] {
            let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
                .first(where: FileManager.default.isExecutableFile(atPath:))
            if let runuser {
                return [runuser, "-u", "postgres", "--"] + arguments
            }
            let command = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            return ["su", "-s", "/bin/sh", "postgres", "-c", command]
        }

        private static func lookup(_ name: String) -> Account? {
            guard let entry = getpwnam(name) else { return nil }
            return Account(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        }
    }

    /// Probes 127.0.0.1 by binding, the only reliable way to know a port is free right now.
    enum LoopbackPort {
        static func free() throws -> Int {
            guard let port = probe(0) else {
                throw EmbeddedPostgresError("could not find a free TCP port on 127.0.0.1: \(String(cString: strerror(errno)))")
            }
            return port
        }

        static func isFree(_ port: Int) -> Bool {
            probe(port) != nil
        }

        private static func probe(_ port: Int) -> Int? {
            #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            // As PostgreSQL does, so that connections of a just-stopped server in TIME_WAIT do
            // not make its own port look taken.
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port)).bigEndian
            address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
                }
            }
            return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
        }
    }
}
