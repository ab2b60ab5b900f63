import Foundation
import Hummingbird
import Logging
import Resolvers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Uploads (`POST /api/messages/upload`, streamed to disk while parsed) and downloads
/// (`GET /api/files/:id`, with validators and byte ranges for video seeking).
extension RestAPI {
    private struct UploadResult: Encodable { let attachment: RestAttachment }

    /// Bytes of form fields other than `file` that are read and dropped.
    static var maxOtherFieldBytes: Int { 64 << 10 }

    var mediaRoutes: [Route] {
        [
            Route(method: .post, path: "/api/messages/upload") { request, _ in
                let viewer = try await self.viewer(request)
                let stored: (StoredUpload, String?)
                do {
                    stored = try await self.receiveUpload(request)
                } catch let failure as MultipartParser.Failure {
                    guard case .malformed(let why) = failure else { throw failure }
                    throw RestFailure.badRequest("The multipart body is malformed: \(why)")
                }
                let attachment = try await self.services.attachments.create(from: stored.0, fileName: stored.1, viewer: viewer)
                return RestJSON.response(UploadResult(attachment: RestAttachment(attachment)), status: .created)
            },
            Route(method: .get, path: "/api/files/:id") { request, context in
                let viewer = try await self.viewer(request)
                try await self.noBody(request)
                let attachment = try await self.services.attachments.downloadable(id: try context.parameters.uuid("id"), viewer: viewer)
                return try self.download(attachment, request: request, logger: context.logger)
            },
            // Players probe size and type before seeking.
            Route(method: .head, path: "/api/files/:id") { request, context in
                let viewer = try await self.viewer(request)
                let attachment = try await self.services.attachments.downloadable(id: try context.parameters.uuid("id"), viewer: viewer)
                let full = try self.download(attachment, request: request, logger: context.logger)
                return Response(status: full.status, headers: full.headers)
            },
        ]
    }

    /// Parses the multipart body as it arrives and streams the `file` part into the store; any
    /// refusal removes what was written.
    private func receiveUpload(_ request: Request) async throws -> (StoredUpload, String?) {
        guard let contentType = request.headers[.contentType], let boundary = MultipartParser.boundary(contentType: contentType) else {
            throw RestFailure(.unsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Send multipart/form-data with the file in a field named file")
        }
        let store = services.attachments.store
        let overall = store.policy.largestLimit + Int64(Self.maxOtherFieldBytes) + 16 << 10
        var parser = MultipartParser(boundary: boundary)
        var writer: UploadWriter?
        var sealed: UploadWriter?
        var result: (StoredUpload, String?)?
        var fileName: String?
        var inFile = false
        var received: Int64 = 0
        var otherBytes = 0
        do {
            for try await chunk in request.body {
                received += Int64(chunk.readableBytes)
                guard received <= overall else { throw UploadRefusal.tooLarge(kind: nil, limit: store.policy.largestLimit) }
                for event in try parser.feed(chunk) {
                    switch event {
                    case .part(let headers):
                        let parameters = MultipartParser.dispositionParameters(headers["content-disposition"] ?? "")
                        inFile = parameters["name"] == "file" && result == nil
                        if inFile {
                            writer = try store.beginUpload()
                            fileName = parameters["filename"]
                        }
                    case .body(let bytes):
                        if inFile, let writer {
                            try bytes.withUnsafeReadableBytes { try writer.append($0) }
                        } else {
                            otherBytes += bytes.readableBytes
                            guard otherBytes <= Self.maxOtherFieldBytes else {
                                throw RestFailure(.contentTooLarge, "PAYLOAD_TOO_LARGE", "Fields other than file may hold at most \(Self.maxOtherFieldBytes) bytes")
                            }
                        }
                    case .partEnd:
                        if inFile, let current = writer {
                            result = (try current.seal(), fileName)
                            sealed = current
                            writer = nil
                        }
                        inFile = false
                    case .end:
                        break
                    }
                }
            }
            try parser.finish()
            // Only a body accepted whole puts its file in place.
            try sealed?.place()
        } catch {
            writer?.abort()
            sealed?.abort()
            throw error
        }
        guard let result else { throw RestFailure.badRequest("The form has no field named file", field: "file") }
        return result
    }

    private func download(_ attachment: Attachment, request: Request, logger: Logger) throws -> Response {
        let path = services.attachments.path(of: attachment)
        var info = stat()
        guard stat(path, &info) == 0 else {
            logger.error("stored file missing", metadata: ["attachment": "\(attachment.id)"])
            throw RestFailure(.notFound, "NOT_FOUND", "File not found")
        }
        let size = Int64(info.st_size)
        let etag = "\"\(attachment.sha256)\""
        var headers: HTTPFields = [
            .contentType: attachment.mimeType,
            .eTag: etag,
            .cacheControl: "private, max-age=31536000, immutable",
            .acceptRanges: "bytes",
            .init("X-Content-Type-Options")!: "nosniff",
        ]
        let disposition = attachment.kind == .file ? "attachment" : "inline"
        if let name = attachment.fileName {
            let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? "file"
            let plain = String(name.unicodeScalars.map { $0.isASCII && $0 != "\\" ? Character($0) : "_" })
            headers[.contentDisposition] = "\(disposition); filename=\"\(plain)\"; filename*=UTF-8''\(encoded)"
        } else {
            headers[.contentDisposition] = disposition
        }
        if let match = request.headers[.ifNoneMatch], match == "*" || match.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == etag
        }) {
            return Response(status: .notModified, headers: headers)
        }
        var range: ClosedRange<Int64>?
        if let header = request.headers[.range], request.headers[.ifRange].map({ $0 == etag }) ?? true {
            switch ByteRange.parse(header, size: size) {
            case .none: break
            case .satisfiable(let r): range = r
            case .unsatisfiable:
                headers[.contentRange] = "bytes */\(size)"
                var response = RestJSON.response(
                    ["error": ["code": "RANGE_NOT_SATISFIABLE", "message": "The range is outside the file (\(size) bytes)"]],
                    status: .rangeNotSatisfiable)
                response.headers[.contentRange] = "bytes */\(size)"
                return response
            }
        }
        let span = range ?? 0...(max(size, 1) - 1)
        let length = size == 0 ? 0 : span.upperBound - span.lowerBound + 1
        if let range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)" }
        headers[.contentLength] = String(length)
        let body = ResponseBody(contentLength: Int(length)) { writer in
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw RestFailure(.notFound, "NOT_FOUND", "File not found") }
            defer { close(fd) }
            var offset = span.lowerBound
            var remaining = length
            while remaining > 0 {
                let count = Int(min(remaining, 64 << 10))
                var buffer = ByteBufferAllocator().buffer(capacity: count)
                let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                    let n = pread(fd, pointer.baseAddress, count, off_t(offset))
                    guard n > 0 else { throw RestFailure(.internalServerError, "INTERNAL", "Internal server error") }
                    return n
                }
                offset += Int64(read)
                remaining -= Int64(read)
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
        return Response(status: range == nil ? .ok : .partialContent, headers: headers, body: body)
    }
}

/// A single `Range: bytes=…` request (RFC 9110 §14.1.2). Several ranges are answered with the
/// whole file, which the RFC allows.
enum ByteRange: Equatable {
    case none
    case satisfiable(ClosedRange<Int64>)
    case unsatisfiable

    static func parse(_ header: String, size: Int64) -> ByteRange {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes=") else { return .none }
        let spec = text.dropFirst(6)
        guard !spec.contains(",") else { return .none }
        let sides = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard sides.count == 2 else { return .none }
        if sides[0].isEmpty {
            guard let suffix = Int64(sides[1]), suffix >= 0 else { return .none }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .satisfiable(max(0, size - suffix)...(size - 1))
        }
        guard let first = Int64(sides[0]), first >= 0 else { return .none }
        guard first < size else { return .unsatisfiable }
        if sides[1].isEmpty { return .satisfiable(first...(size - 1)) }
        guard let last = Int64(sides[1]), last >= first else { return .none }
        return .satisfiable(first...min(last, size - 1))
    }
}
