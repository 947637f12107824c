import Foundation
import GRDB
import Interpreter

/// Group commit for `createInstance` and `apply`.
///
/// Callers append their encoded transition to `pending` and suspend. The first caller that
/// finds no drain scheduled schedules one on the pool's serial writer queue. A drain takes
/// everything pending (up to `maxBatch`), writes it in one transaction, and resumes each
/// caller with its own result only after the commit. Callers arriving meanwhile schedule the
/// next drain, which runs right after this one: the next batch forms while the current one
/// commits, and the fsync rate, not the transition rate, bounds the writer.
///
/// Drains are ordinary jobs on GRDB's writer queue, so `claim`, `acquire` and the other
/// writes interleave with them in arrival order and no background task is needed.
final class GroupCommitQueue: @unchecked Sendable {
    // @unchecked: `state` is read and written only while holding `lock`.
    private let lock = NSLock()
    private var state = State()
    private let pool: DatabasePool
    private let maxBatch: Int
    private let busyTimeout: TimeInterval
    private let mapError: @Sendable (any Error) -> StoreError

    private struct State {
        var pending: [Waiter] = []
        var drainScheduled = false
        var closedError: StoreError?
        var statistics = SQLiteInstanceStore.CommitStatistics()
        /// The size of the last batch written, to decide how long to gather the next.
        var lastBatch = 0

        /// Counts a written batch (whatever its outcome).
        mutating func record(batchOf requests: [EncodedTransition]) {
            statistics.batches += 1
            statistics.transitions += requests.count
            statistics.rows += requests.reduce(0) { $0 + 1 + $1.stepRows.count }
            lastBatch = requests.count
        }
    }

    private struct Waiter {
        var request: EncodedTransition
        var continuation: CheckedContinuation<TransitionBatch.Outcome, any Error>
    }

    /// - Parameters:
    ///   - maxBatch: at most this many transitions per transaction; more wait for the next.
    ///   - mapError: turns a database error into the `StoreError` a caller sees.
    init(pool: DatabasePool, maxBatch: Int = 2048, busyTimeout: TimeInterval = 5,
         mapError: @escaping @Sendable (any Error) -> StoreError) {
        self.pool = pool
        self.maxBatch = maxBatch
        self.busyTimeout = busyTimeout
        self.mapError = mapError
    }

    /// Returns once the request's batch has committed (or failed). Not cancellable: a
    /// transition handed to the writer is written, whatever happens to the calling task.
    func submit(_ request: EncodedTransition) async throws -> TransitionBatch.Outcome {
        if request.company == .alone, let outcome = try writeInlineIfIdle(request) { return outcome }
        return try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            defer { lock.unlock() }
            if let closedError = state.closedError {
                continuation.resume(throwing: closedError)
                return
            }
            state.pending.append(Waiter(request: request, continuation: continuation))
            if !state.drainScheduled {
                state.drainScheduled = true
                // Scheduled under the lock so that `close()` finds it queued before its own job.
                pool.asyncWriteWithoutTransaction { db in self.drain(db) }
            }
        }
    }

    /// Whether a caller alone in its process (`CommitCompany.alone`) writes its transition
    /// itself: when nothing is pending or being drained. A drain's two thread hops (to the
    /// writer queue, and the caller's resumption) cost about half as much again as the commit
    /// itself at concurrency 1. Only on the caller's word: the queue cannot tell a lone caller
    /// from many callers that happen to arrive one by one (a blocked thread would then keep
    /// every batch at one). Marks a drain as scheduled, so that callers arriving meanwhile
    /// queue behind this write.
    private func takeInlineTurn() throws(StoreError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let closedError = state.closedError { throw closedError }
        guard !state.drainScheduled, state.pending.isEmpty else { return false }
        state.drainScheduled = true
        return true
    }

    /// Writes one transition on the calling thread when `takeInlineTurn` allows (else nil):
    /// GRDB runs a synchronous write on the caller's thread when its writer queue is idle.
    /// Blocks that thread for one commit, which is what the caller would have waited for
    /// anyway. Out of line: inlined, its values would enlarge `submit`'s async frame, which
    /// stays allocated for as long as the caller's task lives.
    @inline(never)
    private func writeInlineIfIdle(_ request: EncodedTransition) throws -> TransitionBatch.Outcome? {
        guard try takeInlineTurn() else { return nil }
        let result = pool.writeWithoutTransaction { db in TransitionBatch.write([request], to: db, lockRaceTimeout: busyTimeout) }[0]
        lock.lock()
        defer { lock.unlock() }
        state.record(batchOf: [request])
        state.drainScheduled = false
        if !state.pending.isEmpty {
            // Others arrived during the write: they get a drain, as they expected.
            state.drainScheduled = true
            pool.asyncWriteWithoutTransaction { db in self.drain(db) }
        }
        return try result.mapError(mapError).get()
    }

    /// Refuses new requests; those already accepted are still written (their drains are
    /// queued on the writer before the pool closes).
    func close(with error: StoreError) {
        lock.lock()
        defer { lock.unlock() }
        state.closedError = error
    }

    /// Throws the error given to `close(with:)`, once closed.
    func checkOpen() throws(StoreError) {
        lock.lock()
        defer { lock.unlock() }
        if let closedError = state.closedError { throw closedError }
    }

    var statistics: SQLiteInstanceStore.CommitStatistics {
        lock.lock()
        defer { lock.unlock() }
        return state.statistics
    }

    /// Whether accepted requests still wait for a drain.
    var hasPending: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !state.pending.isEmpty
    }

    /// Callers resumed by the last commit resubmit within a fraction of a millisecond; waiting
    /// that long (at most `gatherLimit`) until about half of the last batch is back lets them
    /// share one transaction, instead of alternating big and small batches. A lone caller
    /// (concurrency 1) never waits.
    private func gather() {
        lock.lock()
        let target = state.lastBatch / 2
        lock.unlock()
        guard target > 1 else { return }
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.gatherLimitNanoseconds
        while DispatchTime.now().uptimeNanoseconds < deadline {
            lock.lock()
            let count = state.pending.count
            lock.unlock()
            if count >= target { return }
            usleep(50)
        }
    }

    static let gatherLimitNanoseconds: UInt64 = 1_000_000

    private func drain(_ db: Database) {
        gather()
        let batch: [Waiter]
        do {
            lock.lock()
            defer { lock.unlock() }
            if state.pending.count <= maxBatch {
                batch = state.pending
                state.pending = []
                state.drainScheduled = false
            } else {
                batch = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(maxBatch)
                pool.asyncWriteWithoutTransaction { db in self.drain(db) }
            }
        }
        let requests = batch.map(\.request)
        let results = TransitionBatch.write(requests, to: db, lockRaceTimeout: busyTimeout)
        do {
            lock.lock()
            defer { lock.unlock() }
            state.record(batchOf: requests)
        }
        for (waiter, result) in zip(batch, results) {
            waiter.continuation.resume(with: result.mapError(mapError))
        }
    }
}
