import Foundation
import Interpreter
import StateLang
import Testing
@testable import Actions

/// A workflow whose services are `Type: http`, run by the engine against a loopback server:
/// Retry on HTTP.5xx keeps the idempotency key, Catch routes ActionError.X to compensation.
@Suite("HTTP action: end to end through the engine")
struct HTTPEngineTests {
    static let yaml = """
        Name: http-checkout
        StartState: Reserve
        Services:
          inventory: { Type: http, URL: "${SHOP_URL:-http://127.0.0.1:1}/inventory", TimeoutSeconds: 30 }
          payments:
            Type: http
            URL: "${SHOP_URL:-http://127.0.0.1:1}/payments"
            Headers: { Authorization: "Bearer ${SHOP_TOKEN}" }
        States:
          Reserve:
            Type: ServiceTask
            ServiceName: inventory
            ServiceMethod: reserve
            CompensateState: Release
            Input: [{ productId: "$.[productId]" }]
            Output: { reservationId: "$.[reservationId]" }
            Retry: [{ Exceptions: [HTTP.5xx], IntervalSeconds: 2, MaxAttempts: 2 }]
            Next: Pay
          Pay:
            Type: ServiceTask
            ServiceName: payments
            ServiceMethod: charge
            Input: [{ reservationId: "$.[reservationId]", amount: "$.[amount]" }]
            Catch: [{ Exceptions: [ActionError.CardDeclined], Next: Rollback }]
            Next: Done
          Done: { Type: Succeed }
          Rollback: { Type: CompensationTrigger, Next: Declined }
          Declined: { Type: Fail, ErrorCode: CardDeclined }
          Release:
            Type: ServiceTask
            ServiceName: inventory
            ServiceMethod: release
            Input: [{ reservationId: "$.[reservationId]" }]
        """

    @Test("Retry on HTTP.5xx sends the same Idempotency-Key twice; Catch on ActionError.CardDeclined compensates")
    func retryThenCatch() async throws {
        let reserveCalls = Locked(0)
        try await TestHTTPServer.with({ request in
            switch request.path {
            case "/inventory/reserve":
                let n = reserveCalls.withLock { n in n += 1; return n }
                return n == 1 ? .respond(status: 503, body: "warming up") : .json(200, #"{"reservationId": "r-7"}"#)
            case "/payments/charge":
                return .json(402, #"{"error": "CardDeclined", "message": "the card was declined"}"#)
            case "/inventory/release":
                return .respond(status: 204, body: "")
            default:
                return .respond(status: 404, body: "")
            }
        }) { server in
            let clock = ManualClock()
            let configuration = HTTPTest.configuration(environment: ["SHOP_URL": server.baseURL, "SHOP_TOKEN": "tok-0b8e61f4"])
            try await HTTPTest.withAction(configuration) { http in
                let (engine, workflow) = try HTTPTest.engine(http, clock: clock, yaml: Self.yaml, path: "http-checkout.yaml")

                let id = "http-e2e-1"
                let run = Task { try await engine.run(workflow, input: ["productId": 42, "amount": 20], instanceID: id) }
                try await eventually("the retry of Reserve is scheduled") {
                    // An instance that ended instead (say, its first call ran into the binding's
                    // real-time TimeoutSeconds on a loaded machine) says so at once.
                    let instance = try await engine.store.instance(id: id)
                    if let instance, instance.status != .running {
                        throw TestServerError("the instance ended \(instance.status) before Reserve's retry: \(String(describing: instance.failure))")
                    }
                    return instance?.wakeAt != nil
                }
                #expect(server.requestCount == 1)
                clock.advance(by: 2)
                let record = try await run.value

                #expect(record.status == .compensated)
                let requests = server.requests
                #expect(requests.map(\.path) == ["/inventory/reserve", "/inventory/reserve", "/payments/charge", "/inventory/release"])
                let keys = requests.map { $0.header("Idempotency-Key") ?? "" }
                #expect(!keys[0].isEmpty && keys[0] == keys[1], "a retry must reuse the step's key")
                #expect(Set(keys).count == 3, "the compensation and the next step have their own keys")
                #expect(requests.allSatisfy { $0.header("Saga-Instance") == id })
                #expect(requests.map { $0.header("Saga-State") ?? "" } == ["Reserve", "Reserve", "Pay", "Release"])
                #expect(requests[2].header("Authorization") == "Bearer tok-0b8e61f4")
                #expect(try JSONValue(parsing: requests[0].body) == ["productId": 42])
                #expect(try JSONValue(parsing: requests[2].body) == ["reservationId": "r-7", "amount": 20])
                #expect(try JSONValue(parsing: requests[3].body) == ["reservationId": "r-7"])

                let steps = try await engine.store.steps(of: id)
                let pay = try #require(steps.first { $0.stateName == "Pay" })
                #expect(pay.failure?.name == "ActionError.CardDeclined")
                #expect(pay.failure?.message == "the card was declined")
                let reserves = steps.filter { $0.stateName == "Reserve" }
                #expect(reserves.map(\.attempt) == [1, 2])
                #expect(reserves.first?.failure?.name == "HTTP.5xx")
            }
        }
    }
}
