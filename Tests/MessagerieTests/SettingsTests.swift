import Foundation
import Resolvers
import XCTest

@testable import Gateway

/// `Settings(values:)` parses an environment dictionary exactly as production does; its errors
/// name the setting and never quote a secret.
final class SettingsTests: XCTestCase {
    static let secret = "a-jwt-secret-that-is-long-enough-0123456789"
    static let database = "postgres://app:p%40ss%2Fword@db.internal:6543/chat"
    static let keys = MessageKeyring.generateSetting()

    private func settingsError(
        _ values: [String: String], file: StaticString = #filePath, line: UInt = #line
    ) -> SettingsError? {
        do {
            _ = try Settings(values: values)
            XCTFail("expected a settings error for \(values.keys.sorted())", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testDefaultsRunEmbeddedWithTheConsoleSender() throws {
        let settings = try Settings(values: [:])
        XCTAssertEqual(settings.port, 4001, "the contract's default port")
        XCTAssertEqual(settings.database, .embedded)
        XCTAssertEqual(settings.otpProvider, .console)
        XCTAssertNil(settings.jwtSecret)
        XCTAssertTrue(settings.migrateOnStart)
        XCTAssertTrue(settings.introspection)
    }

    func testDatabaseURLAndReadmeNames() throws {
        let fromURL = try Settings(values: ["DATABASE_URL": Self.database, "JWT_SECRET": Self.secret, "TERMII_API_KEY": "k", "MESSAGE_KEYS": Self.keys])
        XCTAssertEqual(fromURL.database, .external(DatabaseEndpoint(
            host: "db.internal", port: 6543, username: "app", password: "p@ss/word", database: "chat")))
        XCTAssertEqual(fromURL.otpProvider, .termii, "a configured database means production: Termii by default")

        let fromReadme = try Settings(values: [
            "DB_HOST": "10.0.0.5", "DB_USER": "chat", "DB_PASSWORD": "pw", "DB_NAME": "messages",
            "JWT_SECRET": Self.secret, "TERMII_API_KEY": "k", "PORT": "8080", "MESSAGE_KEYS": Self.keys,
        ])
        XCTAssertEqual(fromReadme.database, .external(DatabaseEndpoint(
            host: "10.0.0.5", port: 5432, username: "chat", password: "pw", database: "messages")))
        XCTAssertEqual(fromReadme.port, 8080)

        let urlWins = try Settings(values: [
            "DATABASE_URL": Self.database, "DB_HOST": "elsewhere", "JWT_SECRET": Self.secret, "OTP_PROVIDER": "console",
            "MESSAGE_KEYS": Self.keys,
        ])
        XCTAssertEqual(urlWins.database, fromURL.database)
    }

    func testShortJWTSecretIsRefusedWithoutEchoingIt() throws {
        let given = "shortButSecret-42"
        let error = try XCTUnwrap(settingsError(["JWT_SECRET": given]))
        XCTAssertEqual(error.name, "JWT_SECRET")
        XCTAssertTrue(error.description.contains("JWT_SECRET"), error.description)
        XCTAssertFalse(error.description.contains(given), "the secret leaked: \(error.description)")
        XCTAssertFalse(String(reflecting: error).contains(given), "the secret leaked: \(String(reflecting: error))")
    }

    func testEachBadSettingIsNamed() throws {
        let cases: [(String, [String: String])] = [
            ("PORT", ["PORT": "abc"]),
            ("PORT", ["PORT": "70000"]),
            ("OTP_PROVIDER", ["OTP_PROVIDER": "x"]),
            ("TERMII_API_KEY", ["OTP_PROVIDER": "termii"]),
            ("TERMII_BASE_URL", ["OTP_PROVIDER": "termii", "TERMII_API_KEY": "k", "TERMII_BASE_URL": "ftp://termii"]),
            ("DATABASE_URL", ["DATABASE_URL": "not a url"]),
            ("DATABASE_URL", ["DATABASE_URL": "mysql://u:p@h/db"]),
            ("DB_USER", ["DB_HOST": "db.internal"]),
            ("DB_NAME", ["DB_HOST": "db.internal", "DB_USER": "u"]),
            ("DB_PORT", ["DB_HOST": "db.internal", "DB_USER": "u", "DB_NAME": "n", "DB_PORT": "five"]),
            ("JWT_SECRET", ["DATABASE_URL": Self.database, "TERMII_API_KEY": "k"]),
            ("LOG_LEVEL", ["LOG_LEVEL": "loud"]),
            ("GRAPHQL_INTROSPECTION", ["GRAPHQL_INTROSPECTION": "maybe"]),
            ("GRAPHQL_MAX_DEPTH", ["GRAPHQL_MAX_DEPTH": "1"]),
            ("MAX_REQUEST_BYTES", ["MAX_REQUEST_BYTES": "10"]),
            ("OTP_TTL_SECONDS", ["OTP_TTL_SECONDS": "5"]),
            ("DEFAULT_COUNTRY_CODE", ["DEFAULT_COUNTRY_CODE": "+12345"]),
            ("PRESENCE_MAX_GROUP_MEMBERS", ["PRESENCE_MAX_GROUP_MEMBERS": "1"]),
            ("SESSION_CACHE_SECONDS", ["SESSION_CACHE_SECONDS": "-1"]),
        ]
        for (name, values) in cases {
            guard let error = settingsError(values) else { continue }
            XCTAssertEqual(error.name, name, "\(values): \(error)")
            XCTAssertTrue(error.description.contains(name), error.description)
        }
    }

    func testMessageKeysAreRequiredAndNotEchoed() throws {
        let missing = try XCTUnwrap(settingsError(
            ["DATABASE_URL": Self.database, "JWT_SECRET": Self.secret, "TERMII_API_KEY": "k"]))
        XCTAssertEqual(missing.name, "MESSAGE_KEYS")
        let secretish = "k1:c2VjcmV0LWtleS1tYXRlcmlhbC10b28tc2hvcnQ"
        let bad = try XCTUnwrap(settingsError(["MESSAGE_KEYS": secretish]))
        XCTAssertEqual(bad.name, "MESSAGE_KEYS")
        XCTAssertFalse(bad.description.contains("c2VjcmV0LWtleS1tYXRlcmlhbC10b28tc2hvcnQ"), bad.description)
    }

    func testMalformedDatabaseURLDoesNotEchoItsPassword() throws {
        let error = try XCTUnwrap(settingsError(["DATABASE_URL": "postgres://admin:hunter2-very-secret@/"]))
        XCTAssertEqual(error.name, "DATABASE_URL")
        XCTAssertFalse(error.description.contains("hunter2"), error.description)
        let missingUser = try XCTUnwrap(settingsError(["DB_HOST": "h", "DB_PASSWORD": "hunter2-very-secret"]))
        XCTAssertEqual(missingUser.name, "DB_USER")
        XCTAssertFalse(missingUser.description.contains("hunter2"), missingUser.description)
    }

    /// A country calling code never starts with 0; PhoneNumber refuses such a default at sign-in
    /// time (as an INTERNAL error for every national number), so start-up must refuse it first.
    func testCountryCodeStartingWithZeroIsRefusedAtStartUp() throws {
        XCTAssertEqual(try Settings(values: ["DEFAULT_COUNTRY_CODE": "+234"]).auth.defaultCountryCallingCode, "234")
        let error = try XCTUnwrap(settingsError(["DEFAULT_COUNTRY_CODE": "044"]))
        XCTAssertEqual(error.name, "DEFAULT_COUNTRY_CODE")
    }

    func testLimitsAreRead() throws {
        let settings = try Settings(values: [
            "OTP_TTL_SECONDS": "30", "OTP_MAX_ATTEMPTS": "3", "OTP_RESEND_COOLDOWN_SECONDS": "0",
            "OTP_MAX_PER_PHONE_PER_HOUR": "7", "OTP_MAX_PER_IP_PER_HOUR": "70", "GRAPHQL_MAX_DEPTH": "4",
            "GRAPHQL_MAX_COST": "100", "MAX_REQUEST_BYTES": "2048", "GRAPHQL_INTROSPECTION": "off", "MIGRATE_ON_START": "no",
            "PRESENCE_MAX_GROUP_MEMBERS": "40", "SESSION_CACHE_SECONDS": "0", "TCP_USER_TIMEOUT_MS": "2500",
        ])
        XCTAssertEqual(settings.tcpUserTimeout, .milliseconds(2500))
        XCTAssertEqual(try Settings(values: [:]).tcpUserTimeout, .seconds(60))
        XCTAssertNil(try Settings(values: ["TCP_USER_TIMEOUT_MS": "0"]).tcpUserTimeout, "0 leaves the kernel's own")
        XCTAssertThrowsError(try Settings(values: ["TCP_USER_TIMEOUT_MS": "-1"])) { error in
            XCTAssertEqual((error as? SettingsError)?.name, "TCP_USER_TIMEOUT_MS")
        }
        XCTAssertEqual(settings.sessionCacheSeconds, 0)
        XCTAssertEqual(try Settings(values: [:]).sessionCacheSeconds, 60)
        XCTAssertEqual(settings.messaging.presenceGroupLimit, 40)
        XCTAssertEqual(try Settings(values: [:]).messaging.presenceGroupLimit, 256)
        XCTAssertEqual(settings.auth.codeLifetimeSeconds, 30)
        XCTAssertEqual(settings.auth.maxWrongAttempts, 3)
        XCTAssertEqual(settings.auth.resendCooldownSeconds, 0)
        XCTAssertEqual(settings.auth.maxCodesPerPhonePerHour, 7)
        XCTAssertEqual(settings.auth.maxCodesPerIPPerHour, 70)
        XCTAssertEqual(settings.maxQueryDepth, 4)
        XCTAssertEqual(settings.maxQueryCost, 100)
        XCTAssertEqual(settings.maxRequestBytes, 2048)
        XCTAssertFalse(settings.introspection)
        XCTAssertFalse(settings.migrateOnStart)
    }

    // MARK: .env

    func testDotEnvParsing() {
        let text = """
            # a comment
            PORT=5000
              export JWT_SECRET="quoted value with # hash"
            DB_NAME='single quoted\\n'
            DB_HOST=db.local # trailing comment
            MULTI="line1\\nline2"
            EQUALS=a=b=c
            EMPTY=
            not a setting line
            =novalue
            """
        let values = DotEnv.parse(text)
        XCTAssertEqual(values["PORT"], "5000")
        XCTAssertEqual(values["JWT_SECRET"], "quoted value with # hash")
        XCTAssertEqual(values["DB_NAME"], #"single quoted\n"#, "single quotes keep backslashes")
        XCTAssertEqual(values["DB_HOST"], "db.local")
        XCTAssertEqual(values["MULTI"], "line1\nline2")
        XCTAssertEqual(values["EQUALS"], "a=b=c")
        XCTAssertEqual(values["EMPTY"], "")
        XCTAssertNil(values["not a setting line"])
        XCTAssertNil(values["# a comment"])
        XCTAssertFalse(values.keys.contains(""))
        XCTAssertFalse(values.keys.contains { $0.hasPrefix("export") })

        let windows = DotEnv.parse("A=1\r\nB=\"two\"\r\n")
        XCTAssertEqual(windows, ["A": "1", "B": "two"], "CRLF line ends")
    }

    /// `KEY="value" # comment` is common in .env files and every dotenv loader reads `value`.
    func testDotEnvQuotedValueFollowedByComment() {
        let values = DotEnv.parse(#"JWT_SECRET="abc def" # the signing secret"#)
        XCTAssertEqual(values["JWT_SECRET"], "abc def")
    }

    func testEnvironmentWinsOverDotEnv() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("messagerie-\(UUID().uuidString).env").path
        try """
            PORT=5000
            HOST=0.0.0.0
            JWT_SECRET=\(Self.secret)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let merged = DotEnv.merged(environment: ["PORT": "6000"], file: path)
        XCTAssertEqual(merged["PORT"], "6000")
        XCTAssertEqual(merged["HOST"], "0.0.0.0")

        let settings = try Settings.load(environment: ["PORT": "6000"], dotEnvPath: path)
        XCTAssertEqual(settings.port, 6000, "the environment wins")
        XCTAssertEqual(settings.host, "0.0.0.0", "the file fills the gaps")
        XCTAssertEqual(settings.jwtSecret, Self.secret)

        let noFile = try Settings.load(environment: ["PORT": "7000"], dotEnvPath: path + ".missing")
        XCTAssertEqual(noFile.port, 7000, "a missing .env is fine")
    }
}
