import Compat
import Foundation
import GraphQL

/// JSON text of an execution result, written straight from the `Map` tree. The Codable route
/// (`GraphQLJSONEncoder`) boxes every value through encoding containers, which the history
/// benchmark's profile showed as a twentieth of the server's time for a page of 50 messages.
/// Errors are rare and keep the Codable route. Strings and numbers are written as the Socket.IO
/// codec writes them.
enum ResultJSON {
    static func encode(_ result: GraphQLResult) -> String {
        var out = "{"
        // `Map` is nil-literal expressible: match the optional, never compare it with nil.
        if case .some(let data) = result.data {
            out += "\"data\":"
            write(data, to: &out)
            if !result.errors.isEmpty { out += "," }
        }
        if !result.errors.isEmpty {
            let errors = (try? GraphQLJSONEncoder().encode(result.errors)).map { String(decoding: $0, as: UTF8.self) }
            out += "\"errors\":" + (errors ?? #"[{"message":"Internal server error"}]"#)
        }
        return out + "}"
    }

    static func write(_ map: Map, to out: inout String) {
        switch map {
        case .undefined, .null:
            out += "null"
        case .bool(let value):
            out += value ? "true" : "false"
        case .number(let number):
            write(number, to: &out)
        case .string(let string):
            quote(string, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .dictionary(let fields):
            out += "{"
            var first = true
            for (key, value) in fields where value != .undefined {
                if !first { out += "," }
                first = false
                quote(key, to: &out)
                out += ":"
                write(value, to: &out)
            }
            out += "}"
        }
    }

    private static func write(_ number: Number, to out: inout String) {
        switch number.storageType {
        case .bool:
            out += number.boolValue ? "true" : "false"
        case .int:
            out += String(number.int64Value)
        case .double, .unknown:
            out += JSONCodec.format(number.doubleValue)
        }
    }

    static func quote(_ string: String, to out: inout String) { JSONCodec.writeString(string, to: &out) }
}
