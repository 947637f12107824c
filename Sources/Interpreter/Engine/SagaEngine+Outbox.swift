import Foundation
import StateLang

extension SagaEngine {
    /// Seconds before the second delivery attempt of an outbox message; doubles each time.
    static let outboxBackoff: TimeInterval = 1

    /// Delivers the outbox messages due now, at most `limit`, `concurrency` at a time: claims
    /// them (so no other dispatcher sends them meanwhile), calls each with its step's
    /// idempotency key, and records delivered / retry later / failed. Returns the messages as
    /// recorded.
    @discardableResult
    public func deliverDueOutbox(limit: Int = 256, concurrency: Int = 16) async throws -> [OutboxMessage] {
        let now = clock.now()
        // A dispatcher that died holding messages may hold no instance: look at both.
        let outboxHolders = try await store.listOutbox(status: .pending, limit: 10_000).compactMap(\.leaseOwner)
        let dead = try await deadOwners().union(Set(outboxHolders).filter(isDead))
        let claimed = try await store.claimOutbox(
            owner: owner, now: now, leaseUntil: now.addingTimeInterval(leaseDuration), deadOwners: dead, limit: limit)
        guard !claimed.isEmpty else { return [] }
        return try await withThrowingTaskGroup(of: OutboxMessage?.self) { group in
            var results: [OutboxMessage] = []
            var pending = claimed.makeIterator()
            var running = 0
            while running < max(concurrency, 1), let message = pending.next() {
                group.addTask { try await self.deliver(message) }
                running += 1
            }
            while let result = try await group.next() {
                if let result { results.append(result) }
                if let message = pending.next() { group.addTask { try await self.deliver(message) } }
            }
            return results
        }
    }

    /// One delivery attempt; nil when another dispatcher took the message over meanwhile.
    func deliver(_ claimed: OutboxMessage) async throws -> OutboxMessage? {
        var message = claimed
        let outcome: ActionOutcome
        do {
            let workflow = try await workflow(fingerprint: message.definitionFingerprint)
            outcome = await invoke(message.invocation, services: workflow.services)
        } catch {
            outcome = .failure(ActionFailure(ErrorName("ActionError.DefinitionUnavailable"), "\(error)"))
        }
        let now = clock.now()
        message.attempts += 1
        switch outcome {
        case .success:
            message.status = .delivered
            message.deliveredAt = now
            message.lastError = nil
        case .failure(let failure):
            message.lastError = FailureRecord(name: failure.name.rawValue, message: failure.message, state: message.stateName)
            if message.attempts >= message.maxAttempts {
                message.status = .failed
            } else {
                message.nextAttemptAt = now.addingTimeInterval(Self.outboxBackoff * pow(2, Double(message.attempts - 1)))
            }
        }
        guard try await store.finishOutbox(message, owner: owner) else { return nil }
        emit(.outbox(message))
        return message
    }

    /// For `run`: keeps delivering until `instance` has no pending message, waiting for
    /// backoffs, at most `timeout` seconds. Returns the instance's messages as they stand.
    public func flushOutbox(of instance: InstanceID, timeout: TimeInterval = 15) async throws -> [OutboxMessage] {
        let deadline = clock.now().addingTimeInterval(timeout)
        while true {
            try await deliverDueOutbox()
            let mine = try await store.listOutbox(status: nil, limit: 10_000).filter { $0.instanceID == instance }
            let pending = mine.filter { $0.status == .pending }
            guard let nextDue = pending.map(\.nextAttemptAt).min(), clock.now() < deadline else { return mine }
            try await clock.sleep(until: min(max(nextDue, clock.now().addingTimeInterval(0.01)), deadline))
        }
    }

    /// The dispatcher loop of `worker`: delivers due messages every `pollInterval` until
    /// `shouldStop` says so.
    func runOutboxDispatcher(pollInterval: TimeInterval, shouldStop: @escaping @Sendable () -> Bool) async throws {
        while !shouldStop() && !Task.isCancelled {
            let delivered = try await deliverDueOutbox()
            if delivered.isEmpty { try await Task.sleep(nanoseconds: UInt64(pollInterval * 1_000_000_000)) }
        }
    }
}
