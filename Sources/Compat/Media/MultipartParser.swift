import Hummingbird

/// A push parser for `multipart/form-data` (RFC 7578) that never holds more than one incoming
/// chunk plus a delimiter's length: part bodies come out in slices as they arrive, so a large
/// file streams straight through.
struct MultipartParser {
    enum Event: Equatable {
        case part(headers: [String: String])
        case body(ByteBuffer)
        case partEnd
        case end
    }

    enum Failure: Error, Equatable {
        case malformed(String)
    }

    private enum State { case preamble, afterDelimiter, headers, body, epilogue }

    private let delimiter: [UInt8]
    private var state = State.preamble
    private var pending: ByteBuffer
    static let maxHeaderBytes = 16 << 10

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body without a line break before it.
        pending = ByteBuffer(string: "\r\n")
    }

    var isFinished: Bool { state == .epilogue }

    /// The `boundary` parameter of a `multipart/form-data` content type.
    static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    mutating func feed(_ chunk: ByteBuffer) throws -> [Event] {
        var chunk = chunk
        pending.writeBuffer(&chunk)
        var events: [Event] = []
        while true {
            switch state {
            case .preamble:
                guard let index = find(delimiter) else {
                    discard(keepingLast: delimiter.count - 1)
                    return events
                }
                pending.moveReaderIndex(forwardBy: index + delimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                guard pending.readableBytes >= 2 else { return events }
                let two = pending.readBytes(length: 2)!
                if two == Array("--".utf8) {
                    state = .epilogue
                    events.append(.end)
                } else if two == Array("\r\n".utf8) {
                    state = .headers
                } else {
                    throw Failure.malformed("bad delimiter line")
                }
            case .headers:
                if pending.readableBytesView.starts(with: Array("\r\n".utf8)) {
                    pending.moveReaderIndex(forwardBy: 2)
                    events.append(.part(headers: [:]))
                    state = .body
                    continue
                }
                guard let index = find(Array("\r\n\r\n".utf8)) else {
                    if pending.readableBytes > Self.maxHeaderBytes { throw Failure.malformed("part headers too long") }
                    return events
                }
                let block = pending.readString(length: index) ?? ""
                pending.moveReaderIndex(forwardBy: 4)
                events.append(.part(headers: try Self.headers(block)))
                state = .body
            case .body:
                if let index = find(delimiter) {
                    if index > 0 { events.append(.body(pending.readSlice(length: index)!)) }
                    pending.moveReaderIndex(forwardBy: delimiter.count)
                    events.append(.partEnd)
                    state = .afterDelimiter
                } else {
                    let safe = pending.readableBytes - (delimiter.count - 1)
                    if safe > 0 { events.append(.body(pending.readSlice(length: safe)!)) }
                    compact()
                    return events
                }
            case .epilogue:
                pending.clear()
                return events
            }
        }
    }

    /// The body must have ended with the closing delimiter.
    func finish() throws {
        guard state == .epilogue else { throw Failure.malformed("the body ended before the closing boundary") }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        let view = pending.readableBytesView
        guard view.count >= needle.count, let first = needle.first else { return nil }
        var i = view.startIndex
        let last = view.endIndex - needle.count
        while i <= last {
            guard let hit = view[i...last].firstIndex(of: first) else { return nil }
            var matched = true
            for k in 1..<needle.count where view[hit + k] != needle[k] {
                matched = false
                break
            }
            if matched { return hit - view.startIndex }
            i = hit + 1
        }
        return nil
    }

    private mutating func discard(keepingLast count: Int) {
        let drop = pending.readableBytes - count
        if drop > 0 { pending.moveReaderIndex(forwardBy: drop) }
        compact()
    }

    private mutating func compact() {
        if pending.readerIndex > 0 { pending.discardReadBytes() }
    }

    private static func headers(_ block: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for line in block.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { throw Failure.malformed("bad part header") }
            result[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] =
                line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    /// `form-data; name="file"; filename="a.png"` → ["name": "file", "filename": "a.png"].
    static func dispositionParameters(_ value: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(value)
        // Skip the disposition type.
        if let semicolon = rest.firstIndex(of: ";") { rest = rest[rest.index(after: semicolon)...] } else { return result }
        while !rest.isEmpty {
            rest = rest.drop(while: { $0 == " " || $0 == ";" })
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { break } else { value.append(c) }
                }
                if let semicolon = rest.firstIndex(of: ";") { rest = rest[semicolon...] } else { rest = "" }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            if name == "filename*", let quote = value.range(of: "''") {
                result["filename"] = value[quote.upperBound...].removingPercentEncoding ?? result["filename"]
            } else if result[name] == nil {
                result[name] = value
            }
        }
        return result
    }
}

import Foundation
