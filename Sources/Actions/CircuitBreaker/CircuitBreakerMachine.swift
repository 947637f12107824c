import Foundation
import StateLang

/// Where a service's circuit stands.
public enum CircuitState: Sendable, Hashable, CustomStringConvertible {
    /// Calls go through; `consecutiveFailures` counts towards the threshold.
    case closed(consecutiveFailures: Int)
    /// Calls fail at once with `CircuitOpen` until `until`.
    case open(until: Date)
    /// The open period is over: the next call is a probe whose result closes or reopens the
    /// circuit; while it runs (`probeInFlight`), other calls fail with `CircuitOpen`.
    case halfOpen(probeInFlight: Bool)

    /// The state without its details, for comparing and showing.
    public var phase: Phase {
        switch self {
        case .closed: .closed
        case .open: .open
        case .halfOpen: .halfOpen
        }
    }

    public enum Phase: String, Sendable, Hashable {
        case closed
        case open
        case halfOpen = "half-open"
    }

    public var description: String {
        switch self {
        case .closed(let failures): "closed (\(failures) consecutive failure\(failures == 1 ? "" : "s"))"
        case .open(let until): "open until \(until.formatted(.iso8601))"
        case .halfOpen(let probing): probing ? "half-open (probe in flight)" : "half-open (next call probes)"
        }
    }
}

/// The circuit breaker of one service as a plain value: events in (a call asks to go, a call
/// finished), decisions out (go or fail fast, and the state change to report). Time is passed
/// in; nothing here sleeps, locks or performs I/O.
///
/// - closed: `failureThreshold` consecutive failures open the circuit for `openSeconds`; a
///   success resets the count.
/// - open: every call is rejected until the open period ends.
/// - half-open: the first call after the open period is the probe; calls that arrive while it
///   runs are rejected. The probe's success closes the circuit, its failure opens it again.
///
/// A result is counted only if the call was admitted in the current state (a ticket carries the
/// state's generation), so a slow call that started while closed cannot close an open circuit.
public struct CircuitBreakerMachine: Sendable, Hashable {
    public private(set) var policy: CircuitBreakerPolicy
    public private(set) var state: CircuitState
    private var generation: UInt64 = 0

    /// Permission for one call; hand it back with the call's verdict.
    public struct Ticket: Sendable, Hashable {
        let generation: UInt64
        public let isProbe: Bool
    }

    /// What a call's outcome says about the service's health.
    public enum Verdict: Sendable, Hashable {
        /// The service answered (2xx, 4xx: a business refusal is not an outage).
        case success
        /// A network error, a timeout, a 5xx.
        case failure
    }

    public enum Admission: Sendable, Hashable {
        case proceed(Ticket)
        case reject(Rejection)
    }

    public enum Rejection: Sendable, Hashable {
        case open(until: Date, consecutiveFailures: Int)
        case probeInFlight
    }

    /// A change of phase, to report.
    public struct Transition: Sendable, Hashable {
        public var from: CircuitState
        public var to: CircuitState
    }

    /// The number of consecutive failures that opened the circuit, for messages.
    private var failuresWhenOpened = 0

    public init(policy: CircuitBreakerPolicy) {
        self.policy = policy
        self.state = .closed(consecutiveFailures: 0)
    }

    var threshold: Int { max(1, policy.failureThreshold) }
    var openInterval: TimeInterval { max(0, policy.openSeconds) }

    /// A new policy (an edited binding) applies from the next event; the state is kept.
    public mutating func update(policy: CircuitBreakerPolicy) {
        self.policy = policy
    }

    /// A call asks to go.
    public mutating func admit(now: Date) -> (Admission, Transition?) {
        switch state {
        case .closed:
            return (.proceed(Ticket(generation: generation, isProbe: false)), nil)
        case .open(let until):
            if now < until {
                return (.reject(.open(until: until, consecutiveFailures: failuresWhenOpened)), nil)
            }
            let transition = move(to: .halfOpen(probeInFlight: true))
            return (.proceed(Ticket(generation: generation, isProbe: true)), transition)
        case .halfOpen(let probing):
            if probing { return (.reject(.probeInFlight), nil) }
            state = .halfOpen(probeInFlight: true)
            return (.proceed(Ticket(generation: generation, isProbe: true)), nil)
        }
    }

    /// A call admitted with `ticket` finished.
    public mutating func record(_ verdict: Verdict, ticket: Ticket, now: Date) -> Transition? {
        guard ticket.generation == generation else { return nil }
        switch (state, verdict) {
        case (.closed, .success):
            state = .closed(consecutiveFailures: 0)
            return nil
        case (.closed(let failures), .failure):
            let count = failures + 1
            if count >= threshold {
                failuresWhenOpened = count
                return move(to: .open(until: now.addingTimeInterval(openInterval)))
            }
            state = .closed(consecutiveFailures: count)
            return nil
        case (.halfOpen, .success) where ticket.isProbe:
            return move(to: .closed(consecutiveFailures: 0))
        case (.halfOpen, .failure) where ticket.isProbe:
            failuresWhenOpened += 1
            return move(to: .open(until: now.addingTimeInterval(openInterval)))
        case (.halfOpen, _), (.open, _):
            // Only the probe is admitted in half-open, and nothing in open, under this generation.
            return nil
        }
    }

    /// The state as a caller arriving at `now` would find it (an open period that is over
    /// shows as half-open).
    public func state(at now: Date) -> CircuitState {
        if case .open(let until) = state, now >= until { return .halfOpen(probeInFlight: false) }
        return state
    }

    private mutating func move(to next: CircuitState) -> Transition {
        let transition = Transition(from: state, to: next)
        state = next
        generation &+= 1
        return transition
    }
}
