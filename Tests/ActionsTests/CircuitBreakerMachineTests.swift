import Foundation
import Interpreter
import StateLang
import Testing
@testable import Actions

/// The breaker's state machine alone: events in, decisions out, time passed in.
@Suite("Circuit breaker state machine")
struct CircuitBreakerMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let policy = CircuitBreakerPolicy(failureThreshold: 3, openSeconds: 10)

    /// Admits a call and returns its ticket; fails the test when it is rejected.
    func admit(_ machine: inout CircuitBreakerMachine, at now: Date,
               sourceLocation: SourceLocation = #_sourceLocation) -> CircuitBreakerMachine.Ticket? {
        let (admission, _) = machine.admit(now: now)
        guard case .proceed(let ticket) = admission else {
            Issue.record("expected the call to proceed, got \(admission)", sourceLocation: sourceLocation)
            return nil
        }
        return ticket
    }

    /// A machine opened by `threshold` failures at t0.
    func opened() throws -> CircuitBreakerMachine {
        var machine = CircuitBreakerMachine(policy: policy)
        for _ in 0..<3 {
            let ticket = try #require(admit(&machine, at: t0))
            _ = machine.record(.failure, ticket: ticket, now: t0)
        }
        #expect(machine.state == .open(until: t0.addingTimeInterval(10)))
        return machine
    }

    @Test("Closed: failures below the threshold are counted; a success resets the count")
    func closedCounting() throws {
        var machine = CircuitBreakerMachine(policy: policy)
        #expect(machine.state == .closed(consecutiveFailures: 0))
        for expected in 1...2 {
            let ticket = try #require(admit(&machine, at: t0))
            #expect(!ticket.isProbe)
            #expect(machine.record(.failure, ticket: ticket, now: t0) == nil)
            #expect(machine.state == .closed(consecutiveFailures: expected))
        }
        let ticket = try #require(admit(&machine, at: t0))
        #expect(machine.record(.success, ticket: ticket, now: t0) == nil)
        #expect(machine.state == .closed(consecutiveFailures: 0))
    }

    @Test("Closed → open: the threshold-th consecutive failure opens the circuit for openSeconds")
    func opens() throws {
        var machine = CircuitBreakerMachine(policy: policy)
        var transitions: [CircuitBreakerMachine.Transition] = []
        for _ in 0..<3 {
            let ticket = try #require(admit(&machine, at: t0))
            if let t = machine.record(.failure, ticket: ticket, now: t0) { transitions.append(t) }
        }
        #expect(transitions == [.init(from: .closed(consecutiveFailures: 2), to: .open(until: t0.addingTimeInterval(10)))])
    }

    @Test("Open: calls are rejected until the open period ends, with when and why")
    func openRejects() throws {
        var machine = try opened()
        let (admission, transition) = machine.admit(now: t0.addingTimeInterval(9.999))
        #expect(admission == .reject(.open(until: t0.addingTimeInterval(10), consecutiveFailures: 3)))
        #expect(transition == nil)
        #expect(machine.state(at: t0.addingTimeInterval(5)) == .open(until: t0.addingTimeInterval(10)))
    }

    @Test("Open → half-open: the first call after the open period is the probe")
    func halfOpenProbe() throws {
        var machine = try opened()
        #expect(machine.state(at: t0.addingTimeInterval(10)) == .halfOpen(probeInFlight: false))
        let (admission, transition) = machine.admit(now: t0.addingTimeInterval(10))
        guard case .proceed(let ticket) = admission else {
            Issue.record("the probe was rejected: \(admission)")
            return
        }
        #expect(ticket.isProbe)
        #expect(transition == .init(from: .open(until: t0.addingTimeInterval(10)), to: .halfOpen(probeInFlight: true)))
    }

    @Test("Half-open: while the probe runs, every other call is rejected")
    func oneProbe() throws {
        var machine = try opened()
        _ = try #require(admit(&machine, at: t0.addingTimeInterval(11)))
        for offset in [11.0, 12, 100] {
            let (admission, transition) = machine.admit(now: t0.addingTimeInterval(offset))
            #expect(admission == .reject(.probeInFlight))
            #expect(transition == nil)
        }
    }

    @Test("Half-open → closed: the probe succeeds")
    func probeSucceeds() throws {
        var machine = try opened()
        let probe = try #require(admit(&machine, at: t0.addingTimeInterval(10)))
        let transition = machine.record(.success, ticket: probe, now: t0.addingTimeInterval(10.5))
        #expect(transition == .init(from: .halfOpen(probeInFlight: true), to: .closed(consecutiveFailures: 0)))
        let next = try #require(admit(&machine, at: t0.addingTimeInterval(10.5)))
        #expect(!next.isProbe)
    }

    @Test("Half-open → open: the probe fails, and the circuit opens for another openSeconds from then")
    func probeFails() throws {
        var machine = try opened()
        let probe = try #require(admit(&machine, at: t0.addingTimeInterval(12)))
        let transition = machine.record(.failure, ticket: probe, now: t0.addingTimeInterval(13))
        #expect(transition == .init(from: .halfOpen(probeInFlight: true), to: .open(until: t0.addingTimeInterval(23))))
        #expect(machine.admit(now: t0.addingTimeInterval(22)).0 == .reject(.open(until: t0.addingTimeInterval(23), consecutiveFailures: 4)))
        let again = try #require(admit(&machine, at: t0.addingTimeInterval(23)))
        #expect(again.isProbe)
    }

    @Test("Results of calls admitted before a change are ignored")
    func staleTickets() throws {
        var machine = CircuitBreakerMachine(policy: policy)
        let slow = try #require(admit(&machine, at: t0))
        let late = try #require(admit(&machine, at: t0))
        for _ in 0..<3 {
            let ticket = try #require(admit(&machine, at: t0))
            _ = machine.record(.failure, ticket: ticket, now: t0)
        }
        // A call that started while closed and succeeds now does not close the open circuit...
        #expect(machine.record(.success, ticket: slow, now: t0.addingTimeInterval(1)) == nil)
        #expect(machine.state == .open(until: t0.addingTimeInterval(10)))
        // ...and, once half-open, does not stand in for the probe.
        let probe = try #require(admit(&machine, at: t0.addingTimeInterval(10)))
        #expect(machine.record(.success, ticket: late, now: t0.addingTimeInterval(10)) == nil)
        #expect(machine.state == .halfOpen(probeInFlight: true))
        #expect(machine.record(.failure, ticket: probe, now: t0.addingTimeInterval(10))?.to.phase == .open)
    }

    @Test("A threshold of 1 opens on the first failure; a new policy keeps the state")
    func thresholdOneAndPolicyUpdate() throws {
        var machine = CircuitBreakerMachine(policy: CircuitBreakerPolicy(failureThreshold: 1, openSeconds: 2))
        let ticket = try #require(admit(&machine, at: t0))
        #expect(machine.record(.failure, ticket: ticket, now: t0)?.to == .open(until: t0.addingTimeInterval(2)))
        machine.update(policy: CircuitBreakerPolicy(failureThreshold: 5, openSeconds: 60))
        #expect(machine.state == .open(until: t0.addingTimeInterval(2)))
        let probe = try #require(admit(&machine, at: t0.addingTimeInterval(2)))
        // The new open period applies to the next opening.
        #expect(machine.record(.failure, ticket: probe, now: t0.addingTimeInterval(3))?.to == .open(until: t0.addingTimeInterval(63)))
    }
}

/// The thread-safe wrapper: one machine per service, the clock, the observer.
@Suite("Circuit breakers by service")
struct CircuitBreakersTests {
    final class Changes: Sendable {
        let list = Locked<[CircuitChange]>([])
        var all: [CircuitChange] { list.withLock { $0 } }
    }

    @Test("Each service has its own circuit; changes are reported and the snapshot follows the clock")
    func perServiceAndObserved() {
        let clock = ManualClock()
        let breakers = CircuitBreakers(clock: clock)
        let changes = Changes()
        breakers.observe { change in changes.list.withLock { $0.append(change) } }
        let policy = CircuitBreakerPolicy(failureThreshold: 2, openSeconds: 5)
        for _ in 0..<2 {
            guard case .proceed(let ticket) = breakers.admit(service: "payments", policy: policy) else {
                Issue.record("rejected while closed")
                return
            }
            breakers.record(.failure, service: "payments", ticket: ticket)
        }
        if case .proceed = breakers.admit(service: "payments", policy: policy) { Issue.record("the open circuit let a call through") }
        if case .reject = breakers.admit(service: "inventory", policy: policy) { Issue.record("another service's circuit was affected") }
        let openedAt = clock.now()
        #expect(breakers.snapshot() == ["payments": .open(until: openedAt.addingTimeInterval(5)),
                                        "inventory": .closed(consecutiveFailures: 0)])
        clock.advance(by: 5)
        #expect(breakers.snapshot()["payments"] == .halfOpen(probeInFlight: false))
        guard case .proceed(let probe) = breakers.admit(service: "payments", policy: policy) else {
            Issue.record("no probe after the open period")
            return
        }
        breakers.record(.success, service: "payments", ticket: probe)
        #expect(changes.all.map(\.service) == ["payments", "payments", "payments"])
        #expect(changes.all.map { [$0.from.phase, $0.to.phase] } == [[.closed, .open], [.open, .halfOpen], [.halfOpen, .closed]])
        #expect(changes.all.map(\.at) == [openedAt, clock.now(), clock.now()])
    }

    @Test("Of many callers arriving together at a half-open circuit, exactly one is let through")
    func concurrentProbe() async {
        let clock = ManualClock()
        let breakers = CircuitBreakers(clock: clock)
        let policy = CircuitBreakerPolicy(failureThreshold: 1, openSeconds: 1)
        if case .proceed(let ticket) = breakers.admit(service: "s", policy: policy) {
            breakers.record(.failure, service: "s", ticket: ticket)
        }
        clock.advance(by: 1)
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    if case .proceed = breakers.admit(service: "s", policy: policy) { return true }
                    return false
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 1)
    }
}
