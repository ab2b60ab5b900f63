import Hummingbird
import NIOCore

/// Per-request context of the gateway's router: the caller's address, for rate limits and the
/// session record.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteIP: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteIP = source.channel.remoteAddress?.ipAddress
    }
}
