import Hummingbird

/// Response media types of the GraphQL-over-HTTP specification.
enum GraphQLMedia: String {
    case graphQLResponse = "application/graphql-response+json"
    case json = "application/json"

    /// No `Accept` means legacy `application/json`; an `Accept` that names neither (nor a
    /// wildcard) gets nothing, which the caller answers with 406.
    static func negotiate(_ accept: String?) -> GraphQLMedia? {
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return .json }
        var best: (GraphQLMedia, Double)?
        for entry in accept.split(separator: ",") {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = parts.first else { continue }
            let q = parts.dropFirst().compactMap { $0.hasPrefix("q=") ? Double($0.dropFirst(2)) : nil }.first ?? 1
            guard q > 0 else { continue }
            let media: GraphQLMedia? = switch type {
            case GraphQLMedia.graphQLResponse.rawValue: .graphQLResponse
            case "application/json", "application/*", "*/*": .json
            default: nil
            }
            if let media, best == nil || q > best!.1 || (q == best!.1 && media == .graphQLResponse) {
                best = (media, q)
            }
        }
        return best?.0
    }

    static func isJSONContentType(_ value: String?) -> Bool {
        guard let value else { return false }
        let type = value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return type == "application/json"
    }
}
