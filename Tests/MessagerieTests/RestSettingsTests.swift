import Foundation
import Resolvers
import XCTest

@testable import Gateway

/// The REST door's settings: upload limits per kind, generic files, CORS origins.
final class RestSettingsTests: XCTestCase {
    func testDefaults() throws {
        let settings = try Settings(values: [:])
        XCTAssertEqual(settings.uploadsDirectory, "uploads")
        XCTAssertEqual(settings.compat.media.maxImageBytes, 10 << 20)
        XCTAssertEqual(settings.compat.media.maxVideoBytes, 100 << 20)
        XCTAssertFalse(settings.compat.media.allowGenericFiles)
        XCTAssertEqual(settings.compat.corsAllowedOrigins, [])
    }

    func testValuesAreRead() throws {
        let settings = try Settings(values: [
            "UPLOADS_DIR": "/var/media", "UPLOAD_MAX_IMAGE_BYTES": "2048", "UPLOAD_MAX_VIDEO_BYTES": "4096",
            "UPLOAD_MAX_AUDIO_BYTES": "512", "UPLOAD_MAX_FILE_BYTES": "256", "UPLOAD_ALLOW_ANY_FILE": "yes",
            "CORS_ALLOWED_ORIGINS": "https://app.example.com, http://localhost:3000",
        ])
        XCTAssertEqual(settings.uploadsDirectory, "/var/media")
        XCTAssertEqual(settings.compat.media.limit(for: .image), 2048)
        XCTAssertEqual(settings.compat.media.limit(for: .video), 4096)
        XCTAssertEqual(settings.compat.media.limit(for: .audio), 512)
        XCTAssertEqual(settings.compat.media.limit(for: .file), 256)
        XCTAssertEqual(settings.compat.media.largestLimit, 4096)
        XCTAssertTrue(settings.compat.media.allowGenericFiles)
        XCTAssertEqual(settings.compat.corsAllowedOrigins, ["https://app.example.com", "http://localhost:3000"])
    }

    func testBadValuesAreNamed() {
        for (name, value) in [
            ("UPLOAD_MAX_IMAGE_BYTES", "0"), ("UPLOAD_MAX_VIDEO_BYTES", "lots"), ("UPLOAD_ALLOW_ANY_FILE", "maybe"),
            ("CORS_ALLOWED_ORIGINS", "app.example.com"), ("CORS_ALLOWED_ORIGINS", "https://a.example.com/path"),
        ] {
            XCTAssertThrowsError(try Settings(values: [name: value]), "\(name)=\(value)") { error in
                XCTAssertEqual((error as? SettingsError)?.name, name)
            }
        }
    }
}
