import Foundation
import Interpreter
import StateLang
import Testing

/// The transactional outbox: written with a checkpoint, claimed by one dispatcher at a time,
/// finished, listed, retried.
@Suite("Conformance: outbox")
struct ConformanceOutboxTests {
    static func message(_ id: String, instance: InstanceID = "i-1", due: TimeInterval = 0, created: TimeInterval = 0) -> OutboxMessage {
        OutboxMessage(id: id, instanceID: instance, stepSeq: 1, definitionFingerprint: Fixtures.definition.fingerprint,
                      stateName: "Notify", serviceName: "mail", serviceMethod: "send", input: ["to": "ann"],
                      nextAttemptAt: Fixtures.at(due), createdAt: Fixtures.at(created))
    }

    @Test(arguments: StoreKind.underTest)
    func messagesAreWrittenWithTheCheckpointAndOnlyOnce(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let record = Fixtures.instance("i-1", owner: Fixtures.alice, leaseExpires: 50)
            try await store.saveDefinition(Fixtures.definition)
            #expect(try await store.createInstance(Transition(instance: record, outbox: [Self.message("i-1:1")])) == .created)
            var replay = Self.message("i-1:1")
            replay.input = ["to": "someone else"]
            try await store.apply(Transition(instance: record, outbox: [replay, Self.message("i-1:2", created: 1)]))
            let all = try await store.listOutbox(status: nil, limit: 10)
            #expect(all.map(\.id) == ["i-1:2", "i-1:1"])
            #expect(all.last?.input == ["to": "ann"])
            #expect(all.allSatisfy { $0.status == .pending && $0.attempts == 0 })
            // A transition refused by the lease fence writes no message either.
            var stale = record
            stale.leaseOwner = Fixtures.bob
            await #expect(throws: StoreError.self) {
                try await store.apply(Transition(instance: stale, outbox: [Self.message("i-1:3")]))
            }
            #expect(try await store.listOutbox(status: nil, limit: 10).count == 2)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func claimTakesDueUnheldMessagesOnce(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let record = Fixtures.instance("i-1", owner: Fixtures.alice, leaseExpires: 50)
            try await store.saveDefinition(Fixtures.definition)
            _ = try await store.createInstance(Transition(instance: record, outbox: [
                Self.message("due-1", due: 1), Self.message("due-2", due: 2), Self.message("later", due: 100),
            ]))
            let first = try await store.claimOutbox(owner: Fixtures.alice, now: Fixtures.at(10), leaseUntil: Fixtures.at(40),
                                                    deadOwners: [], limit: 1)
            #expect(first.map(\.id) == ["due-1"])
            #expect(first.first?.leaseOwner == Fixtures.alice)
            let second = try await store.claimOutbox(owner: Fixtures.bob, now: Fixtures.at(10), leaseUntil: Fixtures.at(40),
                                                     deadOwners: [], limit: 10)
            #expect(second.map(\.id) == ["due-2"])
            // Held by a dead owner: free again. Held by a live one until its lease runs out.
            let takeover = try await store.claimOutbox(owner: Fixtures.carol, now: Fixtures.at(11), leaseUntil: Fixtures.at(40),
                                                       deadOwners: [Fixtures.alice], limit: 10)
            #expect(takeover.map(\.id) == ["due-1"])
            let expired = try await store.claimOutbox(owner: Fixtures.carol, now: Fixtures.at(41), leaseUntil: Fixtures.at(70),
                                                      deadOwners: [], limit: 10)
            #expect(expired.map(\.id).sorted() == ["due-1", "due-2"])
        }
    }

    @Test(arguments: StoreKind.underTest)
    func finishRecordsTheAttemptOnlyForTheHolder(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.saveDefinition(Fixtures.definition)
            _ = try await store.createInstance(Transition(instance: Fixtures.instance("i-1"), outbox: [Self.message("m")]))
            var claimed = try #require(try await store.claimOutbox(
                owner: Fixtures.alice, now: Fixtures.at(1), leaseUntil: Fixtures.at(30), deadOwners: [], limit: 1).first)
            claimed.attempts = 1
            claimed.nextAttemptAt = Fixtures.at(5)
            claimed.lastError = FailureRecord(name: "HTTP.5xx", message: "503", state: "Notify")
            #expect(try await store.finishOutbox(claimed, owner: Fixtures.bob) == false)
            #expect(try await store.finishOutbox(claimed, owner: Fixtures.alice) == true)
            let stored = try #require(try await store.listOutbox(status: .pending, limit: 1).first)
            #expect(stored.attempts == 1)
            #expect(stored.lastError?.name == "HTTP.5xx")
            #expect(stored.leaseOwner == nil)
            #expect(stored.nextAttemptAt == Fixtures.at(5))
            // Not due before its next attempt.
            #expect(try await store.claimOutbox(owner: Fixtures.alice, now: Fixtures.at(4), leaseUntil: Fixtures.at(30),
                                                deadOwners: [], limit: 5).isEmpty)
            var last = try #require(try await store.claimOutbox(
                owner: Fixtures.alice, now: Fixtures.at(6), leaseUntil: Fixtures.at(30), deadOwners: [], limit: 1).first)
            last.attempts = 3
            last.status = .failed
            #expect(try await store.finishOutbox(last, owner: Fixtures.alice))
            #expect(try await store.listOutbox(status: .failed, limit: 5).map(\.id) == ["m"])
            #expect(try await store.claimOutbox(owner: Fixtures.alice, now: Fixtures.at(100), leaseUntil: Fixtures.at(130),
                                                deadOwners: [], limit: 5).isEmpty)
        }
    }

    @Test(arguments: StoreKind.underTest)
    func retryPutsAFailedMessageBack(kind: StoreKind) async throws {
        try await kind.withStore { store in
            try await store.saveDefinition(Fixtures.definition)
            _ = try await store.createInstance(Transition(instance: Fixtures.instance("i-1"), outbox: [Self.message("m")]))
            await #expect(throws: StoreError.self) { _ = try await store.retryOutbox(id: "m", now: Fixtures.at(1)) }
            var claimed = try #require(try await store.claimOutbox(
                owner: Fixtures.alice, now: Fixtures.at(1), leaseUntil: Fixtures.at(30), deadOwners: [], limit: 1).first)
            claimed.status = .failed
            claimed.attempts = 3
            claimed.lastError = FailureRecord(name: "Timeout", message: "slow")
            _ = try await store.finishOutbox(claimed, owner: Fixtures.alice)
            let retried = try #require(try await store.retryOutbox(id: "m", now: Fixtures.at(50)))
            #expect(retried.status == .pending)
            #expect(retried.attempts == 0)
            #expect(retried.nextAttemptAt == Fixtures.at(50))
            #expect(retried.lastError == nil)
            #expect(try await store.retryOutbox(id: "nope", now: Fixtures.at(50)) == nil)
        }
    }
}
