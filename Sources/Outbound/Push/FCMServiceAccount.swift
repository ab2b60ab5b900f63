import Foundation

/// The fields of a Google service-account key file that FCM HTTP v1 needs.
public struct FCMServiceAccount: Sendable, Decodable {
    public let projectId: String
    public let clientEmail: String
    public let privateKey: String
    public let tokenURI: String

    enum CodingKeys: String, CodingKey {
        case projectId = "project_id"
        case clientEmail = "client_email"
        case privateKey = "private_key"
        case tokenURI = "token_uri"
    }

    public static func parse(_ json: Data) throws -> FCMServiceAccount {
        try JSONDecoder().decode(FCMServiceAccount.self, from: json)
    }
}
