import Foundation
import Interpreter
import Testing

/// The last change of each service's circuit, recorded by executors for `sagactl status`.
@Suite("Conformance: circuits")
struct ConformanceCircuitTests {
    static func change(_ service: String, _ phase: String, at seconds: TimeInterval, owner: LeaseOwner = Fixtures.alice,
                       openUntil: TimeInterval? = nil) -> CircuitRecord {
        CircuitRecord(service: service, phase: phase, detail: "\(phase) at \(seconds)", openUntil: openUntil.map(Fixtures.at),
                      changedAt: Fixtures.at(seconds), owner: owner)
    }

    @Test(arguments: StoreKind.underTest)
    func theLatestChangeOfEachServiceIsKept(kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.circuits().isEmpty)
            try await store.recordCircuit(Self.change("payments", "open", at: 10, openUntil: 20))
            try await store.recordCircuit(Self.change("inventory", "open", at: 11, owner: Fixtures.bob, openUntil: 21))
            try await store.recordCircuit(Self.change("payments", "half-open", at: 20))
            let circuits = try await store.circuits()
            #expect(circuits == [
                Self.change("inventory", "open", at: 11, owner: Fixtures.bob, openUntil: 21),
                Self.change("payments", "half-open", at: 20),
            ])
        }
    }

    @Test(arguments: StoreKind.underTest)
    func anOlderChangeArrivingLateDoesNotReplaceANewerOne(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.recordCircuit(Self.change("payments", "closed", at: 30, owner: Fixtures.bob))
            try await store.recordCircuit(Self.change("payments", "open", at: 25, openUntil: 35))
            #expect(try await store.circuits() == [Self.change("payments", "closed", at: 30, owner: Fixtures.bob)])
        }
    }
}
