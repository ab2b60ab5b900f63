import Foundation

/// Small files of each accepted kind, built byte by byte so tests need no fixtures.
enum MediaSamples {
    static func png(width: Int, height: Int) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + data
            return be32(data.count) + typed + be32(Int(crc32(typed)))
        }
        var ihdr = be32(width) + be32(height)
        ihdr += [8, 0, 0, 0, 0]  // 8-bit greyscale, no interlace
        var raw: [UInt8] = []
        for _ in 0..<height { raw += [0] + [UInt8](repeating: 0x80, count: width) }
        // zlib with one stored deflate block.
        var zlib: [UInt8] = [0x78, 0x01, 0x01]
        zlib += [UInt8(raw.count & 0xFF), UInt8(raw.count >> 8), UInt8(~raw.count & 0xFF), UInt8((~raw.count >> 8) & 0xFF)]
        zlib += raw + be32(Int(adler32(raw)))
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib) + chunk("IEND", [])
    }

    static func gif(width: Int, height: Int) -> [UInt8] {
        Array("GIF89a".utf8) + le16(width) + le16(height) + [0x80, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00]
            + [0x2C, 0, 0, 0, 0] + le16(width) + le16(height) + [0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]
    }

    /// Header-complete baseline JPEG (JFIF, a frame header, end of image).
    static func jpeg(width: Int, height: Int) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xD8]
        out += [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
        out += [0xFF, 0xFE, 0x00, 0x08] + Array("sample".utf8)  // a comment before the frame
        out += [0xFF, 0xC0, 0x00, 0x0B, 0x08] + be16(height) + be16(width) + [0x01, 0x01, 0x11, 0x00]
        out += [0xFF, 0xD9]
        return out
    }

    static func webp(width: Int, height: Int) -> [UInt8] {
        let vp8x: [UInt8] = Array("VP8X".utf8) + le32(10) + [0, 0, 0, 0] + le24(width - 1) + le24(height - 1)
        return Array("RIFF".utf8) + le32(4 + vp8x.count) + Array("WEBP".utf8) + vp8x
    }

    static func heic(width: Int, height: Int) -> [UInt8] {
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] { be32(8 + body.count) + Array(type.utf8) + body }
        let ftyp = box("ftyp", Array("heic".utf8) + be32(0) + Array("mif1heic".utf8))
        let ispe = box("ispe", [0, 0, 0, 0] + be32(width) + be32(height))
        let meta = box("meta", [0, 0, 0, 0] + box("iprp", box("ipco", ispe)))
        return ftyp + meta + box("mdat", [UInt8](repeating: 7, count: 32))
    }

    static func isoMedia(brand: String, payload: Int = 64) -> [UInt8] {
        let ftyp = be32(20) + Array("ftyp".utf8) + Array(brand.utf8) + be32(0) + Array(brand.utf8)
        return ftyp + be32(8 + payload) + Array("mdat".utf8) + [UInt8](repeating: 1, count: payload)
    }

    static var mp4: [UInt8] { isoMedia(brand: "isom") }
    static var quickTime: [UInt8] { isoMedia(brand: "qt  ") }
    static var m4a: [UInt8] { isoMedia(brand: "M4A ") }
    static var webm: [UInt8] {
        let docType: [UInt8] = [0x42, 0x82, 0x84] + Array("webm".utf8)
        return [0x1A, 0x45, 0xDF, 0xA3, 0x80 | UInt8(docType.count)] + docType + [0x18, 0x53, 0x80, 0x67, 0x80] + [UInt8](repeating: 0, count: 32)
    }
    static var mp3: [UInt8] { Array("ID3".utf8) + [3, 0, 0, 0, 0, 0, 0] + [0xFF, 0xFB, 0x90, 0x64] + [UInt8](repeating: 0, count: 413) }
    static var aac: [UInt8] { [0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC] + [UInt8](repeating: 0, count: 9) }
    static var ogg: [UInt8] { Array("OggS".utf8) + [0, 2] + [UInt8](repeating: 0, count: 22) + Array("\u{1}vorbis".utf8) + [UInt8](repeating: 0, count: 16) }
    static var pdf: [UInt8] { Array("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".utf8) }

    static func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func be32(_ v: Int) -> [UInt8] { [UInt8((v >> 24) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    static func le24(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF)] }
    static func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16) }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}
