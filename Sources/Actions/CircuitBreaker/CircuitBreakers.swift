import Foundation
import Interpreter
import StateLang

/// A change of a service's circuit, reported to observers (logs, `sagactl status`).
public struct CircuitChange: Sendable, Hashable, CustomStringConvertible {
    public var service: String
    public var from: CircuitState
    public var to: CircuitState
    public var at: Date

    public var description: String { "circuit of service '\(service)': \(from.phase.rawValue) → \(to)" }
}

/// The circuit breakers of every service, by service name: the thread-safe home of one
/// `CircuitBreakerMachine` per service, with an injected clock and an observer of changes.
/// Services without a `CircuitBreaker` policy have no entry and are never rejected.
public final class CircuitBreakers: Sendable {
    private let machines = Locked<[String: CircuitBreakerMachine]>([:])
    private let observer = Locked<(@Sendable (CircuitChange) -> Void)?>(nil)
    public let clock: any EngineClock

    public init(clock: any EngineClock = SystemClock()) {
        self.clock = clock
    }

    /// Receives every change of phase (closed → open, open → half-open, half-open → closed or
    /// open). Called outside the lock, on the task that caused the change.
    public func observe(_ body: @escaping @Sendable (CircuitChange) -> Void) {
        observer.withLock { $0 = body }
    }

    /// Asks whether a call of `service` may go.
    public func admit(service: String, policy: CircuitBreakerPolicy) -> CircuitBreakerMachine.Admission {
        let now = clock.now()
        let (admission, transition) = machines.withLock { table in
            var machine = table[service] ?? CircuitBreakerMachine(policy: policy)
            if machine.policy != policy { machine.update(policy: policy) }
            let decision = machine.admit(now: now)
            table[service] = machine
            return decision
        }
        report(transition, service: service, at: now)
        return admission
    }

    /// Records the verdict of a call admitted with `ticket`.
    public func record(_ verdict: CircuitBreakerMachine.Verdict, service: String, ticket: CircuitBreakerMachine.Ticket) {
        let now = clock.now()
        let transition = machines.withLock { table -> CircuitBreakerMachine.Transition? in
            guard var machine = table[service] else { return nil }
            let transition = machine.record(verdict, ticket: ticket, now: now)
            table[service] = machine
            return transition
        }
        report(transition, service: service, at: now)
    }

    /// Every known service's circuit as a caller would find it now.
    public func snapshot() -> [String: CircuitState] {
        let now = clock.now()
        return machines.withLock { $0.mapValues { $0.state(at: now) } }
    }

    private func report(_ transition: CircuitBreakerMachine.Transition?, service: String, at now: Date) {
        guard let transition, let observer = observer.withLock({ $0 }) else { return }
        observer(CircuitChange(service: service, from: transition.from, to: transition.to, at: now))
    }
}
