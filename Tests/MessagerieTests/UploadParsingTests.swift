import Foundation
import Hummingbird
import Resolvers
import XCTest

@testable import Compat

/// The pure parts of uploads: the streaming multipart parser under every chunking, byte ranges,
/// magic-byte recognition and the writer's limit.
final class UploadParsingTests: XCTestCase {
    private func parse(_ body: [UInt8], boundary: String, chunkSizes: [Int]) throws -> [(headers: [String: String], body: [UInt8])] {
        var parser = MultipartParser(boundary: boundary)
        var parts: [(headers: [String: String], body: [UInt8])] = []
        var offset = 0
        var sizes = chunkSizes.makeIterator()
        while offset < body.count {
            let size = min(sizes.next() ?? body.count, body.count - offset)
            for event in try parser.feed(ByteBuffer(bytes: body[offset..<offset + size])) {
                switch event {
                case .part(let headers): parts.append((headers, []))
                case .body(let bytes): parts[parts.count - 1].body += Array(buffer: bytes)
                case .partEnd, .end: break
                }
            }
            offset += size
        }
        try parser.finish()
        return parts
    }

    func testMultipartPartsSurviveEveryChunking() throws {
        // A body that contains near-misses of the delimiter (a sender never puts the whole one inside).
        let tricky = Array("--bound\r\n--boundar\r\n\r\n-boundary\r\n-\r\r\n--".utf8) + (0..<300).map { UInt8($0 % 256) }
        let body = Array("preamble\r\n".utf8) + Array("--boundary\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nhi".utf8)
            + Array("\r\n--boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.bin\"\r\nContent-Type: image/png\r\n\r\n".utf8)
            + tricky + Array("\r\n--boundary--\r\nepilogue".utf8)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let sizes = round == 0 ? [1] + [Int](repeating: 1, count: body.count) : (0..<200).map { _ in Int.random(in: 1...40, using: &generator) }
            let parts = try parse(body, boundary: "boundary", chunkSizes: sizes)
            XCTAssertEqual(parts.count, 2)
            XCTAssertEqual(parts[0].body, Array("hi".utf8))
            XCTAssertEqual(parts[1].body, tricky)
            XCTAssertEqual(parts[1].headers["content-type"], "image/png")
            XCTAssertEqual(MultipartParser.dispositionParameters(parts[1].headers["content-disposition"] ?? "")["filename"], "a b.bin")
        }
    }

    func testMultipartRefusesTruncatedBodies() throws {
        let body = Array("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc".utf8)
        XCTAssertThrowsError(try parse(body, boundary: "b", chunkSizes: [5]))
        XCTAssertThrowsError(try parse(Array("--b\r\nX".utf8) + [UInt8](repeating: 65, count: 20000), boundary: "b", chunkSizes: [1000]))
    }

    func testContentDispositionAndBoundaryParsing() {
        XCTAssertEqual(MultipartParser.boundary(contentType: "multipart/form-data; boundary=\"abc def\""), "abc def")
        XCTAssertEqual(MultipartParser.boundary(contentType: "Multipart/Form-Data;charset=utf-8; boundary=xyz"), "xyz")
        XCTAssertNil(MultipartParser.boundary(contentType: "application/json"))
        XCTAssertNil(MultipartParser.boundary(contentType: "multipart/form-data"))
        let params = MultipartParser.dispositionParameters(#"form-data; name="file"; filename="a\"b;c.png"; filename*=UTF-8''%C3%A9t%C3%A9.png"#)
        XCTAssertEqual(params["name"], "file")
        XCTAssertEqual(params["filename"], "été.png")
        XCTAssertEqual(AttachmentService.cleanFileName("..\\..\\windows\\sys.ini"), "sys.ini")
        XCTAssertEqual(AttachmentService.cleanFileName("../"), nil)
        XCTAssertEqual(AttachmentService.cleanFileName("a\u{0}b\n.png"), "ab.png")
    }

    func testByteRanges() {
        XCTAssertEqual(ByteRange.parse("bytes=0-9", size: 100), .satisfiable(0...9))
        XCTAssertEqual(ByteRange.parse("bytes=90-", size: 100), .satisfiable(90...99))
        XCTAssertEqual(ByteRange.parse("bytes=-10", size: 100), .satisfiable(90...99))
        XCTAssertEqual(ByteRange.parse("bytes=-1000", size: 100), .satisfiable(0...99))
        XCTAssertEqual(ByteRange.parse("bytes=50-1000", size: 100), .satisfiable(50...99))
        XCTAssertEqual(ByteRange.parse("bytes=100-", size: 100), .unsatisfiable)
        XCTAssertEqual(ByteRange.parse("bytes=-0", size: 100), .unsatisfiable)
        XCTAssertEqual(ByteRange.parse("bytes=5-1", size: 100), ByteRange.none)
        XCTAssertEqual(ByteRange.parse("bytes=0-1,5-6", size: 100), ByteRange.none)
        XCTAssertEqual(ByteRange.parse("items=0-1", size: 100), ByteRange.none)
    }

    func testSnifferIgnoresTextAndReadsSizes() {
        XCTAssertNil(MediaSniffer.sniff(Array("#!/bin/sh\necho hi\n".utf8)))
        XCTAssertNil(MediaSniffer.sniff(Array("<svg xmlns='http://www.w3.org/2000/svg'/>".utf8)))
        let png = MediaSniffer.sniff(MediaSamples.png(width: 300, height: 200))
        XCTAssertEqual(png, SniffedMedia(kind: .image, mimeType: "image/png"))
        let size = MediaSniffer.dimensions(of: png!, in: MediaSamples.png(width: 300, height: 200))
        XCTAssertEqual(size?.width, 300)
        XCTAssertEqual(size?.height, 200)
    }

    func testStalePartialFilesAreSweptAndFreshOnesKept() throws {
        let root = temporaryUploadsDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = MediaStore(root: root, policy: MediaPolicy())
        let old = try store.beginUpload()
        let fresh = try store.beginUpload()
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: old.tempPath)
        XCTAssertEqual(store.removeStaleTemporaryFiles(olderThan: 3600), 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: old.tempPath))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh.tempPath))
        fresh.abort()
        old.abort()
    }

    func testWriterStopsAtTheLimitAndAbortRemovesThePartialFile() throws {
        let root = temporaryUploadsDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var policy = MediaPolicy()
        policy.maxVideoBytes = 100_000
        let store = MediaStore(root: root, policy: policy)
        let writer = try store.beginUpload()
        try writer.append(MediaSamples.isoMedia(brand: "isom", payload: 0))
        let chunk = [UInt8](repeating: 9, count: 8192)
        var refused: UploadRefusal?
        for _ in 0..<100 {
            do { try writer.append(chunk) } catch let error as UploadRefusal { refused = error; break }
        }
        XCTAssertEqual(refused, .tooLarge(kind: .video, limit: 100_000))
        XCTAssertLessThanOrEqual(writer.byteCount, 100_000)
        let partial = try FileManager.default.attributesOfItem(atPath: writer.tempPath)[.size] as? Int
        XCTAssertEqual(Int64(partial ?? -1), writer.byteCount)
        writer.abort()
        XCTAssertFalse(FileManager.default.fileExists(atPath: writer.tempPath))
    }
}
