import Foundation
import Metrics

/// Process figures read from `/proc` at scrape time rather than on a timer: they cost nothing
/// when nobody is looking.
enum ProcessMetrics {
    static func sample(into factory: any MetricsFactory) {
        if let resident = residentBytes() {
            Gauge(label: "process_resident_memory_bytes", factory: factory).record(resident)
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            Gauge(label: "process_open_fds", factory: factory).record(descriptors.count)
        }
    }

    /// Second field of `/proc/self/statm`, in pages.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
