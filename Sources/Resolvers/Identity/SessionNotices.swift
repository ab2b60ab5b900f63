import Foundation
import NIOConcurrencyHelpers

/// What the triggers of migration 0009 announce on `SessionNotices.channel` when it commits: a
/// session revoked, deleted or given another expiry, or a person deleted or given or refused the
/// operator right.
public enum SessionNotice: Hashable, Sendable {
    case session(UUID)
    case user(UUID)
    /// A payload this build cannot read: its hearers assume anything may have changed.
    case unreadable

    /// `s` or `u` followed by an id, as the triggers write it.
    public init(payload: String) {
        let id = UUID(uuidString: String(payload.dropFirst()))
        switch (payload.first, id) {
        case ("s", let id?): self = .session(id)
        case ("u", let id?): self = .user(id)
        default: self = .unreadable
        }
    }
}

/// Whoever must hear of ended sessions as soon as they end: the cache of valid sessions, and the
/// watches of long-lived connections.
public protocol SessionNoticeHearer: AnyObject, Sendable {
    func heard(_ notice: SessionNotice)
    /// LISTEN is in place, or lost: notices may have passed unheard while it was not.
    func listeningChanged(_ on: Bool)
}

/// The gateway's LISTEN connection hands each session notice to every hearer. Hearers join at
/// assembly, before the listener runs; the watches are made after the domain, hence a list.
public final class SessionNotices: Sendable {
    public static let channel = "messagerie_sessions"

    private let hearers = NIOLockedValueBox<[any SessionNoticeHearer]>([])

    public init() {}

    public func add(_ hearer: any SessionNoticeHearer) {
        hearers.withLockedValue { $0.append(hearer) }
    }

    public func heard(payload: String) {
        let notice = SessionNotice(payload: payload)
        for hearer in hearers.withLockedValue({ $0 }) { hearer.heard(notice) }
    }

    public func listeningChanged(_ on: Bool) {
        for hearer in hearers.withLockedValue({ $0 }) { hearer.listeningChanged(on) }
    }
}
