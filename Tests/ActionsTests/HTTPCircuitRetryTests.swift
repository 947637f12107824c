import Foundation
import Interpreter
import StateLang
import Testing
@testable import Actions

/// Retries against an open circuit: the engine waits for the circuit to let calls through
/// instead of spending the step's attempts on calls the breaker refuses at once.
@Suite("HTTP action: retries wait for an open circuit")
struct HTTPCircuitRetryTests {
    static let yaml = """
        Name: refund-after-outage
        StartState: Charge
        Services:
          payments:
            Type: http
            URL: "${SHOP_URL:-http://127.0.0.1:1}/payments"
            CircuitBreaker: { FailureThreshold: 1, OpenSeconds: 30 }
          shipping: { Type: http, URL: "${SHOP_URL:-http://127.0.0.1:1}/shipping" }
        States:
          Charge:
            Type: ServiceTask
            ServiceName: payments
            ServiceMethod: charge
            CompensateState: Refund
            Next: Ship
          Ship:
            Type: ServiceTask
            ServiceName: shipping
            ServiceMethod: ship
            Catch: [{ Exceptions: [ActionError.NoCarrier], Next: Rollback }]
            Next: Done
          Done: { Type: Succeed }
          Rollback: { Type: CompensationTrigger, Next: Failed }
          Failed: { Type: Fail, ErrorCode: NotShipped }
          Refund:
            Type: ServiceTask
            ServiceName: payments
            ServiceMethod: refund
            Retry: [{ Exceptions: [HTTP.5xx, CircuitOpen], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 2 }]
        """

    @Test("A compensation refused by the open circuit retries when it closes, within its MaxAttempts, and compensates")
    func compensationWaitsForCircuit() async throws {
        let refunds = Locked(0)
        try await TestHTTPServer.with({ request in
            switch request.path {
            case "/payments/charge":
                return .json(200, #"{"paymentId": "p-1"}"#)
            case "/shipping/ship":
                return .json(409, #"{"error": "NoCarrier", "message": "no carrier today"}"#)
            case "/payments/refund":
                // The first refund meets an outage, which opens the circuit (threshold 1).
                let n = refunds.withLock { n in n += 1; return n }
                return n == 1 ? .respond(status: 503, body: "restarting") : .json(200, "{}")
            default:
                return .respond(status: 404, body: "")
            }
        }) { server in
            let clock = ManualClock()
            let configuration = HTTPTest.configuration(environment: ["SHOP_URL": server.baseURL])
            try await HTTPTest.withAction(configuration, clock: clock) { http in
                let (engine, workflow) = try HTTPTest.engine(http, clock: clock, yaml: Self.yaml, path: "refund-after-outage.yaml")

                let id = "circuit-retry-1"
                let opened = clock.now()
                let run = Task { try await engine.run(workflow, input: [:], instanceID: id) }
                // Refund 1: 503, the circuit opens for 30 s; its retry is the ordinary backoff (1 s).
                try await eventually("the first retry of Refund is scheduled") { try await engine.store.instance(id: id)?.wakeAt != nil }
                let firstWake = try #require(try await engine.store.instance(id: id)?.wakeAt)
                #expect(abs(firstWake.timeIntervalSince(opened) - 1) < 0.001)
                clock.advance(by: 1)
                // Refund 2: refused by the open circuit without a call; the retry waits for the
                // circuit (30 s after it opened, plus at most the spread), not 2 s of backoff.
                try await eventually("the second retry of Refund is scheduled") {
                    guard let wake = try await engine.store.instance(id: id)?.wakeAt else { return false }
                    return wake > firstWake
                }
                let secondWake = try #require(try await engine.store.instance(id: id)?.wakeAt)
                #expect(secondWake >= opened.addingTimeInterval(30))
                #expect(secondWake <= opened.addingTimeInterval(31))
                #expect(refunds.withLock { $0 } == 1, "a refusal by the open circuit reaches no server")
                clock.advance(by: secondWake.timeIntervalSince(clock.now()))
                // Refund 3: the circuit's probe, which the service now serves.
                let record = try await run.value

                #expect(record.status == .compensated, "\(String(describing: record.failure))")
                #expect(refunds.withLock { $0 } == 2)
                let attempts = try await engine.store.steps(of: id).filter { $0.stateName == "Refund" }
                #expect(attempts.map(\.attempt) == [1, 2, 3])
                #expect(attempts.map { $0.failure?.name } == ["HTTP.5xx", "CircuitOpen", nil])
                #expect(attempts.last?.status == .succeeded)
            }
        }
    }
}
