import Foundation
import Interpreter
import StateLang
import Testing

/// `apply`: fencing, fixed fields, step upserts, and many concurrent calls (group commit).
@Suite("Conformance: apply")
struct ConformanceApplyTests {
    @Test(arguments: StoreKind.underTest)
    func applyReplacesMutableFieldsAndUpsertsSteps(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let created = Fixtures.instance("i-1", owner: Fixtures.alice, leaseExpires: 30, businessKey: "bk-1")
            try await store.saveDefinition(Fixtures.definition)
            _ = try await store.createInstance(Transition(instance: created, steps: [Fixtures.step("i-1", 1)]))

            var next = Fixtures.fullInstance("i-1")  // every field differs from `created`
            next.leaseOwner = Fixtures.alice
            var firstDone = Fixtures.step("i-1", 1)
            firstDone.status = .succeeded
            firstDone.output = ["reserved": true]
            firstDone.endedAt = Fixtures.at(1)
            let second = Fixtures.step("i-1", 2, state: "Pay", at: 1)
            try await store.apply(Transition(instance: next, steps: [second, firstDone]))

            // Fields fixed at creation and the lease keep their stored values; all others are
            // the new ones.
            var expected = next
            expected.id = created.id
            expected.definitionFingerprint = created.definitionFingerprint
            expected.workflowName = created.workflowName
            expected.businessKey = created.businessKey
            expected.parentID = created.parentID
            expected.parentStepSeq = created.parentStepSeq
            expected.input = created.input
            expected.createdAt = created.createdAt
            expected.leaseExpiresAt = created.leaseExpiresAt
            #expect(next.leaseExpiresAt != created.leaseExpiresAt)
            expectSame(try await store.instance(id: "i-1"), expected)
            expectSame(try await store.steps(of: "i-1"), [firstDone, second])

            // Optionals set before can be cleared.
            var cleared = expected
            cleared.compensationStatus = nil
            cleared.failure = nil
            cleared.wakeAt = nil
            cleared.endedAt = nil
            try await store.apply(Transition(instance: cleared))
            expectSame(try await store.instance(id: "i-1"), cleared)

            // A transition carrying an older lease expiry does not undo a renewal.
            #expect(try await store.renewLeases(["i-1"], owner: Fixtures.alice, until: Fixtures.at(500)) == ["i-1"])
            var stale = cleared
            stale.cursor = "later"
            try await store.apply(Transition(instance: stale))
            var renewed = stale
            renewed.leaseExpiresAt = Fixtures.at(500)
            expectSame(try await store.instance(id: "i-1"), renewed)
            expectSame(try await store.steps(of: "i-1"), [firstDone, second])
        }
    }

    @Test(arguments: StoreKind.underTest)
    func applyByAnotherOwnerIsFencedAndWritesNothing(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let held = Fixtures.instance("i-held", owner: Fixtures.alice, leaseExpires: 30)
            let free = Fixtures.instance("i-free")
            try await store.saveDefinition(Fixtures.definition)
            _ = try await store.createInstance(Transition(instance: held, steps: [Fixtures.step("i-held", 1)]))
            _ = try await store.createInstance(Transition(instance: free))

            var stolen = held
            stolen.leaseOwner = Fixtures.bob
            stolen.cursor = "bob was here"
            var bobStep = Fixtures.step("i-held", 1, state: "Bob")
            bobStep.status = .succeeded
            await #expect(throws: StoreError.leaseLost(instance: "i-held", holder: Fixtures.alice.description)) {
                try await store.apply(Transition(instance: stolen, steps: [bobStep, Fixtures.step("i-held", 2)]))
            }
            var unowned = held
            unowned.leaseOwner = nil
            unowned.cursor = "nobody"
            await #expect(throws: StoreError.leaseLost(instance: "i-held", holder: Fixtures.alice.description)) {
                try await store.apply(Transition(instance: unowned))
            }
            var claimsFree = free
            claimsFree.leaseOwner = Fixtures.bob
            await #expect(throws: StoreError.leaseLost(instance: "i-free", holder: nil)) {
                try await store.apply(Transition(instance: claimsFree, steps: [Fixtures.step("i-free", 1)]))
            }
            expectSame(try await store.instance(id: "i-held"), held)
            expectSame(try await store.steps(of: "i-held"), [Fixtures.step("i-held", 1)])
            expectSame(try await store.instance(id: "i-free"), free)
            #expect(try await store.steps(of: "i-free").isEmpty)

            await #expect(throws: StoreError.instanceNotFound("i-missing")) {
                try await store.apply(Transition(instance: Fixtures.instance("i-missing")))
            }
            #expect(try await store.instance(id: "i-missing") == nil)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func applyRefusesStepsOfAnotherInstance(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let record = Fixtures.instance("i-1")
            try await store.seed([record, Fixtures.instance("i-2")])
            var next = record
            next.cursor = "moved"
            await #expect(throws: StoreError.self) {
                try await store.apply(Transition(instance: next, steps: [Fixtures.step("i-1", 1), Fixtures.step("i-2", 1)]))
            }
            expectSame(try await store.instance(id: "i-1"), record)
            #expect(try await store.steps(of: "i-1").isEmpty)
            #expect(try await store.steps(of: "i-2").isEmpty)
        }
    }

    /// 500 concurrent `apply` calls (SQLite: group commit), a tenth of them fenced off: each
    /// fails alone and the others are all written, with their steps.
    @Test(arguments: StoreKind.underTest)
    func concurrentAppliesAreAllWrittenAndFencedOneByOne(kind: StoreKind) async throws {
        let count = 500
        let ids = (0..<count).map { String(format: "i-%04d", $0) }
        let records = ids.enumerated().map { n, id in
            Fixtures.instance(id, created: Double(n) * 0.001, owner: Fixtures.alice, leaseExpires: 60)
        }
        let isFenced: @Sendable (Int) -> Bool = { $0 % 10 == 3 }
        try await kind.withStore { store in
            try await store.seed(records)
            let outcomes = try await withThrowingTaskGroup(of: (Int, StoreError?).self) { group in
                for (n, record) in records.enumerated() {
                    group.addTask {
                        var next = record
                        next.cursor = "step-2-of-\(n)"
                        next.context = ["n": .int(n)]
                        next.updatedAt = Fixtures.at(100 + Double(n))
                        if isFenced(n) { next.leaseOwner = Fixtures.bob }
                        let steps = [Fixtures.step(record.id, 1), Fixtures.step(record.id, 2, state: "Pay")]
                        do {
                            try await store.apply(Transition(instance: next, steps: steps))
                            return (n, nil)
                        } catch let error as StoreError {
                            return (n, error)
                        }
                    }
                }
                return try await group.reduce(into: [Int: StoreError?]()) { $0[$1.0] = $1.1 }
            }
            for n in 0..<count {
                let id = ids[n]
                if isFenced(n) {
                    #expect(outcomes[n] == .some(.leaseLost(instance: id, holder: Fixtures.alice.description)))
                    expectSame(try await store.instance(id: id), records[n])
                    #expect(try await store.steps(of: id).isEmpty)
                } else {
                    #expect(outcomes[n] == .some(nil))
                    let stored = try #require(try await store.instance(id: id))
                    #expect(stored.cursor == "step-2-of-\(n)")
                    #expect(stored.context == ["n": .int(n)])
                    #expect(try await store.steps(of: id).map(\.seq) == [1, 2])
                }
            }
        }
    }
}
