import Foundation

/// The five services of a started shop. Stop it with `stop()`; a shop dropped without
/// `stop()` cancels its servers but cannot wait for them.
public final class RunningShop: Sendable {
    /// The directory that holds the five databases.
    public let directory: URL
    /// The bound port of each service.
    public let ports: [ShopService: Int]

    let servers: [ShopService: ServiceServer]
    private let injector: FaultInjector
    private let task: Task<Void, any Error>
    private let stopped = Locked(false)

    init(
        directory: URL, ports: [ShopService: Int], servers: [ServiceServer], injector: FaultInjector,
        task: Task<Void, any Error>
    ) {
        self.directory = directory
        self.ports = ports
        self.servers = Dictionary(uniqueKeysWithValues: servers.map { ($0.service, $0) })
        self.injector = injector
        self.task = task
    }

    deinit { task.cancel() }

    /// `http://127.0.0.1:PORT` of a service; operations are `POST {baseURL}/{operation}`.
    public func baseURL(_ service: ShopService) -> URL {
        URL(string: "http://\(DemoShop.host):\(ports[service]!)")!
    }

    /// `INVENTORY_URL` … `NOTIFICATIONS_URL` set to the base URLs: the variables that
    /// `workflows/order-payment.yaml` reads.
    public var environment: [String: String] {
        Dictionary(uniqueKeysWithValues: ShopService.allCases.map { ($0.urlEnvironmentVariable, baseURL($0).absoluteString) })
    }

    /// The faults in force.
    public var faults: FaultSpec { injector.spec }

    /// The faults injected since the shop started (outages counted by `setDown`).
    public var faultCounts: FaultCounts { injector.counts }

    /// Replaces the faults for the requests that arrive from now on. `down` rules here do not
    /// take services down; use `setDown`.
    public func setFaults(_ spec: FaultSpec) { injector.replace(spec) }

    /// Takes a service down (its listener closes: connecting is refused; open connections and
    /// requests in flight are dropped without a reply) or brings it back up on the same port.
    /// Returns once the change is made. `for` brings it back up by itself after that long.
    public func setDown(_ service: ShopService, _ down: Bool, for duration: Duration? = nil) async throws {
        let server = servers[service]!
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ack: ServiceServer.Ack = { continuation.resume(with: $0) }
            let sent = server.send(down ? .down(duration, ack: ack) : .up(ack: ack))
            if !sent { continuation.resume(throwing: ShopStoppedError(service: service)) }
        }
        if down { injector.recordOutage(duration) }
    }

    /// Stops the five servers (requests being served finish; requests held by an injected
    /// delay are dropped without a reply) and closes the
    /// databases. Rethrows a server's failure (for example a port that could not be bound
    /// again after `setDown`). Calling it again does nothing.
    public func stop() async throws {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        for server in servers.values {
            // False when the server already ended (with the error the task rethrows).
            _ = server.send(.stop)
        }
        let outcome = await task.result
        let databases = servers.values.map(\.database)
        try await offPool { for database in databases { try database.close() } }
        if case .failure(let error) = outcome, !(error is CancellationError) { throw error }
    }
}
