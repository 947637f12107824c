import DemoShop
import Foundation
import Interpreter
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1, on a port the kernel picks, whose answers a test
/// scripts: a status and body, an endless body, no answer at all, or a TCP reset. It records
/// every request it receives.
///
/// Written on SwiftNIO (which AsyncHTTPClient brings) rather than a framework because the tests
/// need what frameworks hide: resetting a connection, holding a request forever and streaming a
/// body that never ends.
final class TestHTTPServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: HTTPHeaders
        var body: String

        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    enum Reply: Sendable {
        case respond(status: Int, body: String, headers: [(String, String)] = [])
        /// 200 with a chunked body that never ends (until the client goes away).
        case endlessBody
        /// No answer; the connection stays open until the client closes it.
        case hold
        /// The connection is reset (SO_LINGER 0, then close).
        case reset

        static func json(_ status: Int, _ body: String) -> Reply {
            .respond(status: status, body: body, headers: [("Content-Type", "application/json")])
        }
    }

    typealias Handler = @Sendable (Request) async -> Reply

    let port: Int
    private let handler: Handler
    private let recorded = Locked<[Request]>([])

    private init(port: Int, handler: @escaping Handler) {
        self.port = port
        self.handler = handler
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { recorded.withLock { $0 } }
    var requestCount: Int { recorded.withLock { $0.count } }

    /// Runs `body` with a server answering through `handler`; stops the server afterwards.
    static func with<T: Sendable>(_ handler: @escaping Handler,
                                  _ body: @Sendable (TestHTTPServer) async throws -> T) async throws -> T {
        // Connections wait in `accepted` until a handler takes them: when the server stops
        // while one is between accept and handler, NIO would otherwise trap on it
        // ("Deinited NIOAsyncWriter without calling finish()"); see AcceptedConnections.
        let accepted = AcceptedConnections<HTTPServerRequestPart, HTTPServerResponsePart>()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // So that a test can hold the port while the server runs (`bindWithoutListening`).
            .serverChannelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try accepted.admit(NIOAsyncChannel(wrappingChannelSynchronously: child))
                }
            }
        guard let port = channel.channel.localAddress?.port else { throw TestServerError("the server has no port") }
        let server = TestHTTPServer(port: port, handler: handler)
        let (outcome, acceptFailure) = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    try await channel.executeThenClose { inbound in
                        try await withThrowingDiscardingTaskGroup { connections in
                            for try await connection in inbound {
                                accepted.take(connection)
                                connections.addTask { await server.serve(connection) }
                            }
                        }
                    }
                    return nil
                } catch is CancellationError {
                    return nil  // stopped (below), with the connections it had taken
                } catch {
                    return error
                }
            }
            let outcome: Result<T, any Error>
            do { outcome = .success(try await body(server)) } catch { outcome = .failure(error) }
            group.cancelAll()
            return (outcome, await group.next() ?? nil)
        }
        // The accept loop has ended and closed the listener.
        await accepted.finishUnclaimed()
        let result = try outcome.get()
        if let acceptFailure { throw acceptFailure }
        return result
    }

    /// A port on which nothing listens: a socket is bound there for the life of the test
    /// process and never listens, so connecting is refused and no other server can get the
    /// port. (Binding a server and closing it left the port free for the kernel to hand to the
    /// next test's server: a "refused" call once reached one.)
    static func closedPort() async throws -> Int {
        try reservedClosedPort.get()
    }

    private static let reservedClosedPort = Result<Int, any Error> {
        try bindWithoutListening(port: 0).port  // the descriptor stays open on purpose
    }

    /// Binds a socket to `port` on 127.0.0.1 (0: the kernel picks) without listening on it, and
    /// returns its descriptor and port. While the socket is held no other server, and no
    /// client's automatic port choice, gets the port, and a connection to it is refused once
    /// nothing listens there. `besideServer`: the port is a running test server's (both sockets
    /// then have SO_REUSEPORT), held so that it stays this test's after the server stops.
    static func bindWithoutListening(port: Int, besideServer: Bool = false) throws -> (descriptor: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
            && (!besideServer || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) == 0)
            && withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddr in
                    bind(fd, sockaddr, length) == 0 && getsockname(fd, sockaddr, &length) == 0
                }
            }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestServerError("binding port \(port) without listening: \(reason)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var parts = inbound.makeAsyncIterator()
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                while let part = try await parts.next() {
                    switch part {
                    case .head(let h):
                        head = h
                        body.clear()
                    case .body(var chunk):
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let h = head else { continue }
                        let request = Request(method: h.method.rawValue, path: h.uri, headers: h.headers, body: String(buffer: body))
                        recorded.withLock { $0.append(request) }
                        switch await handler(request) {
                        case .respond(let status, let text, let extra):
                            var headers = HTTPHeaders(extra)
                            headers.replaceOrAdd(name: "Content-Length", value: String(text.utf8.count))
                            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)))
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
                            try await outbound.write(.end(nil))
                        case .endlessBody:
                            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok,
                                                                            headers: ["Content-Type": "application/json"])))
                            let chunk = ByteBuffer(repeating: UInt8(ascii: " "), count: 16 * 1024)
                            // Ends when the client closes the connection (the write fails) or the server stops.
                            while !Task.isCancelled { try await outbound.write(.body(.byteBuffer(chunk))) }
                            return
                        case .hold:
                            while try await parts.next() != nil {}
                            return
                        case .reset:
                            guard let socket = connection.channel as? any SocketOptionProvider else {
                                throw TestServerError("the connection has no socket options")
                            }
                            try await socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                            return
                        }
                    }
                }
            }
        } catch {
            // A client that goes away mid-answer (reset, endless body cut off) ends its connection
            // here; that is what those tests provoke, so there is nothing to report.
        }
    }
}

struct TestServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A gate a server handler waits on until the test opens it.
final class Gate: Sendable {
    private let state = Locked<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Polls `condition` until it holds; fails the test after `seconds` of wall-clock time.
/// Only a hang should reach the deadline: on a loaded 2-core machine other tests can hold both
/// of Swift's cooperative threads for tens of seconds.
func eventually(_ what: String, within seconds: Double = 120, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while try await !condition() {
        if Date() > deadline { throw TestServerError("timed out waiting for: \(what)") }
        try await Task.sleep(nanoseconds: 2_000_000)
    }
}
