import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Size limits per kind and whether unrecognised files are accepted, set by the gateway.
public struct MediaPolicy: Sendable, Equatable {
    public var maxImageBytes: Int64 = 10 << 20
    public var maxVideoBytes: Int64 = 100 << 20
    public var maxAudioBytes: Int64 = 25 << 20
    public var maxFileBytes: Int64 = 25 << 20
    /// Off by default: only the recognised formats are stored.
    public var allowGenericFiles = false

    public init() {}

    public func limit(for kind: AttachmentKind) -> Int64 {
        switch kind {
        case .image: maxImageBytes
        case .video: maxVideoBytes
        case .audio: maxAudioBytes
        case .file: maxFileBytes
        }
    }

    /// The bound before the type is known: the largest any kind may reach.
    public var largestLimit: Int64 { AttachmentKind.allCases.map(limit(for:)).max() ?? maxVideoBytes }
}

/// Why an upload was refused while it streamed in.
public enum UploadRefusal: Error, Sendable, Equatable {
    case tooLarge(kind: AttachmentKind?, limit: Int64)
    case unsupportedType
    case empty

    public var message: String {
        switch self {
        case .tooLarge(let kind?, let limit): "\(kind.rawValue.lowercased()) files may be at most \(limit) bytes"
        case .tooLarge(nil, let limit): "Files may be at most \(limit) bytes"
        case .unsupportedType: "This type of file is not accepted; send an image, video, audio file or PDF"
        case .empty: "The file is empty"
        }
    }
}

/// A file fully received, hashed and moved to its content address.
public struct StoredUpload: Sendable, Equatable {
    public let sha256: String
    public let byteSize: Int64
    public let media: SniffedMedia
    public let width: Int?
    public let height: Int?
}

/// Files on disk under `root`, named by their SHA-256 (`ab/cd/abcd…`), so no client-chosen name
/// ever reaches the file system and identical files are stored once.
public struct MediaStore: Sendable {
    public let root: String
    public let policy: MediaPolicy

    public init(root: String, policy: MediaPolicy) {
        self.root = root
        self.policy = policy
    }

    public func path(sha256: String) -> String {
        let a = sha256.prefix(2), b = sha256.dropFirst(2).prefix(2)
        return "\(root)/\(a)/\(b)/\(sha256)"
    }

    /// Partial files a crash left behind (a live upload's file is younger than any sane cutoff);
    /// returns how many were removed.
    @discardableResult
    public func removeStaleTemporaryFiles(olderThan age: TimeInterval) -> Int {
        let tmp = root + "/tmp"
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: tmp) else { return 0 }
        var removed = 0
        for name in names where name.hasSuffix(".part") {
            let path = tmp + "/" + name
            guard let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                  Date().timeIntervalSince(modified) > age
            else { continue }
            if (try? fm.removeItem(atPath: path)) != nil { removed += 1 }
        }
        return removed
    }

    /// A writer for one upload; the caller ends it with `seal()` then `place()`, or `abort()`.
    public func beginUpload() throws -> UploadWriter {
        let tmp = root + "/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        return try UploadWriter(store: self, tempPath: "\(tmp)/\(UUID().uuidString.lowercased()).part")
    }
}

/// Streams one upload to a temporary file: hashes as it writes, recognises the type from the
/// first bytes, and stops as soon as the kind's limit is passed, so nothing larger than the limit
/// is ever written and only a small header is held in memory.
public final class UploadWriter {
    private let store: MediaStore
    public let tempPath: String
    private var fd: Int32
    private var hasher = SHA256()
    private var head: [UInt8] = []
    private var media: SniffedMedia?
    public private(set) var byteCount: Int64 = 0
    private var closed = false
    /// The digest, once sealed; the file stays in `tempPath` until placed.
    private var sealed: String?
    private var placed = false

    /// Kept for reading image sizes; large EXIF blocks can push a JPEG's frame header this far.
    static let headKeep = 256 << 10

    init(store: MediaStore, tempPath: String) throws {
        self.store = store
        self.tempPath = tempPath
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    deinit { abort() }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        let limit = media.map { store.policy.limit(for: $0.kind) } ?? store.policy.largestLimit
        guard byteCount + Int64(bytes.count) <= limit else {
            throw UploadRefusal.tooLarge(kind: media?.kind, limit: limit)
        }
        if head.count < Self.headKeep {
            head.append(contentsOf: bytes.prefix(Self.headKeep - head.count))
        }
        if media == nil, head.count >= MediaSniffer.headerLength {
            try decideType()
            let kindLimit = store.policy.limit(for: media!.kind)
            guard byteCount + Int64(bytes.count) <= kindLimit else {
                throw UploadRefusal.tooLarge(kind: media?.kind, limit: kindLimit)
            }
        }
        hasher.update(bufferPointer: bytes)
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw CocoaError(.fileWriteUnknown)
            }
            offset += written
        }
        byteCount += Int64(bytes.count)
    }

    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    private func decideType() throws {
        if let sniffed = MediaSniffer.sniff(head) {
            media = sniffed
        } else if store.policy.allowGenericFiles {
            media = .generic
        } else {
            throw UploadRefusal.unsupportedType
        }
    }

    /// Ends the writing and says what the file is, leaving it in its temporary place: a request
    /// whose body is refused after the file part (another field too large, no closing boundary,
    /// the client gone) must leave nothing behind, and a file at its content address is kept.
    public func seal() throws -> StoredUpload {
        guard byteCount > 0 else { throw UploadRefusal.empty }
        if media == nil { try decideType() }
        let media = self.media!
        close(fd)
        closed = true
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        sealed = digest
        let size = media.kind == .image ? MediaSniffer.dimensions(of: media, in: head) : nil
        return StoredUpload(sha256: digest, byteSize: byteCount, media: media, width: size?.width, height: size?.height)
    }

    /// Moves a sealed file to its content address (once there, identical files are stored once).
    public func place() throws {
        guard let digest = sealed, !placed else { return }
        placed = true
        let destination = store.path(sha256: digest)
        do {
            let fm = FileManager.default
            try fm.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if fm.fileExists(atPath: destination) {
                unlink(tempPath)
            } else if rename(tempPath, destination) != 0 {
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            unlink(tempPath)
            throw error
        }
    }

    /// Removes the file unless it was placed.
    public func abort() {
        guard !placed else { return }
        if !closed { close(fd) }
        closed = true
        placed = true
        unlink(tempPath)
    }
}
