import Foundation
import Interpreter
import StateLang
import Testing

/// Definitions, `createInstance` and reading back: every store must pass.
@Suite("Conformance: definitions and creation")
struct ConformanceCreateTests {
    @Test(arguments: StoreKind.underTest)
    func definitionsAreStoredOncePerFingerprint(kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.definition(fingerprint: Fixtures.definition.fingerprint) == nil)
            try await store.saveDefinition(Fixtures.definition)
            var edited = Fixtures.definition
            edited.source = "Name: Edited\n"
            edited.path = "elsewhere.yaml"
            try await store.saveDefinition(edited)  // same fingerprint: a no-op

            let stored = try #require(try await store.definition(fingerprint: Fixtures.definition.fingerprint))
            #expect(stored.source == Fixtures.definition.source)
            #expect(stored.path == Fixtures.definition.path)
            #expect(stored.name == Fixtures.definition.name)
            #expect(abs(stored.createdAt.timeIntervalSince(Fixtures.definition.createdAt)) < datePrecision)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func createReadsBackEveryField(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let full = Fixtures.fullInstance("i-full")
            var nullOutput = Fixtures.step("i-full", 2)
            nullOutput.output = .null  // set to JSON null: not the same as nil
            let steps = [Fixtures.fullStep("i-full", 1), nullOutput, Fixtures.step("i-full", 3)]
            // Given out of order: steps come back by seq.
            let bare = Fixtures.instance("i-bare")
            try await store.saveDefinition(Fixtures.definition)
            #expect(try await store.createInstance(Transition(instance: full, steps: [steps[2], steps[0], steps[1]])) == .created)
            #expect(try await store.createInstance(Transition(instance: bare)) == .created)

            expectSame(try await store.instance(id: "i-full"), full)
            expectSame(try await store.instance(businessKey: "order-i-full"), full)
            expectSame(try await store.steps(of: "i-full"), steps)
            let readSteps = try await store.steps(of: "i-full")
            #expect(readSteps.map(\.output) == [steps[0].output, .some(.null), nil])

            let readBare = try #require(try await store.instance(id: "i-bare"))
            expectSame(readBare, bare)
            #expect(readBare.businessKey == nil && readBare.parentID == nil && readBare.parentStepSeq == nil)
            #expect(readBare.compensationStatus == nil && readBare.failure == nil && readBare.leaseOwner == nil)
            #expect(readBare.leaseExpiresAt == nil && readBare.wakeAt == nil && readBare.endedAt == nil)
            #expect(try await store.steps(of: "i-bare").isEmpty)

            #expect(try await store.instance(id: "nope") == nil)
            #expect(try await store.instance(businessKey: "nope") == nil)
            #expect(try await store.steps(of: "nope").isEmpty)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func duplicateBusinessKeyReturnsExistingAndWritesNothing(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.saveDefinition(Fixtures.definition)
            let first = Fixtures.instance("i-1", businessKey: "order-42")
            #expect(try await store.createInstance(Transition(instance: first, steps: [Fixtures.step("i-1", 1)])) == .created)

            var second = Fixtures.instance("i-2", created: 1, businessKey: "order-42")
            second.context = ["other": true]
            let outcome = try await store.createInstance(Transition(instance: second, steps: [Fixtures.step("i-2", 1)]))
            guard case .existing(let existing) = outcome else {
                Issue.record("expected .existing, got \(outcome)")
                return
            }
            expectSame(existing, first)
            #expect(try await store.instance(id: "i-2") == nil)
            #expect(try await store.steps(of: "i-2").isEmpty)
            expectSame(try await store.instance(businessKey: "order-42"), first)
            #expect(try await store.countByStatus() == [.running: 1])
        }
    }

    /// Concurrent creations with one business key (SQLite: likely in one batch): one wins, the
    /// others get the winner back.
    @Test(arguments: StoreKind.underTest)
    func concurrentCreatesWithOneBusinessKeyCreateOneInstance(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.saveDefinition(Fixtures.definition)
            let outcomes = try await withThrowingTaskGroup(of: (InstanceID, CreateOutcome).self) { group in
                for n in 0..<40 {
                    let record = Fixtures.instance("i-\(n)", businessKey: "order-7")
                    group.addTask {
                        (record.id, try await store.createInstance(Transition(instance: record, steps: [Fixtures.step(record.id, 1)])))
                    }
                }
                return try await group.reduce(into: [(InstanceID, CreateOutcome)]()) { $0.append($1) }
            }
            let winners = outcomes.filter { $0.1 == .created }.map(\.0)
            try #require(winners.count == 1)
            let winner = try #require(try await store.instance(businessKey: "order-7"))
            #expect(winner.id == winners[0])
            for (id, outcome) in outcomes where id != winner.id {
                #expect(outcome == .existing(winner))
                #expect(try await store.instance(id: id) == nil)
                #expect(try await store.steps(of: id).isEmpty)
            }
            #expect(try await store.countByStatus() == [.running: 1])
        }
    }

    @Test(arguments: StoreKind.underTest)
    func createNeedsTheDefinitionAndAFreshID(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let record = Fixtures.instance("i-1")
            await #expect(throws: StoreError.definitionNotFound(fingerprint: Fixtures.definition.fingerprint)) {
                _ = try await store.createInstance(Transition(instance: record, steps: [Fixtures.step("i-1", 1)]))
            }
            #expect(try await store.instance(id: "i-1") == nil)
            #expect(try await store.steps(of: "i-1").isEmpty)

            try await store.saveDefinition(Fixtures.definition)
            #expect(try await store.createInstance(Transition(instance: record)) == .created)
            var again = Fixtures.instance("i-1", created: 5)
            again.cursor = "changed"
            await #expect(throws: StoreError.duplicateInstance("i-1")) {
                _ = try await store.createInstance(Transition(instance: again, steps: [Fixtures.step("i-1", 1)]))
            }
            expectSame(try await store.instance(id: "i-1"), record)
            #expect(try await store.steps(of: "i-1").isEmpty)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func createRefusesStepsOfAnotherInstance(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.saveDefinition(Fixtures.definition)
            let transition = Transition(instance: Fixtures.instance("i-1"), steps: [Fixtures.step("i-other", 1)])
            await #expect(throws: StoreError.self) { _ = try await store.createInstance(transition) }
            #expect(try await store.instance(id: "i-1") == nil)
            #expect(try await store.steps(of: "i-other").isEmpty)
        }
    }
}
