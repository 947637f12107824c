/// Which faults the shop injects, and the seed of its random decisions.
///
/// Written compactly as rules separated by `;` (see `init(parsing:seed:)`):
/// `payments.pay:rate=0.2,kind=5xx;inventory.*:latency=50ms;notifications:down`.
/// Every request is matched against the rules in order; each matching rule fires with its
/// `rate`. The delays of the rules that fire add up; the first rule that fires with a kind
/// other than `latency` decides what happens to the request.
///
/// Decisions are reproducible: a rule fires for a request when a draw that depends only on
/// `seed`, the rule's position, the service, the operation, the `Idempotency-Key` and the
/// number of times that key reached that operation is below the rate, so the same workload
/// under the same seed meets the same faults whatever the interleaving of requests.
public struct FaultSpec: Sendable, Equatable, CustomStringConvertible {
    public var rules: [FaultRule]
    public var seed: UInt64

    public init(rules: [FaultRule] = [], seed: UInt64 = 0) {
        self.rules = rules
        self.seed = seed
    }

    /// No faults.
    public static let none = FaultSpec()

    /// The spec in its compact form; parsing it gives an equal spec (seed aside).
    public var description: String { rules.map(\.description).joined(separator: ";") }

    /// Services that start refusing connections, and for how long (nil: until `setDown(_:false)`).
    var initiallyDown: [ShopService: Duration?] {
        var down: [ShopService: Duration?] = [:]
        for rule in rules {
            guard case .down(let duration) = rule.kind else { continue }
            for service in rule.target.services where down[service] == nil {
                down[service] = .some(duration)
            }
        }
        return down
    }
}

/// Where a fault rule applies: a service or every service (`*`), and an operation of it or
/// every operation (`*`).
public struct FaultTarget: Sendable, Equatable, CustomStringConvertible {
    /// nil: every service.
    public var service: ShopService?
    /// nil: every operation of the service(s).
    public var operation: ShopOperation?

    public init(service: ShopService?, operation: ShopOperation? = nil) {
        self.service = service
        self.operation = operation
    }

    public func matches(_ service: ShopService, _ operation: ShopOperation) -> Bool {
        (self.service == nil || self.service == service) && (self.operation == nil || self.operation == operation)
    }

    var services: [ShopService] { service.map { [$0] } ?? ShopService.allCases }

    public var description: String {
        "\(service?.rawValue ?? "*").\(operation?.rawValue ?? "*")"
    }
}

/// One rule: a target, a kind of fault, how often it fires and an added delay.
public struct FaultRule: Sendable, Equatable, CustomStringConvertible {
    public var target: FaultTarget
    public var kind: FaultKind
    /// Probability in 0…1 that the rule fires for a request; 1 fires always. Ignored for `down`.
    public var rate: Double
    /// Delay added before the fault acts (`latency=` next to another kind); zero for none.
    public var delay: Duration

    public init(target: FaultTarget, kind: FaultKind, rate: Double = 1, delay: Duration = .zero) {
        self.target = target
        self.kind = kind
        self.rate = rate
        self.delay = delay
    }

    public var description: String {
        var settings: [String] = []
        var extraDelay = delay
        switch kind {
        case .down(let duration):
            return "\(target.service?.rawValue ?? "*"):down" + (duration.map { "=\(FaultDuration.format($0))" } ?? "")
        case .latency(let amount):
            // A latency rule's own delay and its added delay are one wait.
            settings.append("latency=\(FaultDuration.format(amount + delay))")
            extraDelay = .zero
        case .serverError(let status):
            settings.append("kind=5xx")
            if status != FaultKind.defaultServerErrorStatus { settings.append("status=\(status)") }
        case .timeout(let hold):
            settings.append("kind=timeout")
            if hold != FaultKind.defaultHold { settings.append("hold=\(FaultDuration.format(hold))") }
        case .reset:
            settings.append("kind=reset")
        case .dropReply:
            settings.append("kind=drop")
        }
        if rate != 1 { settings.append("rate=\(rate)") }
        if extraDelay != .zero { settings.append("latency=\(FaultDuration.format(extraDelay))") }
        return "\(target):\(settings.joined(separator: ","))"
    }
}

/// What a fault does to a request.
public enum FaultKind: Sendable, Equatable {
    /// Only delay the request by this much, then serve it normally (`latency=50ms`).
    case latency(Duration)
    /// Answer with this 5xx status before doing anything (`kind=5xx`, `status=503`).
    case serverError(status: Int)
    /// Hold the request this long before serving it (`kind=timeout`, `hold=10s`): a client
    /// with a shorter deadline gives up, and the work may still happen afterwards, as with a
    /// slow server. Stopping the shop or taking the service down aborts held requests.
    case timeout(hold: Duration)
    /// Close the connection without a reply and without doing anything (`kind=reset`).
    case reset
    /// Do the work, commit it, then close the connection without a reply (`kind=drop`).
    case dropReply
    /// The whole service refuses connections: its listener is closed (`inventory:down`), from
    /// the start, for the given time or (nil) until `RunningShop.setDown(_:false)`.
    case down(Duration?)

    public static let defaultServerErrorStatus = 503
    public static let defaultHold: Duration = .seconds(10)
}

/// Durations in fault specs: a number and a unit, `ms` or `s` (`50ms`, `1.5s`).
public enum FaultDuration {
    /// `50ms` → 50 ms, `1.5s` → 1.5 s; nil for anything else (no unit, negative, not a number).
    public static func parse(_ text: String) -> Duration? {
        let (number, scale): (Substring, Double)
        if text.hasSuffix("ms") {
            (number, scale) = (text.dropLast(2), 1e-3)
        } else if text.hasSuffix("s") {
            (number, scale) = (text.dropLast(1), 1)
        } else {
            return nil
        }
        guard let value = Double(number), value.isFinite, value >= 0, number.first?.isNumber == true else { return nil }
        return .nanoseconds(Int64((value * scale * 1e9).rounded()))
    }

    /// The shortest of `50ms`, `2s`, `1500ms` that reads back as `duration`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        if milliseconds >= 1000, milliseconds.truncatingRemainder(dividingBy: 1000) == 0 {
            return "\(Int64(milliseconds / 1000))s"
        }
        if milliseconds.rounded() == milliseconds { return "\(Int64(milliseconds))ms" }
        return "\(milliseconds)ms"
    }
}
