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
            let port = try await TestHTTPServer.with({ _ in .json(200, "{}") }) { server in
                // Connect without waiting: the server stops while these are being accepted.
                for _ in 0..<64 {
                    _ = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(host: "127.0.0.1", port: server.port)
                        .map { $0.close(promise: nil) }
                }
                return server.port
            }
            // Stopped means stopped: the port refuses connections now.
            await #expect(throws: (any Error).self) {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port).get()
                try await channel.close()
            }
        }
    }
}
