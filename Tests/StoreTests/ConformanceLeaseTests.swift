import Foundation
import Interpreter
import StateLang
import Testing

/// `claim`, `acquire`, `renewLeases`, `leaseHolders`, `nextWakeAt`.
@Suite("Conformance: leases")
struct ConformanceLeaseTests {
    /// One instance per case `claim` must tell apart; `now` is `t0 + 10`.
    static let cases: [(record: InstanceRecord, claimable: Bool)] = [
        (Fixtures.instance("a-unowned", created: 1), true),
        (Fixtures.instance("b-expired", created: 2, owner: Fixtures.bob, leaseExpires: 9.999), true),
        (Fixtures.instance("c-dead-owner", created: 3, owner: Fixtures.carol, leaseExpires: 60), true),
        (Fixtures.instance("d-compensating", created: 4, status: .compensating), true),
        (Fixtures.instance("e-wake-due", created: 5, wake: 10), true),
        (Fixtures.instance("f-wake-past", created: 6, owner: Fixtures.bob, leaseExpires: 1, wake: 2), true),
        (Fixtures.instance("g-live", created: 7, owner: Fixtures.bob, leaseExpires: 10.5), false),
        (Fixtures.instance("h-no-expiry", created: 8, owner: Fixtures.bob), false),
        (Fixtures.instance("i-wake-later", created: 9, wake: 10.001), false),
        (Fixtures.instance("j-succeeded", created: 10, status: .succeeded), false),
        (Fixtures.instance("k-failed", created: 11, status: .failed), false),
        (Fixtures.instance("l-compensated", created: 12, status: .compensated), false),
        (Fixtures.instance("m-unknown", created: 13, status: .unknown), false),
        (Fixtures.instance("n-needs-intervention", created: 14, status: .needsIntervention), false),
        (Fixtures.instance("o-expired-terminal", created: 15, status: .failed, owner: Fixtures.bob, leaseExpires: 1), false),
    ]
    static let now = Fixtures.at(10)

    @Test(arguments: StoreKind.underTest)
    func claimTakesOnlyFreeLiveDueInstancesOldestFirst(kind: StoreKind) async throws {
        try await kind.withStore { store in
            // Created newest first, so that a store returning insertion order fails.
            try await store.seed(Self.cases.map(\.record).reversed())
            let claimable = Self.cases.filter(\.claimable).map(\.record)

            let first = try await store.claim(
                owner: Fixtures.alice, now: Self.now, leaseUntil: Fixtures.at(40), deadOwners: [Fixtures.carol], limit: 4)
            let rest = try await store.claim(
                owner: Fixtures.alice, now: Self.now, leaseUntil: Fixtures.at(40), deadOwners: [Fixtures.carol], limit: 100)
            let none = try await store.claim(
                owner: Fixtures.alice, now: Self.now, leaseUntil: Fixtures.at(40), deadOwners: [Fixtures.carol], limit: 100)

            let expected = claimable.map { record in
                var claimed = record
                claimed.leaseOwner = Fixtures.alice
                claimed.leaseExpiresAt = Fixtures.at(40)
                return claimed
            }
            expectSame(first, Array(expected.prefix(4)))
            expectSame(rest, Array(expected.dropFirst(4)))
            #expect(none.isEmpty)
            for record in expected {
                expectSame(try await store.instance(id: record.id), record)
            }
            for record in Self.cases.filter({ !$0.claimable }).map(\.record) {
                expectSame(try await store.instance(id: record.id), record)
            }
            #expect(try await store.claim(
                owner: Fixtures.bob, now: Fixtures.at(1000), leaseUntil: Fixtures.at(2000), deadOwners: [], limit: 0
            ).isEmpty)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func concurrentClaimersNeverShareAnInstance(kind: StoreKind) async throws {
        let records = (0..<300).map { Fixtures.instance(String(format: "i-%04d", $0), created: Double($0)) }
        try await kind.withStore { store in
            try await store.seed(records)
            let claims = try await claimConcurrently(stores: [store], tasksPerStore: 8)
            #expect(claims.count == records.count)  // no instance claimed twice
            #expect(Set(claims.keys) == Set(records.map(\.id)))
            for (id, owner) in claims {
                #expect(try await store.instance(id: id)?.leaseOwner == owner)
            }
        }
    }

    @Test(arguments: StoreKind.underTest)
    func finishingReleasesTheLeaseAndRunningKeepsIt(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let running = Fixtures.instance("running", owner: Fixtures.bob, leaseExpires: 50)
            let finishing = Fixtures.instance("finishing", owner: Fixtures.bob, leaseExpires: 50)
            try await store.seed([running, finishing])
            var stillRunning = running
            stillRunning.updatedAt = Fixtures.at(9)
            try await store.apply(Transition(instance: stillRunning))
            var done = finishing
            done.status = .succeeded
            done.forwardStatus = .succeeded
            done.updatedAt = Fixtures.at(9)
            done.endedAt = Fixtures.at(9)
            try await store.apply(Transition(instance: done))
            #expect(try await store.instance(id: "running")?.leaseExpiresAt == Fixtures.at(50))
            #expect(try await store.instance(id: "finishing")?.leaseExpiresAt == Fixtures.at(9))
            // Another executor may now act on the finished instance at once, not on the running one.
            #expect(try await store.acquire("finishing", owner: Fixtures.alice, now: Self.now,
                                            leaseUntil: Fixtures.at(70), deadOwners: []) != nil)
            #expect(try await store.acquire("running", owner: Fixtures.alice, now: Self.now,
                                            leaseUntil: Fixtures.at(70), deadOwners: []) == nil)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func acquireTakesAnInstanceNoOtherLiveOwnerHolds(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let records = [
                Fixtures.instance("free"),
                Fixtures.instance("mine", owner: Fixtures.alice, leaseExpires: 50),
                Fixtures.instance("expired", owner: Fixtures.bob, leaseExpires: 5),
                Fixtures.instance("dead", owner: Fixtures.carol, leaseExpires: 50),
                Fixtures.instance("terminal", status: .unknown),
                Fixtures.instance("waiting", wake: 500),
                Fixtures.instance("live", owner: Fixtures.bob, leaseExpires: 50),
                Fixtures.instance("forever", owner: Fixtures.bob),
            ]
            try await store.seed(records)
            for record in records.prefix(6) {
                let acquired = try await store.acquire(
                    record.id, owner: Fixtures.alice, now: Self.now, leaseUntil: Fixtures.at(70), deadOwners: [Fixtures.carol])
                var expected = record
                expected.leaseOwner = Fixtures.alice
                expected.leaseExpiresAt = Fixtures.at(70)
                expectSame(acquired, expected)
                expectSame(try await store.instance(id: record.id), expected)
            }
            for record in records.suffix(2) {
                #expect(try await store.acquire(
                    record.id, owner: Fixtures.alice, now: Self.now, leaseUntil: Fixtures.at(70), deadOwners: [Fixtures.carol]
                ) == nil)
                expectSame(try await store.instance(id: record.id), record)
            }
            await #expect(throws: StoreError.instanceNotFound("nope")) {
                _ = try await store.acquire(
                    "nope", owner: Fixtures.alice, now: Self.now, leaseUntil: Fixtures.at(70), deadOwners: [])
            }
        }
    }

    @Test(arguments: StoreKind.underTest)
    func renewLeasesExtendsOnlyTheOwnersLeases(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let records = [
                Fixtures.instance("a1", owner: Fixtures.alice, leaseExpires: 20),
                Fixtures.instance("a2", owner: Fixtures.alice, leaseExpires: 5),
                Fixtures.instance("a3", owner: Fixtures.alice, leaseExpires: 20),
                Fixtures.instance("b1", owner: Fixtures.bob, leaseExpires: 20),
                Fixtures.instance("free"),
            ]
            try await store.seed(records)
            let renewed = try await store.renewLeases(
                ["a1", "a2", "b1", "free", "missing"], owner: Fixtures.alice, until: Fixtures.at(90))
            #expect(renewed == ["a1", "a2"])
            for record in records {
                var expected = record
                if renewed.contains(record.id) { expected.leaseExpiresAt = Fixtures.at(90) }
                expectSame(try await store.instance(id: record.id), expected)
            }
            #expect(try await store.renewLeases([], owner: Fixtures.alice, until: Fixtures.at(90)).isEmpty)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func leaseHoldersAreOwnersOfLiveInstances(kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.leaseHolders().isEmpty)
            try await store.seed([
                Fixtures.instance("a1", owner: Fixtures.alice, leaseExpires: 20),
                Fixtures.instance("a2", status: .compensating, owner: Fixtures.alice, leaseExpires: 1),
                Fixtures.instance("b1", status: .succeeded, owner: Fixtures.bob, leaseExpires: 20),
                Fixtures.instance("c1", status: .compensating, owner: Fixtures.carol),
                Fixtures.instance("free"),
            ])
            #expect(try await store.leaseHolders() == [Fixtures.alice, Fixtures.carol])
        }
    }

    @Test(arguments: StoreKind.underTest)
    func nextWakeAtIsTheEarliestAmongUnownedLiveInstances(kind: StoreKind) async throws {
        try await kind.withStore { store in
            #expect(try await store.nextWakeAt() == nil)
            try await store.seed([
                Fixtures.instance("no-wake"),
                Fixtures.instance("owned", owner: Fixtures.alice, leaseExpires: 1, wake: 1),
                Fixtures.instance("terminal", status: .failed, wake: 2),
            ])
            #expect(try await store.nextWakeAt() == nil)
            try await store.seed([
                Fixtures.instance("later", wake: 30.25),
                Fixtures.instance("sooner", status: .compensating, wake: 20.125),
            ])
            let next = try #require(try await store.nextWakeAt())
            #expect(abs(next.timeIntervalSince(Fixtures.at(20.125))) < datePrecision)
        }
    }
}

/// Several tasks per store claim (limit 7) until nothing is left; returns who got each
/// instance. An instance claimed twice makes the result smaller than the number of claims,
/// and is recorded as an issue.
func claimConcurrently(stores: [any InstanceStore], tasksPerStore: Int) async throws -> [InstanceID: LeaseOwner] {
    let grants = try await withThrowingTaskGroup(of: [(InstanceID, LeaseOwner)].self) { group in
        for (s, store) in stores.enumerated() {
            for t in 0..<tasksPerStore {
                let owner = LeaseOwner(host: "claimer", pid: Int32(s * 100 + t), nonce: "x")
                group.addTask {
                    var mine: [(InstanceID, LeaseOwner)] = []
                    while true {
                        let batch = try await store.claim(
                            owner: owner, now: Fixtures.at(10), leaseUntil: Fixtures.at(600), deadOwners: [], limit: 7)
                        if batch.isEmpty { return mine }
                        #expect(batch.count <= 7)
                        mine += batch.map { ($0.id, owner) }
                        await Task.yield()
                    }
                }
            }
        }
        return try await group.reduce(into: [(InstanceID, LeaseOwner)]()) { $0 += $1 }
    }
    var byID: [InstanceID: LeaseOwner] = [:]
    for (id, owner) in grants {
        if let earlier = byID[id] {
            Issue.record("\(id) was claimed by both \(earlier) and \(owner)")
        }
        byID[id] = owner
    }
    return byID
}
