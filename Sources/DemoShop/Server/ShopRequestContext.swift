import Hummingbird
import NIOCore

/// Hummingbird's basic context plus the connection, so a fault can close it without a reply.
struct ShopRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
