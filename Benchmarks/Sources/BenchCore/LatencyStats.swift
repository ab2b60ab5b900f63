import Histogram

/// Latencies in microseconds in an HDR histogram (3 significant digits, up to 5 minutes), so
/// percentiles stay exact to 0.1% however many samples arrive, in constant memory.
public struct LatencyRecorder: Sendable {
    public private(set) var histogram: Histogram<UInt64>
    /// Samples above the trackable range are counted, not silently clamped.
    public private(set) var overflowed: UInt64 = 0

    public static let highestMicros: UInt64 = 300_000_000

    public init() {
        histogram = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: Self.highestMicros, numberOfSignificantValueDigits: .three)
    }

    public mutating func record(nanoseconds: UInt64) {
        let micros = Swift.max(1, nanoseconds / 1_000)
        if micros > Self.highestMicros || !histogram.record(micros) {
            overflowed += 1
            _ = histogram.record(Self.highestMicros)
        }
    }

    public mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        overflowed += other.overflowed
    }

    public var summary: LatencySummary { LatencySummary(self) }
}

/// What a report shows of a histogram, in milliseconds.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: UInt64
    public var minMs: Double
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var p999Ms: Double
    public var maxMs: Double
    public var meanMs: Double
    public var overflowed: UInt64

    public init(_ recorder: LatencyRecorder) {
        let h = recorder.histogram
        let total = h.totalCount
        count = total
        func ms(_ micros: UInt64) -> Double { total == 0 ? 0 : Double(micros) / 1000 }
        minMs = ms(h.min)
        p50Ms = ms(h.valueAtPercentile(50))
        p90Ms = ms(h.valueAtPercentile(90))
        p99Ms = ms(h.valueAtPercentile(99))
        p999Ms = ms(h.valueAtPercentile(99.9))
        maxMs = ms(h.max)
        meanMs = total == 0 ? 0 : h.mean / 1000
        overflowed = recorder.overflowed
    }
}
