import Foundation
import Resolvers

/// The `messageReceived` packet of a new message, for one socket.
extension MessagingConnection {
    enum NewMessagePacket: Equatable {
        case encoded(String)
        /// Arguments that need binary attachments, which only `emit` encodes.
        case value(JSONValue)
    }

    /// A new message's parts are read once for the process (`LiveMessageCache`), and its packet
    /// is encoded once for the sockets of a form that see the same status. A message that has
    /// reactions by then (someone was quicker than this process's first delivery) shows each
    /// viewer their own `reactedByMe`, read for this viewer apart. Nil when the database could not
    /// be read.
    static func newMessagePacket(
        _ message: Message, viewer: Viewer, namespace: String, offsets: Bool, cache: LiveMessageCache, services: DomainServices
    ) async -> NewMessagePacket? {
        // Most sockets find the parts loaded; awaiting even a finished load costs a frame.
        let shared: SharedMessage
        if let loaded = cache.loaded(message) {
            shared = loaded
        } else {
            guard let loaded = await cache.parts(message, load: {
                try? await RestPresenter(services: services).parts(of: [message], viewer: viewer)
            }) else { return nil }
            shared = loaded
        }
        var own: [ReactionSummary]?
        if shared.reactionsDiffer(for: viewer.userId, on: message) {
            guard let mine = await ownReactions(to: message, viewer: viewer.userId, services: services) else { return nil }
            own = mine
        }
        return packet(message, shared: shared, reactions: own, viewer: viewer.userId, namespace: namespace, offsets: offsets, cache: cache)
    }

    @inline(never)
    private static func ownReactions(to message: Message, viewer: UUID, services: DomainServices) async -> [ReactionSummary]? {
        guard let mine = try? await services.reactions.summaries(messageIds: [message.id], viewer: viewer) else { return nil }
        return mine[message.id] ?? []
    }

    /// `own` is the viewer's reactions when they were read apart; packets are shared only when
    /// the message has no reactions.
    @inline(never)
    private static func packet(
        _ message: Message, shared: SharedMessage, reactions own: [ReactionSummary]?, viewer: UUID,
        namespace: String, offsets: Bool, cache: LiveMessageCache
    ) -> NewMessagePacket? {
        let parts = shared.parts
        let reactions = own ?? parts.reactions[message.id] ?? []
        let status = shared.status(for: viewer)
        let wire = { try? SocketIOWire.json(parts.present(message, status: status, reactions: reactions)) }
        let encode = {
            wire().flatMap {
                SocketIOSocket.encodedEvent("messageReceived", namespace: namespace, args: messageArguments(message, wire: $0, offsets: offsets))
            }
        }
        let form = (offsets ? namespace + "#offsets" : namespace) + "#" + status
        if let text = reactions.isEmpty ? cache.packet(for: message, form: form, encode: encode) : encode() {
            return .encoded(text)
        }
        return wire().map(NewMessagePacket.value)
    }
}
