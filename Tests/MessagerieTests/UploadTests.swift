import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest

@testable import Gateway

/// `POST /api/messages/upload` and `GET /api/files/:id` through the real gateway: every accepted
/// kind, types from magic bytes, limits while streaming, content-addressed storage, sending and
/// downloading with access control and byte ranges.
final class UploadTests: XCTestCase {
    private func withUploads<T: Sendable>(
        _ overrides: [String: String] = [:], setup: TestingSetup = .router,
        _ body: @Sendable (GatewayClient, String) async throws -> T
    ) async throws -> T {
        let root = temporaryUploadsDirectory()
        let directory = root + "/nested/uploads"
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try await withGateway(overrides.merging(["UPLOADS_DIR": directory]) { $1 }, setup: setup) { gw in
            try await body(gw, directory)
        }
    }

    private static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    private static func files(under directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).filter {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: directory + "/" + $0, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }
    }

    func testEveryAcceptedKindIsRecognisedFromItsBytes() async throws {
        try await withUploads { gw, directory in
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory))
            let ada = try await gw.restRegister("+2348012347001", name: "Ada")
            let samples: [(String, [UInt8], String, String, (Int, Int)?)] = [
                ("a.png", MediaSamples.png(width: 3, height: 2), "IMAGE", "image/png", (3, 2)),
                ("a.jpg", MediaSamples.jpeg(width: 640, height: 480), "IMAGE", "image/jpeg", (640, 480)),
                ("a.gif", MediaSamples.gif(width: 5, height: 7), "IMAGE", "image/gif", (5, 7)),
                ("a.webp", MediaSamples.webp(width: 1920, height: 1080), "IMAGE", "image/webp", (1920, 1080)),
                ("a.heic", MediaSamples.heic(width: 4032, height: 3024), "IMAGE", "image/heic", (4032, 3024)),
                ("a.mp4", MediaSamples.mp4, "VIDEO", "video/mp4", nil),
                ("a.mov", MediaSamples.quickTime, "VIDEO", "video/quicktime", nil),
                ("a.webm", MediaSamples.webm, "VIDEO", "video/webm", nil),
                ("a.mp3", MediaSamples.mp3, "AUDIO", "audio/mpeg", nil),
                ("a.aac", MediaSamples.aac, "AUDIO", "audio/aac", nil),
                ("a.m4a", MediaSamples.m4a, "AUDIO", "audio/mp4", nil),
                ("a.ogg", MediaSamples.ogg, "AUDIO", "audio/ogg", nil),
                ("a.pdf", MediaSamples.pdf, "FILE", "application/pdf", nil),
            ]
            for (name, bytes, kind, mime, size) in samples {
                let reply = try await gw.upload(bytes, fileName: name, token: ada.token)
                XCTAssertEqual(reply.status, .created, "\(name): \(reply.text)")
                let attachment = try XCTUnwrap(reply.json["attachment"] as? [String: Any], reply.text)
                let id = try XCTUnwrap(attachment["id"] as? String)
                XCTAssertEqual(attachment["url"] as? String, "/api/files/\(id)")
                XCTAssertEqual(attachment["mimeType"] as? String, mime, name)
                XCTAssertEqual(attachment["kind"] as? String, kind, name)
                XCTAssertEqual(attachment["size"] as? Int, bytes.count, name)
                XCTAssertEqual(attachment["sha256"] as? String, Self.sha256(bytes), name)
                XCTAssertEqual(attachment["width"] as? Int, size?.0, name)
                XCTAssertEqual(attachment["height"] as? Int, size?.1, name)
                let digest = Self.sha256(bytes)
                let stored = directory + "/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"
                XCTAssertEqual(FileManager.default.contents(atPath: stored).map { [UInt8]($0) }, bytes, name)
            }
            let owners = try await gw.harness.column("SELECT DISTINCT owner_id::text FROM attachments")
            XCTAssertEqual(owners, [ada.userId])
            XCTAssertEqual(Self.files(under: directory + "/tmp"), [])
        }
    }

    func testTypeComesFromBytesNotFromTheClaim() async throws {
        try await withUploads { gw, directory in
            let ada = try await gw.restRegister("+2348012347011", name: "Ada")
            let script = Array("<html><script>alert(1)</script></html>".utf8)
            let spoofed = try await gw.upload(script, fileName: "cat.png", claimedType: "image/png", token: ada.token)
            XCTAssertEqual(spoofed.status, .unsupportedMediaType, spoofed.text)
            XCTAssertEqual(spoofed.errorCode, "UNSUPPORTED_MEDIA_TYPE")

            let png = MediaSamples.png(width: 2, height: 2)
            let mislabelled = try await gw.upload(png, fileName: "report.pdf", claimedType: "application/pdf", token: ada.token)
            XCTAssertEqual(mislabelled.status, .created, mislabelled.text)
            XCTAssertEqual((mislabelled.json["attachment"] as? [String: Any])?["mimeType"] as? String, "image/png")

            let count = try await gw.harness.column("SELECT count(*)::text FROM attachments")
            XCTAssertEqual(count, ["1"])
            XCTAssertEqual(Self.files(under: directory).filter { !$0.hasPrefix("tmp/") }.count, 1)
            XCTAssertEqual(Self.files(under: directory + "/tmp"), [])
        }
    }

    func testGenericFilesOnlyWhenAllowed() async throws {
        try await withUploads(["UPLOAD_ALLOW_ANY_FILE": "true"]) { gw, _ in
            let ada = try await gw.restRegister("+2348012347021", name: "Ada")
            let text = Array("just some notes, nothing special about them".utf8)
            let reply = try await gw.upload(text, fileName: "notes.txt", claimedType: "text/plain", token: ada.token)
            XCTAssertEqual(reply.status, .created, reply.text)
            let attachment = reply.json["attachment"] as? [String: Any]
            XCTAssertEqual(attachment?["kind"] as? String, "FILE")
            XCTAssertEqual(attachment?["mimeType"] as? String, "application/octet-stream")
        }
    }

    func testClientFileNameNeverReachesTheFileSystemAndIsSealed() async throws {
        try await withUploads { gw, directory in
            let ada = try await gw.restRegister("+2348012347031", name: "Ada")
            let pdf = MediaSamples.pdf
            let reply = try await gw.upload(pdf, fileName: "../../../../etc/passwd-secret-plans.pdf", claimedType: "application/pdf", token: ada.token)
            XCTAssertEqual(reply.status, .created, reply.text)
            let attachment = try XCTUnwrap(reply.json["attachment"] as? [String: Any])
            XCTAssertEqual(attachment["fileName"] as? String, "passwd-secret-plans.pdf")
            let digest = Self.sha256(pdf)
            XCTAssertEqual(Self.files(under: directory), ["\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"])
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/../../../../etc/passwd-secret-plans.pdf"))
            // At rest the name is ciphertext.
            let stored = try await gw.harness.column("SELECT encode(name, 'escape') FROM attachments")
            XCTAssertEqual(stored.count, 1)
            XCTAssertFalse(stored[0]?.contains("secret") ?? true)

            let download = try await gw.rest(.get, attachment["url"] as! String, token: ada.token)
            XCTAssertEqual(download.status, .ok)
            XCTAssertEqual(download.headers[.contentDisposition], "attachment; filename=\"passwd-secret-plans.pdf\"; filename*=UTF-8''passwd-secret-plans.pdf")
        }
    }

    func testSizeLimitPerKindRefusesAndLeavesNothing() async throws {
        try await withUploads(["UPLOAD_MAX_IMAGE_BYTES": "1000", "UPLOAD_MAX_VIDEO_BYTES": "5000"]) { gw, directory in
            let ada = try await gw.restRegister("+2348012347041", name: "Ada")
            let image = MediaSamples.png(width: 40, height: 40)
            XCTAssertGreaterThan(image.count, 1000)
            let tooBig = try await gw.upload(image, fileName: "big.png", token: ada.token)
            XCTAssertEqual(tooBig.status, .contentTooLarge, tooBig.text)
            XCTAssertEqual(tooBig.errorCode, "PAYLOAD_TOO_LARGE")
            // The same number of bytes is fine as a video, whose limit is higher.
            let video = MediaSamples.isoMedia(brand: "isom", payload: image.count)
            let fits = try await gw.upload(video, fileName: "v.mp4", token: ada.token)
            XCTAssertEqual(fits.status, .created, fits.text)
            let bigVideo = MediaSamples.isoMedia(brand: "isom", payload: 6000)
            let refused = try await gw.upload(bigVideo, fileName: "v.mp4", token: ada.token)
            XCTAssertEqual(refused.status, .contentTooLarge, refused.text)

            let count = try await gw.harness.column("SELECT count(*)::text FROM attachments")
            XCTAssertEqual(count, ["1"])
            XCTAssertEqual(Self.files(under: directory + "/tmp"), [])
        }
    }

    /// A body refused after its file part (a field too large after it, a missing closing
    /// boundary) leaves no file behind, neither in the temporary folder nor at a content address.
    func testABodyRefusedAfterItsFileLeavesNoFile() async throws {
        try await withUploads { gw, directory in
            let ada = try await gw.restRegister("+2348012347061", name: "Ada")
            let image = MediaSamples.png(width: 3, height: 2)
            let boundary = "after-the-file"
            let headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
            let oversized = Multipart.body(boundary: boundary, parts: [
                .init(name: "file", fileName: "a.png", contentType: "image/png", data: image),
                .init(name: "caption", fileName: nil, contentType: nil, data: [UInt8](repeating: 0x61, count: 70 << 10)),
            ])
            let tooLarge = try await gw.rest(.post, "/api/messages/upload", token: ada.token, headers: headers, body: ByteBuffer(bytes: oversized))
            XCTAssertEqual(tooLarge.status, .contentTooLarge, tooLarge.text)
            var unfinished = Multipart.body(boundary: boundary, parts: [.init(name: "file", fileName: "a.png", contentType: "image/png", data: image)])
            unfinished.removeLast(Array("--\(boundary)--\r\n".utf8).count)
            let truncated = try await gw.rest(.post, "/api/messages/upload", token: ada.token, headers: headers, body: ByteBuffer(bytes: unfinished))
            XCTAssertEqual(truncated.status, .badRequest, truncated.text)
            XCTAssertEqual(Self.files(under: directory), [], "a refused body left a file")
            let count = try await gw.harness.column("SELECT count(*)::text FROM attachments")
            XCTAssertEqual(count, ["0"])
            // The same file in a body accepted whole is stored.
            let accepted = try await gw.upload(image, fileName: "a.png", token: ada.token)
            XCTAssertEqual(accepted.status, .created, accepted.text)
            XCTAssertEqual(Self.files(under: directory).filter { !$0.hasPrefix("tmp/") }.count, 1)
        }
    }

    /// A live server and a client that streams the body in chunks: the limit is hit part-way, the
    /// answer is 413, and the partial file is gone.
    func testSizeLimitHitMidStreamOverTheNetwork() async throws {
        try await withUploads(["UPLOAD_MAX_VIDEO_BYTES": "1048576"], setup: .live) { gw, directory in
            let ada = try await gw.restRegister("+2348012347051", name: "Ada")
            let port = try XCTUnwrap(gw.port)
            let boundary = "stream-boundary-1"
            let head = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.mp4\"\r\nContent-Type: video/mp4\r\n\r\n".utf8)
                + MediaSamples.isoMedia(brand: "isom", payload: 0)
            let chunk = [UInt8](repeating: 0x42, count: 64 << 10)
            let chunks = 48  // 3 MiB of video against a 1 MiB limit
            let tail = Array("\r\n--\(boundary)--\r\n".utf8)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/messages/upload")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(ada.token)")
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
            let stream = AsyncStream<ByteBuffer> { continuation in
                continuation.yield(ByteBuffer(bytes: head))
                for _ in 0..<chunks { continuation.yield(ByteBuffer(bytes: chunk)) }
                continuation.yield(ByteBuffer(bytes: tail))
                continuation.finish()
            }
            request.body = .stream(stream, length: .known(Int64(head.count + chunks * chunk.count + tail.count)))
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                XCTAssertEqual(response.status.code, 413)
                let body = try await response.body.collect(upTo: 1 << 16)
                XCTAssertTrue(String(buffer: body).contains("PAYLOAD_TOO_LARGE"), String(buffer: body))
            } catch {
                // A server may also stop reading and close; what matters is what it kept.
                XCTAssertTrue("\(error)".lowercased().contains("close") || "\(error)".lowercased().contains("reset"), "\(error)")
            }
            XCTAssertEqual(Self.files(under: directory + "/tmp"), [])
            XCTAssertEqual(Self.files(under: directory).count, 0)
            let count = try await gw.harness.column("SELECT count(*)::text FROM attachments")
            XCTAssertEqual(count, ["0"])
        }
    }

    /// A file much larger than any JSON body limit streams through a live server in small chunks
    /// and arrives whole.
    func testLargeUploadStreamsToDiskAndDownloadsWhole() async throws {
        try await withUploads(["MAX_REQUEST_BYTES": "4096"], setup: .live) { gw, directory in
            let ada = try await gw.restRegister("+2348012347061", name: "Ada")
            let port = try XCTUnwrap(gw.port)
            var video = MediaSamples.isoMedia(brand: "isom", payload: 0)
            var generator = SystemRandomNumberGenerator()
            var block = [UInt8](repeating: 0, count: 1 << 20)
            var hasher = SHA256()
            hasher.update(data: video)
            let boundary = "big-boundary"
            let head = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n\r\n".utf8)
            var parts: [ByteBuffer] = [ByteBuffer(bytes: head + video)]
            for _ in 0..<24 {
                for i in 0..<block.count { block[i] = UInt8.random(in: 0...255, using: &generator) }
                hasher.update(data: block)
                parts.append(ByteBuffer(bytes: block))
            }
            parts.append(ByteBuffer(bytes: Array("\r\n--\(boundary)--\r\n".utf8)))
            let total = parts.reduce(0) { $0 + $1.readableBytes }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            video = []
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/messages/upload")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(ada.token)")
            request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
            let sendable = parts
            request.body = .stream(AsyncStream { c in for p in sendable { c.yield(p) }; c.finish() }, length: .known(Int64(total)))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            let body = try await response.body.collect(upTo: 1 << 16)
            XCTAssertEqual(response.status.code, 201, String(buffer: body))
            let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            let attachment = try XCTUnwrap(json?["attachment"] as? [String: Any])
            XCTAssertEqual(attachment["sha256"] as? String, digest)
            XCTAssertEqual(attachment["size"] as? Int, 24 << 20 + 20 + 8)
            let stored = directory + "/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"
            let size = try FileManager.default.attributesOfItem(atPath: stored)[.size] as? Int
            XCTAssertEqual(size, 24 << 20 + 28)

            var download = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(attachment["url"] as! String)")
            download.headers.add(name: "Authorization", value: "Bearer \(ada.token)")
            let got = try await HTTPClient.shared.execute(download, timeout: .seconds(120))
            XCTAssertEqual(got.status.code, 200)
            var check = SHA256()
            for try await piece in got.body { check.update(data: Array(buffer: piece)) }
            XCTAssertEqual(check.finalize().map { String(format: "%02x", $0) }.joined(), digest)
        }
    }

    func testSendWithAttachmentsAndDownloadAccess() async throws {
        try await withUploads { gw, _ in
            let ada = try await gw.restRegister("+2348012347071", name: "Ada")
            let bo = try await gw.restRegister("+2348012347072", name: "Bo")
            let cy = try await gw.restRegister("+2348012347073", name: "Cy")
            let png = MediaSamples.png(width: 16, height: 9)
            let uploaded = try await gw.upload(png, fileName: "pic.png", token: ada.token)
            let attachment = try XCTUnwrap(uploaded.json["attachment"] as? [String: Any], uploaded.text)
            let id = try XCTUnwrap(attachment["id"] as? String)
            let url = try XCTUnwrap(attachment["url"] as? String)

            // Before it is sent, only the uploader may fetch it.
            let own = try await gw.rest(.get, url, token: ada.token)
            XCTAssertEqual(own.status, .ok)
            XCTAssertEqual(own.bytes, png)
            let early = try await gw.rest(.get, url, token: bo.token)
            XCTAssertEqual(early.status, .notFound, early.text)

            // Someone else's attachment cannot ride on a message.
            let stolen = try await gw.rest(.post, "/api/messages/send", json: ["receiverId": ada.userId, "attachmentIds": [id]], token: bo.token)
            XCTAssertEqual(stolen.status, .unprocessableContent, stolen.text)
            XCTAssertEqual(stolen.errorField, "attachmentIds")

            let sent = try await gw.restSend(["receiverId": bo.userId, "attachmentIds": [id]], token: ada.token)
            XCTAssertTrue(sent["content"] is NSNull)
            let sentAttachments = sent["attachments"] as? [[String: Any]] ?? []
            XCTAssertEqual(sentAttachments.map { $0["id"] as? String }, [id])
            XCTAssertEqual(sentAttachments.first?["url"] as? String, url)

            let forBo = try await gw.rest(.get, url, token: bo.token)
            XCTAssertEqual(forBo.status, .ok)
            XCTAssertEqual(forBo.bytes, png)
            XCTAssertEqual(forBo.headers[.contentType], "image/png")
            XCTAssertEqual(forBo.headers[.eTag], "\"\(Self.sha256(png))\"")
            XCTAssertEqual(forBo.headers[.cacheControl], "private, max-age=31536000, immutable")
            XCTAssertEqual(forBo.headers[.acceptRanges], "bytes")
            let forCy = try await gw.rest(.get, url, token: cy.token)
            XCTAssertEqual(forCy.status, .notFound)
            XCTAssertEqual(forCy.errorCode, "NOT_FOUND")
            let anonymous = try await gw.rest(.get, url)
            XCTAssertEqual(anonymous.status, .unauthorized)
            let unknown = try await gw.rest(.get, "/api/files/\(UUID().uuidString)", token: ada.token)
            XCTAssertEqual(unknown.status, .notFound)
            let malformed = try await gw.rest(.get, "/api/files/..%2F..%2Fetc%2Fpasswd", token: ada.token)
            XCTAssertEqual(malformed.status, .badRequest)

            // GraphQL shows the same attachment with the same url.
            let viaGraphQL = try await gw.graphQL(
                "query($c: ID!) { messages(conversationId: $c) { edges { node { attachments { id kind mimeType byteSize url width height sha256 } } } } }",
                variables: ["c": sent["conversationId"]!], token: bo.token)
            let node = ((viaGraphQL.value("messages.edges") as? [[String: Any]])?.first?["node"] as? [String: Any])
            let first = (node?["attachments"] as? [[String: Any]])?.first
            XCTAssertEqual(first?["id"] as? String, id, viaGraphQL.text)
            XCTAssertEqual(first?["url"] as? String, url)
            XCTAssertEqual(first?["kind"] as? String, "IMAGE")
            XCTAssertEqual(first?["width"] as? Int, 16)
            XCTAssertEqual(first?["height"] as? Int, 9)

            // A deleted message no longer opens its files to the other side.
            let deleted = try await gw.graphQL("mutation($id: ID!) { deleteMessage(id: $id) { id } }", variables: ["id": sent["id"]!], token: ada.token)
            XCTAssertNil(deleted.firstError, deleted.text)
            let afterDelete = try await gw.rest(.get, url, token: bo.token)
            XCTAssertEqual(afterDelete.status, .notFound)
        }
    }

    func testRangesAndValidators() async throws {
        try await withUploads { gw, _ in
            let ada = try await gw.restRegister("+2348012347081", name: "Ada")
            let video = MediaSamples.isoMedia(brand: "isom", payload: 100)
            let uploaded = try await gw.upload(video, fileName: "clip.mp4", token: ada.token)
            let url = try XCTUnwrap((uploaded.json["attachment"] as? [String: Any])?["url"] as? String, uploaded.text)
            let size = video.count

            let first = try await gw.rest(.get, url, token: ada.token, headers: [.range: "bytes=0-9"])
            XCTAssertEqual(first.status, .partialContent)
            XCTAssertEqual(first.bytes, Array(video[0...9]))
            XCTAssertEqual(first.headers[.contentRange], "bytes 0-9/\(size)")
            XCTAssertEqual(first.headers[.contentType], "video/mp4")

            let middle = try await gw.rest(.get, url, token: ada.token, headers: [.range: "bytes=20-"])
            XCTAssertEqual(middle.status, .partialContent)
            XCTAssertEqual(middle.bytes, Array(video[20...]))
            let suffix = try await gw.rest(.get, url, token: ada.token, headers: [.range: "bytes=-5"])
            XCTAssertEqual(suffix.bytes, Array(video[(size - 5)...]))
            XCTAssertEqual(suffix.headers[.contentRange], "bytes \(size - 5)-\(size - 1)/\(size)")
            let clipped = try await gw.rest(.get, url, token: ada.token, headers: [.range: "bytes=100-999999"])
            XCTAssertEqual(clipped.bytes, Array(video[100...]))

            let outside = try await gw.rest(.get, url, token: ada.token, headers: [.range: "bytes=\(size)-"])
            XCTAssertEqual(outside.status, .rangeNotSatisfiable)
            XCTAssertEqual(outside.headers[.contentRange], "bytes */\(size)")
            XCTAssertEqual(outside.errorCode, "RANGE_NOT_SATISFIABLE")

            let etag = try XCTUnwrap(first.headers[.eTag])
            let cached = try await gw.rest(.get, url, token: ada.token, headers: [.ifNoneMatch: etag])
            XCTAssertEqual(cached.status, .notModified)
            XCTAssertEqual(cached.body.readableBytes, 0)
            let staleIfRange = try await gw.rest(.get, url, token: ada.token, headers: [.range: "bytes=0-1", .ifRange: "\"other\""])
            XCTAssertEqual(staleIfRange.status, .ok)
            XCTAssertEqual(staleIfRange.bytes, video)
        }
    }

    func testUploadRefusals() async throws {
        try await withUploads { gw, _ in
            let ada = try await gw.restRegister("+2348012347091", name: "Ada")
            let anonymous = try await gw.rest(.post, "/api/messages/upload", headers: [.contentType: "multipart/form-data; boundary=x"],
                                              body: ByteBuffer(string: "--x--\r\n"))
            XCTAssertEqual(anonymous.status, .unauthorized)
            let notMultipart = try await gw.rest(.post, "/api/messages/upload", json: ["file": "x"], token: ada.token)
            XCTAssertEqual(notMultipart.status, .unsupportedMediaType)
            let wrongField = try await gw.upload(MediaSamples.pdf, field: "document", token: ada.token)
            XCTAssertEqual(wrongField.status, .badRequest, wrongField.text)
            XCTAssertEqual(wrongField.errorField, "file")
            let empty = try await gw.upload([], token: ada.token)
            XCTAssertEqual(empty.status, .badRequest, empty.text)
            let truncated = try await gw.rest(
                .post, "/api/messages/upload", token: ada.token, headers: [.contentType: "multipart/form-data; boundary=b"],
                body: ByteBuffer(bytes: Array("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".utf8) + MediaSamples.pdf))
            XCTAssertEqual(truncated.status, .badRequest, truncated.text)
            let count = try await gw.harness.column("SELECT count(*)::text FROM attachments")
            XCTAssertEqual(count, ["0"])
        }
    }
}

/// Profile pictures: one's own uploaded image, then readable by anyone signed in.
final class UploadAvatarTests: XCTestCase {
    func testAvatarIsOwnImageAndVisibleToOthers() async throws {
        let directory = temporaryUploadsDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withGateway(["UPLOADS_DIR": directory]) { gw in
            let ada = try await gw.restRegister("+2348012347101", name: "Ada")
            let bo = try await gw.restRegister("+2348012347102", name: "Bo")
            let image = try await gw.upload(MediaSamples.png(width: 8, height: 8), fileName: "me.png", token: ada.token)
            let imageId = try XCTUnwrap((image.json["attachment"] as? [String: Any])?["id"] as? String, image.text)
            let pdf = try await gw.upload(MediaSamples.pdf, fileName: "cv.pdf", token: ada.token)
            let pdfId = try XCTUnwrap((pdf.json["attachment"] as? [String: Any])?["id"] as? String)
            let update = "mutation($a: ID, $n: String) { updateProfile(avatarAttachmentId: $a, displayName: $n) { displayName avatarUrl } }"

            let notImage = try await gw.graphQL(update, variables: ["a": pdfId], token: ada.token)
            XCTAssertEqual(notImage.errorCode, "BAD_USER_INPUT", notImage.text)
            let notMine = try await gw.graphQL(update, variables: ["a": imageId], token: bo.token)
            XCTAssertEqual(notMine.errorCode, "BAD_USER_INPUT", notMine.text)
            let before = try await gw.rest(.get, "/api/files/\(imageId)", token: bo.token)
            XCTAssertEqual(before.status, .notFound)

            let set = try await gw.graphQL(update, variables: ["a": imageId, "n": "Ada L."], token: ada.token)
            XCTAssertNil(set.firstError, set.text)
            XCTAssertEqual(set.string("updateProfile.avatarUrl"), "/api/files/\(imageId)")
            XCTAssertEqual(set.string("updateProfile.displayName"), "Ada L.")
            let after = try await gw.rest(.get, "/api/files/\(imageId)", token: bo.token)
            XCTAssertEqual(after.status, .ok)
            XCTAssertEqual(after.headers[.contentType], "image/png")
            let avatars = try await gw.harness.column("SELECT avatar_attachment_id::text FROM users WHERE avatar_attachment_id IS NOT NULL")
            XCTAssertEqual(avatars, [imageId])
        }
    }
}

/// Download rights follow each member's window on a group's history.
final class UploadGroupAccessTests: XCTestCase {
    func testGroupMembersSeeFilesOfMessagesInTheirWindowOnly() async throws {
        let directory = temporaryUploadsDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withGateway(["UPLOADS_DIR": directory]) { gw in
            let ada = try await gw.restRegister("+2348012347201", name: "Ada")
            let bo = try await gw.restRegister("+2348012347202", name: "Bo")
            let cy = try await gw.restRegister("+2348012347203", name: "Cy")
            let created = try await gw.graphQL(
                "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }",
                variables: ["i": ["title": "Team", "memberIds": [bo.userId]]], token: ada.token)
            let groupId = try XCTUnwrap(created.string("createGroup.id"), created.text)
            let uploaded = try await gw.upload(MediaSamples.mp4, fileName: "clip.mp4", token: ada.token)
            let url = try XCTUnwrap((uploaded.json["attachment"] as? [String: Any])?["url"] as? String, uploaded.text)
            let id = String(url.split(separator: "/").last!)

            let sent = try await gw.restSend(["conversationId": groupId, "content": "clip", "attachmentIds": [id]], token: ada.token)
            XCTAssertTrue(sent["receiverId"] is NSNull, "no single receiver in a group")
            let fetched1 = try await gw.rest(.get, url, token: bo.token)
            XCTAssertEqual(fetched1.status, .ok)

            // Cy joins after the message: it is outside Cy's window, and so is its file.
            let added = try await gw.graphQL(
                "mutation($c: ID!, $u: [ID!]!) { addGroupMembers(conversationId: $c, userIds: $u) { id } }",
                variables: ["c": groupId, "u": [cy.userId]], token: ada.token)
            XCTAssertNil(added.firstError, added.text)
            let fetched2 = try await gw.rest(.get, url, token: cy.token)
            XCTAssertEqual(fetched2.status, .notFound)

            // Bo leaves but keeps what was sent while Bo was there.
            let left = try await gw.graphQL("mutation($c: ID!) { leaveGroup(conversationId: $c) }", variables: ["c": groupId], token: bo.token)
            XCTAssertNil(left.firstError, left.text)
            let fetched3 = try await gw.rest(.get, url, token: bo.token)
            XCTAssertEqual(fetched3.status, .ok)
        }
    }
}

final class UploadHeadTests: XCTestCase {
    func testHeadGivesTheHeadersWithoutTheBody() async throws {
        let directory = temporaryUploadsDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withGateway(["UPLOADS_DIR": directory], setup: .live) { gw in
            let ada = try await gw.restRegister("+2348012347301", name: "Ada")
            let video = MediaSamples.isoMedia(brand: "qt  ", payload: 500)
            let uploaded = try await gw.upload(video, fileName: "clip.mov", token: ada.token)
            let url = try XCTUnwrap((uploaded.json["attachment"] as? [String: Any])?["url"] as? String, uploaded.text)
            let head = try await gw.rest(.head, url, token: ada.token)
            XCTAssertEqual(head.status, .ok)
            XCTAssertEqual(head.headers[.contentType], "video/quicktime")
            XCTAssertEqual(head.headers[.contentLength], String(video.count))
            XCTAssertEqual(head.body.readableBytes, 0)
            let stranger = try await gw.restRegister("+2348012347302", name: "Bo")
            let refused = try await gw.rest(.head, url, token: stranger.token)
            XCTAssertEqual(refused.status, .notFound)
        }
    }
}
