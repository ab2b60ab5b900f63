import Foundation
import Resolvers

extension UUID {
    var wire: String { WireText.lowercased(self) }
}

/// Messages go out in the REST shape (`{ id, conversationId, senderId, receiverId, content, ... }`),
/// built by the same presenter, so both compatibility doors show one message alike.
enum SocketIOWire {
    static func message(_ message: Message, viewer: Viewer, services: DomainServices) async throws -> JSONValue {
        try json(try await RestPresenter(services: services).message(message, viewer: viewer))
    }

    static func json(_ rest: RestMessage) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RestDates.format(date))
        }
        let data = try encoder.encode(rest)
        return try JSONCodec.parse(String(decoding: data, as: UTF8.self))
    }
}

/// The object argument of a client event, read field by field with errors that name the field.
struct SocketIOInput {
    let value: JSONValue

    init(_ value: JSONValue) throws {
        guard value.isObject else { throw DomainError.badUserInput("The event's argument must be an object") }
        self.value = value
    }

    func string(_ key: String) throws -> String? {
        switch value[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw DomainError.badUserInput("\(key) must be a string", field: key)
        }
    }

    func uuid(_ key: String) throws -> UUID? {
        guard let text = try string(key) else { return nil }
        guard let id = UUID(uuidString: text) else { throw DomainError.badUserInput("\(key) is not a valid id", field: key) }
        return id
    }

    func uuids(_ key: String) throws -> [UUID] {
        switch value[key] {
        case nil, .null?: return []
        case .array(let items)?:
            return try items.map {
                guard let text = $0.stringValue, let id = UUID(uuidString: text) else {
                    throw DomainError.badUserInput("\(key) must be a list of ids", field: key)
                }
                return id
            }
        default: throw DomainError.badUserInput("\(key) must be a list of ids", field: key)
        }
    }
}
