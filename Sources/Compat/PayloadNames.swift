import Resolvers

/// The original API's names for fields the domain names otherwise, shared by its REST bodies and
/// its Socket.IO events: a refusal names the field as the client sent it.
enum PayloadNames {
    /// `POST /api/messages/send` and the `sendMessage` event.
    static let sendMessage = ["text": "content", "recipientId": "receiverId"]

    /// `error` in the payload's names: its field, and in its message the field's name and any
    /// other camelCase name (`recipientId`), each as a whole word. Plain words among the names
    /// (`text`, `to`, `after`) are renamed in the message only as the field's own: elsewhere they
    /// are likelier English ("1 to 1000"). Other errors name no field and are returned as they are.
    static func renaming(_ error: DomainError, _ names: [String: String]) -> DomainError {
        guard case .badUserInput(var message, let field) = error, !names.isEmpty else { return error }
        for (domain, payload) in names where domain == field || domain.contains(where: \.isUppercase) {
            // Field names are identifiers: letters and digits, nothing a pattern would read.
            guard domain.allSatisfy({ $0.isLetter || $0.isNumber }), let word = try? Regex<Substring>("\\b\(domain)\\b") else { continue }
            message = message.replacing(word, with: payload)
        }
        return .badUserInput(message, field: field.map { names[$0] ?? $0 })
    }
}
