#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Whether a frame or body holds a byte string. The generic `firstRange(of:)` on a
/// `ByteBufferView` allocated at every step: it was most of the load generator's CPU in the
/// history scenario (perf), half a core at 100 requests/s, on the cores the servers share.
public enum ByteSearch {
    public static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: some Collection<UInt8>) -> Bool {
        let needle = Array(needle)
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count, let base = haystack.baseAddress else { return false }
        var offset = 0
        let last = haystack.count - needle.count
        return needle.withUnsafeBytes { wanted in
            while offset <= last {
                guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
                let position = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + position, wanted.baseAddress!, needle.count) == 0 { return true }
                offset = position + 1
            }
            return false
        }
    }

    public static func contains(_ buffer: ByteBuffer, _ needle: String) -> Bool {
        buffer.withUnsafeReadableBytes { contains($0, needle.utf8) }
    }
}
