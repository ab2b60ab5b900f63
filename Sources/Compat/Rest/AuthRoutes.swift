import Foundation
import Hummingbird
import Resolvers

/// `/api/auth/*`: the original two-step register and login (a code by SMS, then the code), and
/// the session routes every client needs.
extension RestAPI {
    private struct PhoneBody: Decodable {
        let phone: String
        let name: String?
        let otp: String?
    }

    private struct RefreshBody: Decodable { let refreshToken: String }

    private struct CodeSent: Encodable {
        let status = "otp_sent"
        let phone: String
        let expiresIn: Int
        let retryAfter: Int
    }

    private struct Session: Encodable {
        let token: String
        let refreshToken: String
        let expiresAt: Date
        let user: RestUser
        let isNewUser: Bool
    }

    var authRoutes: [Route] {
        [
            Route(method: .post, path: "/api/auth/register") { request, context in
                try await self.signIn(request, context, intent: .register)
            },
            Route(method: .post, path: "/api/auth/login") { request, context in
                try await self.signIn(request, context, intent: .signIn)
            },
            Route(method: .post, path: "/api/auth/refresh") { request, _ in
                let body = try await self.body(RefreshBody.self, request)
                let result = try await self.services.auth.refresh(token: body.refreshToken)
                return Self.session(result, status: .ok)
            },
            Route(method: .post, path: "/api/auth/logout") { request, _ in
                let viewer = try await self.viewer(request)
                try await self.noBody(request)
                try await self.services.auth.logout(viewer: viewer)
                return RestJSON.response(["status": "logged_out"])
            },
        ]
    }

    private func signIn(_ request: Request, _ context: Context, intent: AccountIntent) async throws -> Response {
        let body = try await self.body(PhoneBody.self, request)
        if intent == .register {
            guard let name = body.name else { throw RestFailure.badRequest("name is required", field: "name") }
            _ = try await renamingFields(["displayName": "name"]) { try UserService.validDisplayName(name) }
        }
        guard let otp = body.otp else {
            let challenge = try await services.auth.requestOTP(phone: body.phone, ip: context.remoteIP, intent: intent)
            return RestJSON.response(
                CodeSent(phone: challenge.phone, expiresIn: max(0, Int(challenge.expiresAt.timeIntervalSinceNow.rounded())),
                         retryAfter: challenge.retryAfterSeconds),
                status: .accepted)
        }
        let result = try await renamingFields(["displayName": "name", "code": "otp"]) {
            try await services.auth.verifyOTP(
            phone: body.phone, code: otp, displayName: body.name, ip: context.remoteIP, userAgent: request.headers[.userAgent],
            intent: intent)
        }
        return Self.session(result, status: intent == .register ? .created : .ok)
    }

    private static func session(_ result: AuthResult, status: HTTPResponse.Status) -> Response {
        RestJSON.response(
            Session(token: result.accessToken, refreshToken: result.refreshToken, expiresAt: result.accessTokenExpiresAt,
                    user: RestUser(result.user, viewer: result.user.id), isNewUser: result.isNewUser),
            status: status)
    }
}
