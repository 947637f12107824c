import Foundation
import Interpreter
import StateLang
import Testing
@testable import Actions

/// The circuit breaker in front of real calls: requests are counted at the server, time is a
/// manual clock.
@Suite("HTTP action: circuit breaker")
struct HTTPActionCircuitTests {
    let policy = CircuitBreakerPolicy(failureThreshold: 3, openSeconds: 30)

    final class Changes: Sendable {
        let list = Locked<[CircuitChange]>([])
        var phases: [[CircuitState.Phase]] { list.withLock { $0.map { [$0.from.phase, $0.to.phase] } } }
    }

    /// A server whose answer the test switches between 503 and 200.
    final class Switch: Sendable {
        let failing = Locked(true)
    }

    @Test("N consecutive failures open the circuit; then calls fail at once and reach no server")
    func opensAndFailsFast() async throws {
        let clock = ManualClock()
        try await TestHTTPServer.with({ _ in .respond(status: 503, body: "down") }) { server in
            try await HTTPTest.withAction(clock: clock) { action in
                let changes = Changes()
                action.observeCircuits { change in changes.list.withLock { $0.append(change) } }
                let binding = HTTPTest.binding(server.baseURL, breaker: policy)
                for _ in 0..<3 {
                    #expect(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: binding))?.name == .http5xx)
                }
                #expect(server.requestCount == 3)
                #expect(changes.phases == [[.closed, .open]])
                #expect(action.snapshot() == ["inventory": .open(until: clock.now().addingTimeInterval(30))])
                for _ in 0..<5 {
                    let failure = try #require(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: binding)))
                    #expect(failure.name == .circuitOpen)
                    #expect(failure.message == "the circuit of service 'inventory' is open after 3 consecutive failures; calls resume in 30.0 s (the call was not made)")
                }
                #expect(server.requestCount == 3)
            }
        }
    }

    @Test("Half-open: exactly one probe goes through while others still fail fast; its success closes the circuit")
    func probeCloses() async throws {
        let clock = ManualClock()
        let state = Switch()
        let gate = Gate()
        try await TestHTTPServer.with({ _ in
            if state.failing.withLock({ $0 }) { return .respond(status: 500, body: "") }
            await gate.wait()
            return .json(200, #"{"ok": true}"#)
        }) { server in
            defer { gate.open() }
            try await HTTPTest.withAction(clock: clock) { action in
                let changes = Changes()
                action.observeCircuits { change in changes.list.withLock { $0.append(change) } }
                let binding = HTTPTest.binding(server.baseURL, breaker: policy)
                for _ in 0..<3 { _ = await action.invoke(HTTPTest.invocation(), binding: binding) }
                state.failing.withLock { $0 = false }
                clock.advance(by: 30)
                #expect(action.snapshot()["inventory"] == .halfOpen(probeInFlight: false))

                let probe = Task { await action.invoke(HTTPTest.invocation(), binding: binding) }
                try await eventually("the probe reaches the server") { server.requestCount == 4 }
                #expect(action.snapshot()["inventory"] == .halfOpen(probeInFlight: true))
                for _ in 0..<3 {
                    let failure = try #require(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: binding)))
                    #expect(failure.name == .circuitOpen)
                    #expect(failure.message.contains("probe call is in flight"))
                }
                #expect(server.requestCount == 4)
                gate.open()
                #expect(await probe.value == .success(["ok": true]))
                #expect(action.snapshot()["inventory"] == .closed(consecutiveFailures: 0))
                #expect(await action.invoke(HTTPTest.invocation(), binding: binding) == .success(["ok": true]))
                #expect(server.requestCount == 5)
                #expect(changes.phases == [[.closed, .open], [.open, .halfOpen], [.halfOpen, .closed]])
            }
        }
    }

    @Test("Half-open: a failed probe opens the circuit again for OpenSeconds")
    func probeReopens() async throws {
        let clock = ManualClock()
        try await TestHTTPServer.with({ _ in .respond(status: 502, body: "") }) { server in
            try await HTTPTest.withAction(clock: clock) { action in
                let binding = HTTPTest.binding(server.baseURL, breaker: policy)
                for _ in 0..<3 { _ = await action.invoke(HTTPTest.invocation(), binding: binding) }
                clock.advance(by: 31)
                #expect(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: binding))?.name == .http5xx)
                #expect(server.requestCount == 4)
                #expect(action.snapshot()["inventory"] == .open(until: clock.now().addingTimeInterval(30)))
                #expect(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: binding))?.name == .circuitOpen)
                #expect(server.requestCount == 4)
            }
        }
    }

    @Test("Business refusals (4xx) do not count as failures; a success resets the count")
    func fourXXDoNotCount() async throws {
        let clock = ManualClock()
        try await TestHTTPServer.with({ request in
            switch request.path {
            case "/refuse": .json(409, #"{"error": "OutOfStock"}"#)
            case "/ok": .json(200, "{}")
            default: .respond(status: 500, body: "")
            }
        }) { server in
            try await HTTPTest.withAction(clock: clock) { action in
                let binding = HTTPTest.binding(server.baseURL, breaker: policy)
                for _ in 0..<10 { _ = await action.invoke(HTTPTest.invocation("refuse"), binding: binding) }
                #expect(action.snapshot()["inventory"] == .closed(consecutiveFailures: 0))
                for _ in 0..<2 { _ = await action.invoke(HTTPTest.invocation("fail"), binding: binding) }
                #expect(action.snapshot()["inventory"] == .closed(consecutiveFailures: 2))
                _ = await action.invoke(HTTPTest.invocation("ok"), binding: binding)
                #expect(action.snapshot()["inventory"] == .closed(consecutiveFailures: 0))
                #expect(server.requestCount == 13)
            }
        }
    }

    @Test("Refused connections and timeouts count as failures")
    func transportFailuresCount() async throws {
        let clock = ManualClock()
        let port = try await TestHTTPServer.closedPort()
        try await TestHTTPServer.with({ _ in .hold }) { server in
            try await HTTPTest.withAction(clock: clock) { action in
                let refused = HTTPTest.binding("http://127.0.0.1:\(port)", name: "points", breaker: CircuitBreakerPolicy(failureThreshold: 2, openSeconds: 5))
                let slow = HTTPTest.binding(server.baseURL, name: "payments", timeout: 0.2, breaker: CircuitBreakerPolicy(failureThreshold: 2, openSeconds: 5))
                for _ in 0..<2 {
                    #expect(HTTPTest.failure(await action.invoke(HTTPTest.invocation(service: "points"), binding: refused))?.name == .connectionRefused)
                    #expect(HTTPTest.failure(await action.invoke(HTTPTest.invocation(service: "payments"), binding: slow))?.name == .timeout)
                }
                #expect(action.snapshot().mapValues(\.phase) == ["points": .open, "payments": .open])
                #expect(HTTPTest.failure(await action.invoke(HTTPTest.invocation(service: "payments"), binding: slow))?.name == .circuitOpen)
                // A call that timed out on a loaded machine may never have reached the server, so
                // the two failed calls account for at most two requests; a third would mean the
                // open circuit let a call through.
                #expect(server.requestCount <= 2)
            }
        }
    }

    @Test("A service without a CircuitBreaker policy is never cut off")
    func noPolicy() async throws {
        try await TestHTTPServer.with({ _ in .respond(status: 500, body: "") }) { server in
            try await HTTPTest.withAction { action in
                for _ in 0..<8 {
                    #expect(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: HTTPTest.binding(server.baseURL)))?.name == .http5xx)
                }
                #expect(action.snapshot().isEmpty)
                #expect(server.requestCount == 8)
            }
        }
    }
}
