import HummingbirdCore
import NIOHTTPTypes
import Logging
import NIOCore

/// Holds every connection a server has accepted until a handler takes it, so that stopping
/// the server never drops one unfinished.
///
/// A NIO server built on `NIOAsyncChannel` hands accepted connections to its accept loop
/// through a stream. When that loop ends (cancelled, or its listener closed) while a
/// connection is in flight between accept and handler, the connection's `NIOAsyncChannel` is
/// released without `executeThenClose`, and NIO traps the whole process ("Deinited
/// NIOAsyncWriter without calling finish()"). The tests' servers start and stop hundreds of
/// times next to clients still connecting, which is where it struck. Every connection is
/// therefore admitted here first; handlers `take` theirs; once the server has stopped,
/// `finishUnclaimed()` refuses further admissions and closes what no handler took.
public final class AcceptedConnections<Inbound: Sendable, Outbound: Sendable>: Sendable {
    public typealias Connection = NIOAsyncChannel<Inbound, Outbound>

    private struct State {
        var admitting = true
        var unclaimed: [ObjectIdentifier: Connection] = [:]
    }

    private let state = Locked(State())

    public init() {}

    /// Registers a connection just set up on its channel's event loop; throws once the server
    /// has stopped, which fails the channel's setup (NIO then closes it, and finishes the
    /// writer itself since the channel never became active).
    public func admit(_ connection: Connection) throws -> Connection {
        try state.withLock { state in
            guard state.admitting else { throw ServerStoppedAcceptingError() }
            state.unclaimed[ObjectIdentifier(connection.channel)] = connection
            return connection
        }
    }

    /// A handler takes its connection; from here on its `executeThenClose` finishes it.
    public func take(_ connection: Connection) {
        _ = state.withLock { $0.unclaimed.removeValue(forKey: ObjectIdentifier(connection.channel)) }
    }

    /// Call after the server's accept loop has ended: refuses further connections and closes
    /// each one no handler took.
    public func finishUnclaimed() async {
        let unclaimed = state.withLock { state in
            state.admitting = false
            defer { state.unclaimed = [:] }
            return Array(state.unclaimed.values)
        }
        for connection in unclaimed {
            // `executeThenClose` throws only what its body throws, and this body cannot;
            // errors from the close itself it ignores by design (the channel is closed either way).
            try? await connection.executeThenClose { _, _ in }
        }
    }

    /// How many connections are admitted and not taken (for tests).
    public var unclaimedCount: Int { state.withLock { $0.unclaimed.count } }
}

/// A connection arrived after its server stopped; NIO closes it.
public struct ServerStoppedAcceptingError: Error, Sendable, CustomStringConvertible {
    public var description: String { "the server has stopped accepting connections" }
}

/// Hummingbird's HTTP/1.1 child channel with its connections admitted to `accepted`.
struct AdmittedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let accepted: AcceptedConnections<HTTPRequestPart, HTTPResponsePart>

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { try accepted.admit($0) }
    }

    func handle(value: Value, logger: Logger) async {
        accepted.take(value)
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 whose accepted connections are held by `accepted` until handled.
    static func http1(admittingTo accepted: AcceptedConnections<HTTPRequestPart, HTTPResponsePart>) -> HTTPServerBuilder {
        .init { responder in AdmittedHTTP1Channel(inner: HTTP1Channel(responder: responder), accepted: accepted) }
    }
}
