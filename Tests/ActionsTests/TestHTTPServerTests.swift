import Foundation
import NIOCore
import NIOPosix
import Testing

/// The test server itself: stopping it must be safe whatever its clients are doing, or one
/// late connection from an engine under test takes the whole test process down.
@Suite("Test HTTP server")
struct TestHTTPServerTests {
    @Test("stopping while a burst of connections is still being accepted ends cleanly")
    func stopDuringConnectionBurst() async throws {
        for _ in 0..<5 {
            // The port is held from while the server runs, so that after it stops the kernel
            // cannot hand it to another test's server or client (under a parallel test run a
            // connect reached such a server once, and a bind after the stop met such a client).
            let (holder, port) = try await TestHTTPServer.with({ _ in .json(200, "{}") }) { server in
                let holder = try TestHTTPServer.bindWithoutListening(port: server.port, besideServer: true)
                // Connect without waiting: the server stops while these are being accepted.
                for _ in 0..<64 {
                    _ = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(host: "127.0.0.1", port: server.port)
                        .map { $0.close(promise: nil) }
                }
                return (holder.descriptor, server.port)
            }
            defer { close(holder) }
            // Stopped means stopped: nothing listens on the port any more, so a connect is refused.
            await #expect(throws: (any Error).self) {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port).get()
                try await channel.close()
            }
        }
    }
}
