import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator keeps at most seven freed chunks of each size per thread (its `tcache`);
/// beyond that a free goes to the arena's bins. Once a wave of connections has closed, those bins
/// hold some 200,000 fragments (`malloc_info` after 10,000 sockets closed), and every allocation
/// that misses the thread's cache sorts through them: `_int_malloc` was 15% of the server's
/// samples and a history page cost up to 75% more CPU than in a fresh process (benchmark: the
/// idle step's 15,000 sockets, then history). A cache of 1,024 chunks per size keeps a request's
/// allocations away from the bins. The count is a glibc tunable, read only when a process
/// starts, so `serve` runs itself again once with it set; a `GLIBC_TUNABLES` that already sets
/// it is left as it is.
enum AllocatorTuning {
    static let tunable = "glibc.malloc.tcache_count=1024"
    /// Set before running again: a process that finds it never runs itself again, whatever its
    /// C library made of `GLIBC_TUNABLES` (glibc rewrites the copy it exposes in `/proc`).
    static let marker = "MESSAGERIE_ALLOCATOR_TUNED"

    /// Returns only if the process already runs with the setting, or could not run itself again.
    static func restartWithTunedAllocator() {
        #if canImport(Glibc)
        let environment = ProcessInfo.processInfo.environment
        guard environment[marker] == nil, let tunables = tunables(given: environment["GLIBC_TUNABLES"]) else { return }
        setenv(marker, "1", 1)
        setenv("GLIBC_TUNABLES", tunables, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Still here: exec failed (no /proc); the default allocator serves.
        #endif
    }

    /// The tunables to run with, or nil when those given already set the count.
    static func tunables(given: String?) -> String? {
        guard let given, !given.isEmpty else { return tunable }
        if given.contains("glibc.malloc.tcache_count") { return nil }
        return given + ":" + tunable
    }
}
