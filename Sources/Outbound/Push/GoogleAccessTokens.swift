import Foundation
import JWTKit
import Logging

/// OAuth2 access tokens for a service account: a JWT assertion signed with the account's RSA key
/// (RS256) is exchanged at the token endpoint, and the answer is reused until shortly before it
/// expires, so a burst of pushes costs one exchange.
actor GoogleAccessTokens {
    static let scope = "https://www.googleapis.com/auth/firebase.messaging"

    struct Assertion: JWTPayload {
        let iss: IssuerClaim
        let scope: String
        let aud: AudienceClaim
        let iat: IssuedAtClaim
        let exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
    }

    private let account: FCMServiceAccount
    private let tokenURL: String
    private let exchange: JSONExchange
    private let keys = JWTKeyCollection()
    private var keyAdded = false
    private var cached: (token: String, expires: Date)?

    init(account: FCMServiceAccount, tokenURL: String?, exchange: JSONExchange) {
        self.account = account
        self.tokenURL = tokenURL ?? account.tokenURI
        self.exchange = exchange
    }

    func token() async throws -> String {
        if let cached, cached.expires.timeIntervalSinceNow > 60 { return cached.token }
        if !keyAdded {
            await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: account.privateKey), digestAlgorithm: .sha256)
            keyAdded = true
        }
        let now = Date()
        let assertion = try await keys.sign(Assertion(
            iss: .init(value: account.clientEmail), scope: Self.scope, aud: .init(value: account.tokenURI),
            iat: .init(value: now), exp: .init(value: now.addingTimeInterval(3600))))
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"
        let answer = try await exchange.post(tokenURL, body: Data(form.utf8), contentType: "application/x-www-form-urlencoded")
        guard answer.status == 200, let json = answer.json(), let token = json["access_token"] as? String else {
            throw PushTransportError("token endpoint answered \(answer.status)")
        }
        let lifetime = (json["expires_in"] as? Double) ?? 3600
        cached = (token, now.addingTimeInterval(lifetime))
        return token
    }

    func invalidate() { cached = nil }
}

struct PushTransportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
