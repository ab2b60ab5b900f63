import Logging
import PostgresNIO

/// Every domain service, built once by the gateway and handed to each door.
public final class DomainServices: Sendable {
    public let auth: AuthService
    public let users: UserService
    public let conversations: ConversationService
    public let groups: GroupService
    public let messages: MessageService
    public let receipts: ReceiptService
    public let reactions: ReactionService
    public let search: SearchService
    public let activity: ActivityReader
    public let keyRotation: KeyRotation
    public let typing: TypingService
    public let live: LiveFeed
    public let presence: PresenceService
    public let telemetry: Telemetry
    public let attachments: AttachmentService
    public let devices: DeviceService
    public let push: PushOutbox

    public init(auth: AuthService, users: UserService, messaging core: MessagingCore, live: LiveFeed, presence: PresenceService,
                media: MediaStore = MediaStore(root: "uploads", policy: MediaPolicy())) {
        self.live = live
        self.presence = presence
        telemetry = core.telemetry
        typing = TypingService(core: core)
        self.auth = auth
        self.users = users
        conversations = ConversationService(core: core)
        groups = GroupService(core: core)
        messages = MessageService(core: core)
        receipts = ReceiptService(core: core)
        reactions = ReactionService(core: core)
        search = SearchService(core: core)
        activity = ActivityReader(db: core.db, logger: core.logger)
        keyRotation = KeyRotation(core: core)
        attachments = AttachmentService(core: core, store: media)
        devices = DeviceService(db: core.db, logger: core.logger)
        push = PushOutbox(db: core.db, logger: core.logger, policy: core.push)
    }
}
