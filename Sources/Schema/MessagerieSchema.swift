import Foundation
import Graphiti
import GraphQL
import Resolvers

/// The typed schema; `schema.graphql` is printed from it.
public enum MessagerieSchema {
    public static func build() throws -> Graphiti.Schema<RootResolver, OperationContext> {
        try Graphiti.Schema<RootResolver, OperationContext>(coders: coders) {
            Scalar(UUID.self, as: "ID")
                .description("Opaque identifier.")
            Scalar(Date.self, as: "DateTime")
                .description("RFC 3339 timestamp in UTC.")
            UserType.type
            AuthTypes.otpChallenge
            AuthTypes.authPayload

            Query {
                Field("me", at: RootResolver.me)
                Field("user", at: RootResolver.user) {
                    Argument("id", at: \.id)
                }
            }

            Mutation {
                Field("requestOtp", at: RootResolver.requestOtp) {
                    Argument("phone", at: \.phone)
                }
                Field("verifyOtp", at: RootResolver.verifyOtp) {
                    Argument("phone", at: \.phone)
                    Argument("code", at: \.code)
                    Argument("displayName", at: \.displayName)
                }
                Field("refreshSession", at: RootResolver.refreshSession) {
                    Argument("refreshToken", at: \.refreshToken)
                }
                Field("logout", at: RootResolver.logout)
                Field("updateProfile", at: RootResolver.updateProfile) {
                    Argument("displayName", at: \.displayName)
                    Argument("avatarAttachmentId", at: \.avatarAttachmentId)
                }
            }
        }
    }

    /// SDL of the schema, as committed in `schema.graphql`.
    public static func printed() throws -> String {
        printSchema(schema: try build().schema) + "\n"
    }

    static let coders: Coders = {
        let coders = Coders()
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        coders.encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(style.format(date))
        }
        coders.decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? style.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DomainError.badUserInput("\(text) is not an RFC 3339 date-time")
        }
        return coders
    }()
}
