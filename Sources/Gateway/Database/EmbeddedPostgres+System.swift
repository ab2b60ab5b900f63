import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension EmbeddedPostgres {
    /// PostgreSQL refuses to run as root; as root, the cluster belongs to the `postgres` user.
    enum SystemUser {
        struct Account: Sendable {
            var uid: uid_t
            var gid: gid_t
        }

        static var isRoot: Bool { geteuid() == 0 }

        static func postgres() throws -> Account {
            if let account = lookup("postgres") { return account }
            let created = try ChildProcess.runBlocking(
                ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], mergeOutput: true
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
