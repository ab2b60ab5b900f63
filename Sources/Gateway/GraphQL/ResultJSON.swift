import Compat
import Foundation
import GraphQL

/// JSON text of an execution result, written straight from the `Map` tree into bytes. The Codable
/// route (`GraphQLJSONEncoder`) boxes every value through encoding containers, which the history
/// benchmark's profile showed as a twentieth of the server's time for a page of 50 messages;
/// appending to a `String` piece by piece was still a tenth of it (perf, 50 messages per page at
/// concurrency 8), most of it in `String`'s append bookkeeping. Errors are rare and keep the
/// Codable route. Strings and numbers are written as the Socket.IO codec writes them.
enum ResultJSON {
    static func encode(_ result: GraphQLResult) -> String {
        String(decoding: bytes(result), as: UTF8.self)
    }

    static func bytes(_ result: GraphQLResult) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1_024)
        out.append(UInt8(ascii: "{"))
        // `Map` is nil-literal expressible: match the optional, never compare it with nil.
        if case .some(let data) = result.data {
            append("\"data\":", to: &out)
            write(data, to: &out)
            if !result.errors.isEmpty { out.append(UInt8(ascii: ",")) }
        }
        if !result.errors.isEmpty {
            let errors = try? GraphQLJSONEncoder().encode(result.errors)
            append("\"errors\":", to: &out)
            if let errors { out.append(contentsOf: errors) } else { append(#"[{"message":"Internal server error"}]"#, to: &out) }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func write(_ map: Map, to out: inout [UInt8]) {
        switch map {
        case .undefined, .null:
            append("null", to: &out)
        case .bool(let value):
            append(value ? "true" : "false", to: &out)
        case .number(let number):
            write(number, to: &out)
        case .string(let string):
            quote(string, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let fields):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in fields {
                if case .undefined = value { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                quote(key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func write(_ number: Number, to out: inout [UInt8]) {
        switch number.storageType {
        case .bool:
            append(number.boolValue ? "true" : "false", to: &out)
        case .int:
            out.append(contentsOf: String(number.int64Value).utf8)
        case .double, .unknown:
            out.append(contentsOf: JSONCodec.format(number.doubleValue).utf8)
        }
    }

    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    static func quote(_ string: String, to out: inout String) { JSONCodec.writeString(string, to: &out) }

    static func quote(_ string: String, to out: inout [UInt8]) { JSONCodec.writeString(string, to: &out) }
}
