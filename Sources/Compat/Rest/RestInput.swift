import Foundation
import Hummingbird
import Resolvers

/// JSON in and out of the REST routes: ISO dates, unknown fields ignored, and errors that name
/// the field at fault.
enum RestJSON {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RestDates.format(date))
        }
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"INTERNAL","message":"Internal server error"}}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    /// Reads at most `limit` bytes of a JSON object and decodes it.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        if let contentType = request.headers[.contentType]?.lowercased(),
           !(contentType.hasPrefix("application/json") || contentType.contains("+json"))
        {
            throw RestFailure(.unsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw RestFailure(.contentTooLarge, "PAYLOAD_TOO_LARGE", "The body may be at most \(limit) bytes")
        }
        let data = Data(buffer: buffer)
        guard !data.isEmpty else { throw RestFailure.badRequest("The body must be a JSON object") }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw RestFailure.badRequest("The body must be a JSON object")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RestDates.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date"))
            }
            return date
        }
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw describe(error)
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ error: DecodingError) -> RestFailure {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .badRequest("\(field) is required", field: field)
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return .badRequest("\(field) must not be null", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return .badRequest("\(field) must be \(expected(type))", field: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return .badRequest("The body is not valid JSON") }
            let what = context.debugDescription.contains("UUID") ? "a valid id" : context.debugDescription
            return .badRequest("\(field) must be \(what)", field: field)
        @unknown default:
            return .badRequest("The body could not be read")
        }
    }

    private static func expected(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is UUID.Type, is Date.Type: "a string"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

enum RestDates {
    static func format(_ date: Date) -> String { WireText.rfc3339(date) }

    /// RFC 3339 with or without fractions, or a plain date (midnight UTC).
    static func parse(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return text.count == 10 ? day.date(from: text) : nil
    }
}

/// Typed reads of query parameters, refused by name.
struct RestQuery {
    let parameters: Parameters

    init(_ request: Request) { parameters = request.uri.queryParameters }

    func string(_ name: String) -> String? {
        guard let value = parameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    func uuid(_ name: String) throws -> UUID? {
        guard let raw = string(name) else { return nil }
        guard let id = UUID(uuidString: raw) else { throw RestFailure.badRequest("\(name) must be a valid id", field: name) }
        return id
    }

    func limit(_ name: String = "limit", default value: Int = 50) throws -> Int {
        guard let raw = string(name) else { return value }
        guard let limit = Int(raw), (1...100).contains(limit) else {
            throw RestFailure.badRequest("\(name) must be a whole number from 1 to 100", field: name)
        }
        return limit
    }

    func date(_ name: String, endOfDay: Bool = false) throws -> Date? {
        guard let raw = string(name) else { return nil }
        guard let date = RestDates.parse(raw) else {
            throw RestFailure.badRequest("\(name) must be an ISO 8601 date (2024-05-01 or 2024-05-01T10:00:00Z)", field: name)
        }
        // A plain end date means the whole of that day.
        return endOfDay && raw.count == 10 ? date.addingTimeInterval(86400 - 0.001) : date
    }
}

/// Path parameters that must be ids.
extension Parameters {
    func uuid(_ name: String) throws -> UUID {
        guard let raw = get(name), let id = UUID(uuidString: raw) else {
            throw RestFailure.badRequest("\(name) must be a valid id", field: name)
        }
        return id
    }
}
