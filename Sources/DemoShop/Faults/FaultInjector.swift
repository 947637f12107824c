/// What to do with one request, decided before it is served.
struct FaultDecision: Sendable, Equatable {
    enum Action: Sendable, Equatable {
        case serve
        case serverError(status: Int)
        case hold(Duration)
        case reset
        case dropReply
    }

    /// Sum of the delays of the rules that fired.
    var delay: Duration = .zero
    var action: Action = .serve
    /// The rule that chose `action`, for the 5xx message.
    var rule: String?
}

/// Decides the faults of each request from the current `FaultSpec` (replaceable while the shop
/// runs) and counts how often each idempotency key reached each operation, so a retry of a
/// request gets its own, reproducible draw.
final class FaultInjector: Sendable {
    private struct State {
        var spec: FaultSpec
        var attempts: [String: Int] = [:]
        var keylessRequests = 0
        var counts = FaultCounts()
    }

    private let state: Locked<State>

    init(spec: FaultSpec) { state = Locked(State(spec: spec)) }

    var spec: FaultSpec { state.withLock { $0.spec } }

    func replace(_ spec: FaultSpec) { state.withLock { $0.spec = spec } }

    /// The faults decided so far.
    var counts: FaultCounts { state.withLock { $0.counts } }

    /// Counts a service going down (refusing connections) for `duration` (nil: until told).
    func recordOutage(_ duration: Duration?) {
        state.withLock { state in
            state.counts.outages += 1
            if let duration {
                let (seconds, attoseconds) = duration.components
                state.counts.outageSeconds += Double(seconds) + Double(attoseconds) / 1e18
            }
        }
    }

    func decide(_ service: ShopService, _ operation: ShopOperation, idempotencyKey: String?) -> FaultDecision {
        let (spec, key, attempt) = state.withLock { state -> (FaultSpec, String, Int) in
            let key: String
            if let idempotencyKey {
                key = idempotencyKey
            } else {
                state.keylessRequests += 1
                key = "#\(state.keylessRequests)"
            }
            let counter = "\(service).\(operation) \(key)"
            let attempt = (state.attempts[counter] ?? 0) + 1
            state.attempts[counter] = attempt
            return (state.spec, key, attempt)
        }
        var decision = FaultDecision()
        for (index, rule) in spec.rules.enumerated() where rule.target.matches(service, operation) {
            if case .down = rule.kind { continue }
            let draw = SplitMix64.unitDraw(
                seed: spec.seed, [String(index), service.rawValue, operation.rawValue, key, String(attempt)])
            guard draw < rule.rate else { continue }
            decision.delay += rule.delay
            switch rule.kind {
            case .latency(let amount):
                decision.delay += amount
            case .serverError(let status) where decision.action == .serve:
                decision.action = .serverError(status: status)
                decision.rule = rule.description
            case .timeout(let hold) where decision.action == .serve:
                decision.action = .hold(hold)
                decision.rule = rule.description
            case .reset where decision.action == .serve:
                decision.action = .reset
                decision.rule = rule.description
            case .dropReply where decision.action == .serve:
                decision.action = .dropReply
                decision.rule = rule.description
            case .serverError, .timeout, .reset, .dropReply, .down:
                break
            }
        }
        state.withLock { $0.counts.record(decision) }
        return decision
    }
}
