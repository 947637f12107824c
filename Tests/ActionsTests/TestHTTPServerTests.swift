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
            let port = try await TestHTTPServer.with({ _ in .json(200, "{}") }) { server in
                // Connect without waiting: the server stops while these are being accepted.
                for _ in 0..<64 {
                    _ = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(host: "127.0.0.1", port: server.port)
                        .map { $0.close(promise: nil) }
                }
                return server.port
            }
            // Stopped means stopped: nothing listens on the port any more. Binding it proves that
            // at once and keeps it so; a bare connect could, under a parallel test run, reach
            // another test's server that the kernel has since given the freed port.
            let holder = try TestHTTPServer.bindWithoutListening(port: port)
            defer { close(holder.descriptor) }
            await #expect(throws: (any Error).self) {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port).get()
                try await channel.close()
            }
        }
    }
}
