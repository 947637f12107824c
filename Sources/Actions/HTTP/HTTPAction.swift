import AsyncHTTPClient
import Foundation
import Interpreter
import NIOCore
import NIOHTTP1
import NIOPosix
import StateLang

/// Calls services bound with `Type: http` (DESIGN §3.5): `POST {URL}/{ServiceMethod}` with the
/// evaluated `Input` as the JSON body and the headers `Content-Type: application/json`,
/// `Idempotency-Key`, `Saga-Instance`, `Saga-State` and the binding's `Headers`. `${NAME}` and
/// `${NAME:-default}` in `URL` and `Headers` are expanded at call time.
///
/// Outcomes: 2xx → the JSON body (empty → null); 4xx → `ActionError.<error>` for a body
/// `{"error": "X"}`, else `HTTP.4xx`; 5xx → `HTTP.5xx`; refused → `ConnectionRefused`; past the
/// deadline or cancelled → `Timeout`; any other transport failure → `NetworkError`. See
/// `HTTPAction+Classification.swift` for the whole table.
///
/// One `HTTPClient` (one connection pool, on one event loop thread by default) serves every
/// call; it is created on the first call, so an action that never calls starts no thread.
/// Call `shutdown()` when done. Services with a `CircuitBreaker` policy go through `breakers`.
public final class HTTPAction: ActionHandler, Sendable {
    public struct Configuration: Sendable {
        /// A response body larger than this many bytes fails the call with
        /// `ActionError.ResponseTooLarge`; reading stops at the limit. Default 8 MiB.
        public var maxResponseBytes: Int = 8 * 1024 * 1024
        /// The deadline of a call whose binding and state set none, in seconds. Default 60.
        public var defaultTimeoutSeconds: Double = 60
        /// Connections kept per host. Default 64 (a worker runs 64 instances at once).
        public var connectionsPerHost: Int = 64
        /// Event loop threads of the client. Default 1: the work per call is small.
        public var eventLoopThreads: Int = 1
        /// Reads an environment variable for `${NAME}`; default: the process environment, read at
        /// call time.
        public var environment: @Sendable (String) -> String? = { name in
            getenv(name).map { String(cString: $0) }
        }

        public init() {}
    }

    public let configuration: Configuration
    /// The circuit breakers of the services this action calls.
    public let breakers: CircuitBreakers
    private let client = Locked<ClientState>(.idle)

    private enum ClientState {
        case idle
        case running(HTTPClient, MultiThreadedEventLoopGroup)
        case shutDown
    }

    /// - Parameters:
    ///   - clock: the time the circuit breakers use (open periods); inject a `ManualClock` in tests.
    public init(configuration: Configuration = Configuration(), clock: any EngineClock = SystemClock()) {
        self.configuration = configuration
        self.breakers = CircuitBreakers(clock: clock)
    }

    deinit {
        // A forgotten `shutdown()` must neither leak the event loop thread nor trip the
        // client's debug check; this does not wait, which is why `shutdown()` is the real way.
        if case .running(let httpClient, let group) = self.client.withLock({ $0 }) {
            httpClient.shutdown { _ in group.shutdownGracefully { _ in } }
        }
    }

    /// Receives every change of a service's circuit.
    public func observeCircuits(_ body: @escaping @Sendable (CircuitChange) -> Void) {
        breakers.observe(body)
    }

    /// Every service's circuit, for `sagactl status`.
    public func snapshot() -> [String: CircuitState] {
        breakers.snapshot()
    }

    /// Closes every connection and stops the event loop thread. Calls made afterwards fail with
    /// `NetworkError`. Calling it again does nothing.
    public func shutdown() async throws {
        let running = client.withLock { state -> (HTTPClient, MultiThreadedEventLoopGroup)? in
            defer { state = .shutDown }
            if case .running(let client, let group) = state { return (client, group) }
            return nil
        }
        guard let (client, group) = running else { return }
        var firstError: (any Error)?
        do { try await client.shutdown() } catch { firstError = error }
        do { try await group.shutdownGracefully() } catch { firstError = firstError ?? error }
        if let firstError { throw firstError }
    }

    func httpClient() -> HTTPClient? {
        client.withLock { state in
            switch state {
            case .running(let client, _):
                return client
            case .shutDown:
                return nil
            case .idle:
                let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
                var settings = HTTPClient.Configuration()
                // A POST is never replayed to another address: a redirect is an answer.
                settings.redirectConfiguration = .disallow
                // Retrying is the workflow's decision (Retry), and "refused" must say so at once
                // instead of turning into a Timeout after connection attempts with backoff.
                settings.connectionPool.retryConnectionEstablishment = false
                settings.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, configuration.connectionsPerHost)
                let client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: settings)
                state = .running(client, group)
                return client
            }
        }
    }

    public func invoke(_ invocation: Invocation, binding: ServiceBinding?) async -> ActionOutcome {
        guard let binding else {
            return .failure(ActionFailure(ErrorName("ActionError.InvalidBinding"),
                                          "service '\(invocation.serviceName)' has no http binding"))
        }
        let plan: HTTPRequestPlan
        do {
            plan = try HTTPRequestPlan(invocation: invocation, binding: binding,
                                       defaultTimeoutSeconds: configuration.defaultTimeoutSeconds,
                                       environment: configuration.environment)
        } catch {
            return .failure(ActionFailure(ErrorName("ActionError.InvalidBinding"), error.message))
        }
        let service = invocation.serviceName
        var ticket: CircuitBreakerMachine.Ticket?
        if let policy = binding.circuitBreaker {
            switch breakers.admit(service: service, policy: policy) {
            case .proceed(let granted):
                ticket = granted
            case .reject(let rejection):
                var notBefore: Date?
                if case .open(let until, _) = rejection { notBefore = until }
                return .failure(ActionFailure(.circuitOpen, Self.message(for: rejection, service: service, now: breakers.clock.now()),
                                              notBefore: notBefore))
            }
        }
        let (outcome, verdict) = await perform(plan, invocation: invocation)
        if let ticket { breakers.record(verdict, service: service, ticket: ticket) }
        switch outcome {
        case .success(let result):
            return .success(plan.redactor(result))
        case .failure(let failure):
            return .failure(ActionFailure(failure.name, plan.redactor(failure.message)))
        }
    }

    /// Sends the request and classifies what came back.
    func perform(_ plan: HTTPRequestPlan, invocation: Invocation) async -> (ActionOutcome, CircuitBreakerMachine.Verdict) {
        guard let client = httpClient() else {
            return (.failure(ActionFailure(.networkError, "the HTTP client was shut down; \(plan.displayURL) was not called")), .failure)
        }
        var request = HTTPClientRequest(url: plan.url)
        request.method = .POST
        for header in plan.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(string: plan.body))
        let started = ContinuousClock.now
        let deadline = NIODeadline.now() + .nanoseconds(Int64((plan.timeoutSeconds * 1e9).rounded(.up)))
        let call = ResponseClassifier(displayURL: plan.displayURL, timeoutSeconds: plan.timeoutSeconds,
                                      maxResponseBytes: configuration.maxResponseBytes)
        do {
            let response = try await client.execute(request, deadline: deadline)
            return try await call.classify(response)
        } catch {
            let elapsed = ContinuousClock.now - started
            return call.classify(transportError: error, cancelled: Task.isCancelled, elapsed: elapsed)
        }
    }

    static func message(for rejection: CircuitBreakerMachine.Rejection, service: String, now: Date) -> String {
        switch rejection {
        case .open(let until, let failures):
            let seconds = max(0, until.timeIntervalSince(now))
            return "the circuit of service '\(service)' is open after \(failures) consecutive failure\(failures == 1 ? "" : "s"); "
                + "calls resume in \(String(format: "%.1f", seconds)) s (the call was not made)"
        case .probeInFlight:
            return "the circuit of service '\(service)' is half-open and a probe call is in flight (the call was not made)"
        }
    }
}
