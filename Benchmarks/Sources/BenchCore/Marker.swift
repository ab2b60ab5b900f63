import NIOCore

/// The send instant travels inside the message text as `~t<nanoseconds>~` (monotonic clock of
/// the load generator, which both sends and receives), so a recipient finds it by scanning the
/// frame's bytes without decoding its JSON: at thousands of deliveries per second the client must
/// not be the bottleneck it measures.
public enum Marker {
    public static func text(sentAt nanos: UInt64, tag: String = "m") -> String {
        "\(tag) ~t\(nanos)~"
    }

    /// The first marker in the bytes, or nil when there is none or it is malformed.
    /// Also reads other `~<key><digits>~` fields, e.g. `~u12~` for the sender's index.
    public static func find(in bytes: some Collection<UInt8>, key: Character = "t") -> UInt64? {
        let tilde = UInt8(ascii: "~"), t = UInt8(ascii: key.unicodeScalars.first!)
        var iterator = bytes.makeIterator()
        var previous: UInt8 = 0
        while let byte = iterator.next() {
            if previous == tilde && byte == t {
                var value: UInt64 = 0
                var digits = 0
                while let d = iterator.next() {
                    if d == tilde { return digits > 0 ? value : nil }
                    guard d >= 48, d <= 57, digits < 19 else { break }
                    value = value &* 10 &+ UInt64(d - 48)
                    digits += 1
                }
                previous = 0
                continue
            }
            previous = byte
        }
        return nil
    }

    public static func find(in buffer: ByteBuffer, key: Character = "t") -> UInt64? {
        buffer.withUnsafeReadableBytes { find(in: $0, key: key) }
    }
}
