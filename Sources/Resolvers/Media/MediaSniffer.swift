import Foundation

public enum AttachmentKind: String, Sendable, Codable, CaseIterable {
    case image = "IMAGE", video = "VIDEO", audio = "AUDIO", file = "FILE"
}

/// What a file is, decided from its first bytes.
public struct SniffedMedia: Sendable, Equatable {
    public let kind: AttachmentKind
    public let mimeType: String

    public init(kind: AttachmentKind, mimeType: String) {
        self.kind = kind
        self.mimeType = mimeType
    }

    /// Anything not recognised, when the server accepts generic files.
    public static let generic = SniffedMedia(kind: .file, mimeType: "application/octet-stream")
}

/// The type of an upload comes from its magic bytes, never from what the client claims: a
/// client that labels an executable `image/png` still gets it refused (or stored as a plain file).
public enum MediaSniffer {
    /// Enough leading bytes to recognise every supported format.
    public static let headerLength = 32

    public static func sniff(_ b: [UInt8]) -> SniffedMedia? {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + magic.count && Array(b[offset..<offset + magic.count]) == magic
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }

        if starts([0xFF, 0xD8, 0xFF]) { return .init(kind: .image, mimeType: "image/jpeg") }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .init(kind: .image, mimeType: "image/png") }
        if ascii("GIF87a") || ascii("GIF89a") { return .init(kind: .image, mimeType: "image/gif") }
        if ascii("RIFF"), ascii("WEBP", at: 8) { return .init(kind: .image, mimeType: "image/webp") }
        if ascii("RIFF"), ascii("WAVE", at: 8) { return .init(kind: .audio, mimeType: "audio/wav") }
        if ascii("ftyp", at: 4), b.count >= 12 {
            let brand = String(decoding: b[8..<12], as: UTF8.self)
            switch brand {
            case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
                return .init(kind: .image, mimeType: "image/heic")
            case "avif", "avis":
                return .init(kind: .image, mimeType: "image/avif")
            case "qt  ":
                return .init(kind: .video, mimeType: "video/quicktime")
            case "M4A ", "M4B ", "M4P ":
                return .init(kind: .audio, mimeType: "audio/mp4")
            default:
                return .init(kind: .video, mimeType: "video/mp4")
            }
        }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return .init(kind: .video, mimeType: "video/webm") }
        if ascii("OggS") { return .init(kind: .audio, mimeType: "audio/ogg") }
        if ascii("ID3") { return .init(kind: .audio, mimeType: "audio/mpeg") }
        if b.count >= 2, b[0] == 0xFF, b[1] & 0xE0 == 0xE0 {
            let layer = (b[1] >> 1) & 0x03
            // ADTS (AAC) is an MPEG sync word with layer 00; MP3 frames have a non-zero layer.
            if layer == 0, b[1] & 0xF0 == 0xF0 { return .init(kind: .audio, mimeType: "audio/aac") }
            if layer != 0 { return .init(kind: .audio, mimeType: "audio/mpeg") }
        }
        if ascii("%PDF-") { return .init(kind: .file, mimeType: "application/pdf") }
        return nil
    }

    /// Pixel size from the image's own header; nil when the header is not in `b` or unreadable.
    public static func dimensions(of media: SniffedMedia, in b: [UInt8]) -> (width: Int, height: Int)? {
        func be(_ at: Int, _ n: Int) -> Int? {
            guard at >= 0, b.count >= at + n else { return nil }
            return b[at..<at + n].reduce(0) { $0 << 8 | Int($1) }
        }
        func le(_ at: Int, _ n: Int) -> Int? {
            guard at >= 0, b.count >= at + n else { return nil }
            return b[at..<at + n].reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        let size: (Int, Int)?
        switch media.mimeType {
        case "image/png":
            size = be(16, 4).flatMap { w in be(20, 4).map { (w, $0) } }
        case "image/gif":
            size = le(6, 2).flatMap { w in le(8, 2).map { (w, $0) } }
        case "image/webp":
            size = webp(b, le: le)
        case "image/jpeg":
            size = jpeg(b, be: be)
        case "image/heic", "image/avif":
            size = isoImageSpatialExtent(b, be: be)
        default:
            size = nil
        }
        guard let (w, h) = size, w > 0, h > 0 else { return nil }
        return (w, h)
    }

    private static func webp(_ b: [UInt8], le: (Int, Int) -> Int?) -> (Int, Int)? {
        guard b.count >= 30 else { return nil }
        switch String(decoding: b[12..<16], as: UTF8.self) {
        case "VP8 ":
            guard let w = le(26, 2), let h = le(28, 2) else { return nil }
            return (w & 0x3FFF, h & 0x3FFF)
        case "VP8L":
            guard b.count >= 25, b[20] == 0x2F else { return nil }
            let (b1, b2, b3, b4) = (Int(b[21]), Int(b[22]), Int(b[23]), Int(b[24]))
            return (1 + (((b2 & 0x3F) << 8) | b1), 1 + (((b4 & 0x0F) << 10) | (b3 << 2) | ((b2 & 0xC0) >> 6)))
        case "VP8X":
            guard let w = le(24, 3), let h = le(27, 3) else { return nil }
            return (w + 1, h + 1)
        default:
            return nil
        }
    }

    /// Walks JPEG segments to the first start-of-frame marker.
    private static func jpeg(_ b: [UInt8], be: (Int, Int) -> Int?) -> (Int, Int)? {
        var i = 2
        while i + 9 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            guard let length = be(i + 2, 2), length >= 2 else { return nil }
            let isFrame = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
            if isFrame {
                guard let h = be(i + 5, 2), let w = be(i + 7, 2) else { return nil }
                return (w, h)
            }
            i += 2 + length
        }
        return nil
    }

    /// HEIF keeps sizes in `ispe` properties; a grid image has one per tile and one for the whole
    /// picture, which is the largest.
    private static func isoImageSpatialExtent(_ b: [UInt8], be: (Int, Int) -> Int?) -> (Int, Int)? {
        let tag: [UInt8] = Array("ispe".utf8)
        var best: (Int, Int)?
        var i = 4
        while i + 16 <= b.count {
            if b[i] == tag[0], b[i + 1] == tag[1], b[i + 2] == tag[2], b[i + 3] == tag[3],
               let w = be(i + 8, 4), let h = be(i + 12, 4)
            {
                if w * h > (best.map { $0.0 * $0.1 } ?? 0) { best = (w, h) }
                i += 16
            } else {
                i += 1
            }
        }
        return best
    }
}
