import Testing

@testable import DemoShop

@Suite("Fault spec")
struct FaultSpecTests {
    @Test("parses rules with targets, kinds, rates, delays and down switches")
    func parses() throws {
        let spec = try FaultSpec(
            parsing: "payments.pay:rate=0.2,kind=5xx; inventory.*:latency=50ms ;notifications:down;"
                + "orders.create:kind=timeout,hold=1.5s,latency=10ms;*:kind=drop,rate=0.05;points.deduct:kind=reset;"
                + "payments.refund:kind=5xx,status=502;inventory:down=2s",
            seed: 9)
        #expect(spec.seed == 9)
        #expect(
            spec.rules == [
                FaultRule(target: .init(service: .payments, operation: .pay), kind: .serverError(status: 503), rate: 0.2),
                FaultRule(target: .init(service: .inventory), kind: .latency(.milliseconds(50))),
                FaultRule(target: .init(service: .notifications), kind: .down(nil)),
                FaultRule(
                    target: .init(service: .orders, operation: .create), kind: .timeout(hold: .milliseconds(1500)),
                    delay: .milliseconds(10)),
                FaultRule(target: .init(service: nil), kind: .dropReply, rate: 0.05),
                FaultRule(target: .init(service: .points, operation: .deduct), kind: .reset),
                FaultRule(target: .init(service: .payments, operation: .refund), kind: .serverError(status: 502)),
                FaultRule(target: .init(service: .inventory), kind: .down(.seconds(2))),
            ])
        #expect(try FaultSpec(parsing: spec.description, seed: 9) == spec)
        #expect(spec.initiallyDown == [.notifications: Duration?.none, .inventory: .seconds(2)])
        #expect(try FaultSpec(parsing: "  ;; ").rules.isEmpty)
    }

    struct BadSpec: Sendable, CustomStringConvertible {
        var spec: String
        /// The text the error must point at (its first occurrence in `spec`, after `after`).
        var offending: String
        var after: String = ""
        var message: String
        var description: String { spec }
    }

    static let badSpecs: [BadSpec] = [
        .init(spec: "payment.pay:kind=5xx", offending: "payment", message: "unknown service 'payment' (did you mean 'payments'?)"),
        .init(spec: "payments.pya:kind=5xx", offending: "pya", message: "payments has no operation 'pya' (did you mean 'pay'?)"),
        .init(spec: "payments.pay:kind=500", offending: "500", message: "unknown fault kind '500'"),
        .init(spec: "payments.pay:rate=1.5,kind=5xx", offending: "1.5", message: "rate must be a number from 0 to 1, got '1.5'"),
        .init(spec: "payments.pay:kind=5xx,rate=0.1,rate=0.2", offending: "rate", after: "0.1,", message: "'rate' is given twice"),
        .init(spec: "inventory.*:latency=50", offending: "50", message: "'50' is not a duration"),
        .init(spec: "notifications.send:down", offending: "down", message: "'down' applies to a whole service"),
        .init(spec: "payments.pay:status=502", offending: "502", message: "'status' goes with kind=5xx"),
        .init(spec: "payments.pay:hold=1s", offending: "1s", message: "'hold' goes with kind=timeout"),
        .init(spec: "payments.pay:kind=timeout,hold=0s", offending: "0s", message: "hold must be longer than 0"),
        .init(spec: "payments.pay:rate=0.5", offending: "rate=0.5", message: "does nothing"),
        .init(spec: "payments.pay:kind=latency", offending: "latency", message: "kind=latency needs latency="),
        .init(spec: "x:kind=5xx;payments.pay", offending: "x", message: "unknown service 'x'"),
        .init(spec: "orders.create:kind=5xx;payments.pay", offending: "payments.pay", message: "needs ':'"),
        .init(spec: "*.pay:kind=5xx", offending: "pay", message: "an operation needs its service: write 'payments.pay'"),
        .init(spec: "payments:down,rate=0.5", offending: "rate", message: "'down' takes no other setting ('rate')"),
        .init(spec: "payments.pay:colour=red", offending: "colour", message: "unknown setting 'colour'"),
        .init(spec: "payments.pay:kind=5xx,,rate=1", offending: ",", after: "5xx,", message: "empty setting"),
        .init(spec: "payments.pay:", offending: "payments.pay", message: "has no settings"),
        .init(spec: "payments.pay:latency", offending: "latency", message: "'latency' needs a value"),
    ]

    @Test("a bad spec is refused with a message that points at the offending text", arguments: badSpecs)
    func refuses(_ bad: BadSpec) throws {
        let error = try #require(throws: FaultSpecError.self) { try FaultSpec(parsing: bad.spec) }
        #expect(error.message.contains(bad.message), "\(error.message)")
        let searchStart = bad.spec.range(of: bad.after).map(\.upperBound) ?? bad.spec.startIndex
        let range = try #require(bad.spec.range(of: bad.offending, range: searchStart..<bad.spec.endIndex))
        #expect(error.offset == bad.spec.distance(from: bad.spec.startIndex, to: range.lowerBound))
        #expect(error.length == bad.offending.count)
    }

    @Test("an error renders on one line, and with the spec and a caret under the offending text")
    func rendering() throws {
        let error = try #require(throws: FaultSpecError.self) { try FaultSpec(parsing: "inventory.*:latency=50ms;payment.pay:kind=5xx") }
        #expect(error.description == "invalid fault spec at column 26: unknown service 'payment' (did you mean 'payments'?); services are inventory, orders, payments, points, notifications")
        #expect(
            error.rendered.split(separator: "\n").dropFirst().map(String.init) == [
                "  inventory.*:latency=50ms;payment.pay:kind=5xx",
                "  " + String(repeating: " ", count: 25) + "^~~~~~~",
            ])
    }
}

@Suite("Fault decisions")
struct FaultDecisionTests {
    @Test("the same seed, request and attempt get the same decision; another seed differs")
    func reproducible() throws {
        let spec = try FaultSpec(parsing: "payments.pay:kind=5xx,rate=0.5", seed: 42)
        func outcomes(_ spec: FaultSpec) -> [FaultDecision.Action] {
            let injector = FaultInjector(spec: spec)
            return (0..<200).flatMap { index in
                // Two attempts of each key: a retry has its own draw.
                (0..<2).map { _ in injector.decide(.payments, .pay, idempotencyKey: "key-\(index)").action }
            }
        }
        let first = outcomes(spec)
        #expect(outcomes(spec) == first)
        var reseeded = spec
        reseeded.seed = 43
        #expect(outcomes(reseeded) != first)
        let failures = first.count { $0 == .serverError(status: 503) }
        #expect((140...260).contains(failures), "\(failures) of 400 at rate 0.5")
        // Retries are drawn independently: some first attempts fail and their retries pass.
        #expect((0..<200).contains { first[2 * $0] != .serve && first[2 * $0 + 1] == .serve })
    }

    @Test("rate 0 never fires, rate 1 always; rules apply only to their targets")
    func targetsAndRates() throws {
        let injector = FaultInjector(
            spec: try FaultSpec(parsing: "payments.pay:kind=5xx,rate=0;payments.refund:kind=reset;inventory.*:kind=drop"))
        for index in 0..<50 {
            #expect(injector.decide(.payments, .pay, idempotencyKey: "k\(index)").action == .serve)
            #expect(injector.decide(.payments, .refund, idempotencyKey: "k\(index)").action == .reset)
            #expect(injector.decide(.inventory, .release, idempotencyKey: "k\(index)").action == .dropReply)
            #expect(injector.decide(.orders, .create, idempotencyKey: "k\(index)").action == .serve)
        }
    }

    @Test("delays of every rule that fires add up; the first rule with another kind decides")
    func combination() throws {
        let injector = FaultInjector(
            spec: try FaultSpec(
                parsing: "orders.*:latency=20ms;orders.create:kind=timeout,hold=1s,latency=5ms;orders.create:kind=5xx,latency=7ms"))
        let decision = injector.decide(.orders, .create, idempotencyKey: "k")
        #expect(decision.delay == .milliseconds(32))
        #expect(decision.action == .hold(.seconds(1)))
        #expect(decision.rule == "orders.create:kind=timeout,hold=1s,latency=5ms")
        #expect(injector.decide(.orders, .cancel, idempotencyKey: "k") == FaultDecision(delay: .milliseconds(20)))
    }
}
