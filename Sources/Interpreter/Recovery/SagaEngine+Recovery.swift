import Foundation
import StateLang

/// What `recover` did.
public struct RecoveryReport: Sendable {
    /// Abandoned instances taken over and driven to their end.
    public var resumed: [InstanceRecord] = []
    /// Instances that had ended `unknown`, handled by their RecoverStrategy.
    public var resolved: [InstanceRecord] = []
    /// Instances that could not be handled, with the reason.
    public var errors: [(InstanceID, String)] = []

    public init() {}
}

extension SagaEngine {
    /// Finishes every instance whose executor died (an expired lease, or an owner process on
    /// this host that no longer exists), then applies the `RecoverStrategy` of every top-level
    /// instance that ended `unknown` (Compensate: roll back; Forward: retry forward).
    /// Runs up to `concurrency` instances at once.
    public func recover(concurrency: Int = 64, includeUnknown: Bool = true,
                        maxWait: TimeInterval = 300) async throws -> RecoveryReport {
        return try await withLeaseRenewal { [self] in
            var report = RecoveryReport()
            let deadline = clock.now().addingTimeInterval(maxWait)
            while true {
                let (results, claimedAny) = try await driveAbandoned(concurrency: concurrency)
                for (id, result) in results {
                    switch result {
                    case .success(let record): report.resumed.append(record)
                    case .failure(let error): report.errors.append((id, "\(error)"))
                    }
                }
                if claimedAny { continue }
                // Abandoned instances in a retry backoff are claimable only once due: wait.
                guard let due = try await nextAbandonedWake(), due < deadline else { break }
                try await clock.sleep(until: max(due, clock.now().addingTimeInterval(0.01)))
            }
            // Messages whose dispatcher died, and those in backoff: deliver until none is pending.
            while true {
                try await deliverDueOutbox()
                let pending = try await store.listOutbox(status: .pending, limit: 10_000)
                guard let due = pending.map(\.nextAttemptAt).min(), clock.now() < deadline else { break }
                try await clock.sleep(until: min(max(due, clock.now().addingTimeInterval(0.01)), deadline))
            }
            if includeUnknown {
                let unknown = try await store.listInstances(InstanceQuery(status: .unknown, topLevelOnly: true, limit: 100_000))
                let results = await runAll(unknown, concurrency: concurrency) { record in
                    let workflow = try await self.workflow(fingerprint: record.definitionFingerprint)
                    let event: MachineEvent = workflow.recoverStrategy == .forward ? .forward : .compensate
                    return try await self.command(record.id, event)
                }
                for (id, result) in results {
                    switch result {
                    case .success(let record): report.resolved.append(record)
                    case .failure(let error): report.errors.append((id, "\(error)"))
                    }
                }
            }
            return report
        }
    }

    /// Claims abandoned instances and drives them, `concurrency` at a time, claiming more as
    /// soon as half the slots are free (not after the whole claimed batch is done: the commit
    /// batches stay full), until a claim returns nothing. Returns each driven instance's
    /// result, and whether anything was claimed.
    func driveAbandoned(concurrency: Int) async throws
        -> (results: [(InstanceID, Result<InstanceRecord, any Error>)], claimedAny: Bool)
    {
        let slots = max(concurrency, 1)
        return try await withThrowingTaskGroup(of: (InstanceID, Result<InstanceRecord, any Error>).self) { group in
            var results: [(InstanceID, Result<InstanceRecord, any Error>)] = []
            var running = 0
            var claimedAny = false
            var exhausted = false
            while true {
                if !exhausted, running <= slots / 2 {
                    let now = clock.now()
                    let claimed = try await store.claim(
                        owner: owner, now: now, leaseUntil: now.addingTimeInterval(leaseDuration),
                        deadOwners: try await deadOwners(), limit: slots - running)
                    exhausted = claimed.isEmpty
                    claimedAny = claimedAny || !claimed.isEmpty
                    // Children are driven by their parents, which take them over when they
                    // resume; and an instance this engine already drives (its renewal lagged)
                    // stays with the task driving it.
                    for record in claimed where record.parentID == nil && !isDriving(record.id) {
                        running += 1
                        group.addTask {
                            (record.id, await Self.capture { try await self.continueInstance(record, .resume) })
                        }
                    }
                    if running == 0, !exhausted { continue }  // only children: claim again
                }
                guard running > 0, let result = try await group.next() else { break }
                running -= 1
                results.append(result)
            }
            return (results, claimedAny)
        }
    }

    /// The earliest wake time of a top-level live instance nobody alive holds (no owner, an
    /// expired lease, or a dead owner on this host); nil when there is none.
    func nextAbandonedWake() async throws -> Date? {
        let dead = try await deadOwners()
        let now = clock.now()
        var earliest: Date?
        for status in [InstanceStatus.running, .compensating] {
            for record in try await store.listInstances(InstanceQuery(status: status, topLevelOnly: true, limit: 100_000)) {
                let free = record.leaseOwner == nil || record.leaseOwner.map(dead.contains) == true
                    || (record.leaseExpiresAt.map { $0 < now } ?? false)
                guard free else { continue }
                let due = record.wakeAt ?? now
                earliest = min(earliest ?? due, due)
            }
        }
        return earliest
    }

    /// Runs `body` over `records` with at most `concurrency` at a time.
    func runAll(_ records: [InstanceRecord], concurrency: Int,
                _ body: @escaping @Sendable (InstanceRecord) async throws -> InstanceRecord) async
        -> [(InstanceID, Result<InstanceRecord, any Error>)]
    {
        await withTaskGroup(of: (InstanceID, Result<InstanceRecord, any Error>).self) { group in
            var results: [(InstanceID, Result<InstanceRecord, any Error>)] = []
            var iterator = records.makeIterator()
            var running = 0
            while running < max(concurrency, 1), let record = iterator.next() {
                group.addTask { (record.id, await Self.capture { try await body(record) }) }
                running += 1
            }
            while let result = await group.next() {
                results.append(result)
                if let record = iterator.next() {
                    group.addTask { (record.id, await Self.capture { try await body(record) }) }
                }
            }
            return results
        }
    }

    static func capture(_ body: () async throws -> InstanceRecord) async -> Result<InstanceRecord, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// Runs instances created by `start` and takes over abandoned ones (expired leases, dead
    /// owners) until `shouldStop` returns true; then lets the running instances finish. With
    /// `untilIdle`, also returns once nothing is running or runnable. Returns the number of
    /// instances driven to their end.
    public func work(concurrency: Int = 64, pollInterval: TimeInterval = 0.2, untilIdle: Bool = false,
                     shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> Int {
        let completed = Locked(0)
        let running = Locked(0)
        let slotFreed = SlotSignal()
        _ = try await withLeaseRenewal { [self] in
            try await withThrowingDiscardingTaskGroup { group in
                let dispatcherStop = Locked(false)
                group.addTask {
                    try await self.runOutboxDispatcher(pollInterval: pollInterval) {
                        shouldStop() || dispatcherStop.withLock { $0 }
                    }
                }
                defer { dispatcherStop.withLock { $0 = true } }
                while !shouldStop() {
                    let free = concurrency - running.withLock { $0 }
                    guard free > 0 else {
                        // Every slot is taken: claim again as soon as one frees, not after a
                        // poll interval. (`shouldStop` is checked then; stopping waits for the
                        // running instances anyway.) Cancelled, it ends as the poll's sleep did.
                        await slotFreed.wait()
                        try Task.checkCancellation()
                        continue
                    }
                    var started = 0
                    let now = clock.now()
                    let claimed = try await store.claim(
                        owner: owner, now: now, leaseUntil: now.addingTimeInterval(leaseDuration),
                        deadOwners: try await deadOwners(), limit: free)
                    // Not one this process already drives: its own lease may have expired
                    // while renewal lagged, and the same owner would pass the fence.
                    for record in claimed where record.parentID == nil && !isDriving(record.id) {
                        started += 1
                        running.withLock { $0 += 1 }
                        group.addTask {
                            defer {
                                running.withLock { $0 -= 1 }
                                completed.withLock { $0 += 1 }
                                slotFreed.signal()
                            }
                            do { _ = try await self.continueInstance(record, .resume) } catch {
                                self.emit(.failedToRun(record.id, reason: "\(error)"))
                            }
                        }
                    }
                    if started == 0 {
                        if untilIdle, running.withLock({ $0 }) == 0, try await store.nextWakeAt() == nil,
                            try await store.listOutbox(status: .pending, limit: 1).isEmpty
                        {
                            break
                        }
                        try await Task.sleep(nanoseconds: UInt64(pollInterval * 1_000_000_000))
                    }
                }
            }
            return 0
        }
        return completed.withLock { $0 }
    }
}
