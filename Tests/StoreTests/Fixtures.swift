import Foundation
import Interpreter
import StateLang
import Testing

/// Builders for records in the conformance suite. Times have microsecond parts, so that a
/// store keeping less than millisecond precision fails the read-back tests.
enum Fixtures {
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000.123456)

    static func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    static let alice = LeaseOwner(host: "host-a", pid: 101, nonce: "n1")
    static let bob = LeaseOwner(host: "host-b", pid: 202, nonce: "n2")
    static let carol = LeaseOwner(host: "host-a", pid: 303, nonce: "n3")

    static let definition = StoredDefinition(
        fingerprint: "fp-order-1", name: "OrderPayment", path: "workflows/order-payment.yaml",
        source: "Name: OrderPayment\nStartState: Reserve\nStates: {}\n", createdAt: at(-100))

    /// A running instance with no lease, created at `t0 + created` seconds.
    static func instance(
        _ id: InstanceID, created: TimeInterval = 0, status: InstanceStatus = .running, owner: LeaseOwner? = nil,
        leaseExpires: TimeInterval? = nil, wake: TimeInterval? = nil, businessKey: String? = nil,
        parent: InstanceID? = nil, workflow: String = "OrderPayment"
    ) -> InstanceRecord {
        InstanceRecord(
            id: id, definitionFingerprint: definition.fingerprint, workflowName: workflow, businessKey: businessKey,
            parentID: parent, parentStepSeq: parent == nil ? nil : 1, status: status,
            input: ["productId": 1], context: ["productId": 1], cursor: #"{"state":"Reserve"}"#,
            leaseOwner: owner, leaseExpiresAt: leaseExpires.map(at), wakeAt: wake.map(at),
            createdAt: at(created), updatedAt: at(created))
    }

    static func step(_ instance: InstanceID, _ seq: Int, state: String = "Reserve", at time: TimeInterval = 0)
        -> StepRecord
    {
        StepRecord(
            instanceID: instance, seq: seq, stateName: state, phase: .forward,
            input: ["seq": .int(seq)], idempotencyKey: "\(instance)/\(state)/\(seq)", startedAt: at(time))
    }

    /// An instance with every optional field set, and awkward JSON.
    static func fullInstance(_ id: InstanceID) -> InstanceRecord {
        InstanceRecord(
            id: id, definitionFingerprint: definition.fingerprint, workflowName: "OrderPayment",
            businessKey: "order-\(id)", parentID: "parent-of-\(id)", parentStepSeq: 7, status: .compensating,
            forwardStatus: .unknown, compensationStatus: .running,
            input: [
                "big": .int(12_345_678_901_234_567), "negative": -3, "ratio": 0.1, "whole": 2.0, "yes": true,
                "nothing": nil, "text": "naïve \"quoted\" \\ back\nslash\t😀 \u{0001}", "list": [1, "two", [3.5], [:]],
                "nested": ["a": ["b": ["c": []]]],
            ],
            context: ["total": 99.95, "items": [["sku": "A-1", "qty": 2]]],
            cursor: #"{"state":"Pay","phase":"compensation"}"#,
            failure: FailureRecord(name: "ActionError.InsufficientStock", message: "only 1 left", state: "Reserve"),
            leaseOwner: alice, leaseExpiresAt: at(30.5), wakeAt: at(12.000_25), createdAt: at(0.001),
            updatedAt: at(5.000_001), endedAt: at(6.75))
    }

    /// A step with every optional field set.
    static func fullStep(_ instance: InstanceID, _ seq: Int) -> StepRecord {
        StepRecord(
            instanceID: instance, seq: seq, stateName: "CompensateReserve", phase: .compensation, compensatedSeq: 1,
            retriedSeq: 2, attempt: 3, status: .failed, isForUpdate: true, input: ["x": [1, 2, 3]],
            output: ["ok": false, "why": "naïve 😀"],
            failure: FailureRecord(name: "Timeout", message: "no answer in 5 s", state: nil),
            idempotencyKey: "\(instance)-c-\(seq)", childInstanceID: "child-\(instance)", startedAt: at(1.000_001),
            endedAt: at(2.5), retryAt: at(4.25), executor: alice)
    }
}

/// Stores keep dates to at least this precision (the SQLite store keeps REAL unix seconds).
let datePrecision: TimeInterval = 0.000_01

extension InstanceRecord {
    /// This record with each date replaced by `other`'s when they are within `datePrecision`,
    /// so that `==` compares every other field exactly and dates to that precision.
    func aligningDates(to other: InstanceRecord) -> InstanceRecord {
        var copy = self
        copy.leaseExpiresAt = align(leaseExpiresAt, other.leaseExpiresAt)
        copy.wakeAt = align(wakeAt, other.wakeAt)
        copy.createdAt = align(createdAt, other.createdAt)!
        copy.updatedAt = align(updatedAt, other.updatedAt)!
        copy.endedAt = align(endedAt, other.endedAt)
        return copy
    }
}

extension StepRecord {
    func aligningDates(to other: StepRecord) -> StepRecord {
        var copy = self
        copy.startedAt = align(startedAt, other.startedAt)!
        copy.endedAt = align(endedAt, other.endedAt)
        copy.retryAt = align(retryAt, other.retryAt)
        return copy
    }
}

private func align(_ date: Date?, _ reference: Date?) -> Date? {
    guard let date, let reference, abs(date.timeIntervalSince(reference)) < datePrecision else { return date }
    return reference
}

/// Expects `actual` to be `expected`, dates to `datePrecision`.
func expectSame(
    _ actual: InstanceRecord?, _ expected: InstanceRecord, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual?.aligningDates(to: expected) == expected, sourceLocation: sourceLocation)
}

func expectSame(
    _ actual: [InstanceRecord], _ expected: [InstanceRecord], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (a, e) in zip(actual, expected) { expectSame(a, e, sourceLocation: sourceLocation) }
}

func expectSame(_ actual: [StepRecord], _ expected: [StepRecord], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (a, e) in zip(actual, expected) {
        #expect(a.aligningDates(to: e) == e, sourceLocation: sourceLocation)
    }
}

extension InstanceStore {
    /// Saves the fixture definition and creates `records` (no steps), expecting `.created`.
    func seed(_ records: [InstanceRecord]) async throws {
        try await saveDefinition(Fixtures.definition)
        for record in records {
            let outcome = try await createInstance(Transition(instance: record))
            #expect(outcome == .created)
        }
    }
}
