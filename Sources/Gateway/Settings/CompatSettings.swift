import Foundation
import Resolvers

/// Settings of the REST door: upload limits per kind and the browser origins CORS allows.
struct CompatSettings: Sendable, Equatable {
    var media = MediaPolicy()
    /// `CORS_ALLOWED_ORIGINS`, comma-separated (`*` for any); empty means no cross-origin access.
    var corsAllowedOrigins: [String] = []

    init() {}

    init(_ reader: Reader) throws(SettingsError) {
        let maxBytes = Int(Int32.max)
        if let v = try reader.int("UPLOAD_MAX_IMAGE_BYTES", in: 1...maxBytes) { media.maxImageBytes = Int64(v) }
        if let v = try reader.int("UPLOAD_MAX_VIDEO_BYTES", in: 1...maxBytes) { media.maxVideoBytes = Int64(v) }
        if let v = try reader.int("UPLOAD_MAX_AUDIO_BYTES", in: 1...maxBytes) { media.maxAudioBytes = Int64(v) }
        if let v = try reader.int("UPLOAD_MAX_FILE_BYTES", in: 1...maxBytes) { media.maxFileBytes = Int64(v) }
        media.allowGenericFiles = try reader.bool("UPLOAD_ALLOW_ANY_FILE") ?? media.allowGenericFiles
        if let raw = reader.string("CORS_ALLOWED_ORIGINS") {
            let origins = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for origin in origins where origin != "*" {
                guard let url = URL(string: origin), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                      url.path.isEmpty, url.query == nil
                else {
                    throw SettingsError(name: "CORS_ALLOWED_ORIGINS", reason: "entries must be origins like https://app.example.com, or *")
                }
            }
            corsAllowedOrigins = origins
        }
    }
}
