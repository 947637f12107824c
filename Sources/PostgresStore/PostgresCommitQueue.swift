import Foundation
import Interpreter
import PostgresNIO

/// Group commit for `createInstance` and `apply`.
///
/// Callers append their encoded transition to `pending`, wake a writer and suspend. Each
/// writer (`run` starts `writers` of them) takes everything pending (up to `maximumBatch`),
/// writes it in one transaction on a pooled connection of its own, and resumes each caller
/// with its own result only after the commit. Callers arriving meanwhile form the next batch,
/// which the next free writer takes: each writer has one transaction in flight, and while one
/// waits for its commit's WAL flush another can send its batch (PostgreSQL flushes the WAL of
/// commits arriving together once). The commit rate, not the transition rate, bounds the
/// writers.
///
/// Two transitions of one instance are never in flight at once: a caller submits its next
/// transition only after the previous one's answer.
///
/// A request rolled back by a deadlock or a serialization failure (another transaction held
/// rows it needed) goes back to the front of the queue and is written in a later batch, after
/// this one's commit has released its locks; after `maximumAttempts` it fails with
/// `StoreError.busy`.
final class PostgresCommitQueue: @unchecked Sendable {
    // @unchecked: `state` is read and written only while holding `lock`.
    private let lock = NSLock()
    private var state = State()
    private let maximumBatch: Int
    private let writers: Int
    private let maximumAttempts = 5
    private let mapError: @Sendable (any Error) -> StoreError

    private struct State {
        var pending: [Waiter] = []
        var closedError: StoreError?
        var statistics = CommitStatistics()
        /// Writers waiting for work.
        var idleWriters: [CheckedContinuation<Void, Never>] = []
    }

    private struct Waiter {
        var request: EncodedTransition
        var continuation: CheckedContinuation<PostgresTransitionBatch.Outcome, any Error>
        var attempts = 0
    }

    /// - Parameters:
    ///   - maximumBatch: at most this many transitions per transaction; more wait for the next.
    ///   - writers: batches written at once, each on its own connection; at least 1.
    ///   - mapError: turns a database error into the `StoreError` a caller sees.
    init(maximumBatch: Int, writers: Int, mapError: @escaping @Sendable (any Error) -> StoreError) {
        self.maximumBatch = max(maximumBatch, 1)
        self.writers = max(writers, 1)
        self.mapError = mapError
    }

    /// Returns once the request's batch has committed (or failed). Not cancellable: a
    /// transition handed to the writer is written, whatever happens to the calling task.
    func submit(_ request: EncodedTransition) async throws -> PostgresTransitionBatch.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if let closedError = state.closedError {
                lock.unlock()
                continuation.resume(throwing: closedError)
                return
            }
            state.pending.append(Waiter(request: request, continuation: continuation))
            let writer = state.idleWriters.popLast()
            lock.unlock()
            writer?.resume()
        }
    }

    /// Refuses new requests; those already accepted are still written, then `run` returns.
    func close(with error: StoreError) {
        lock.lock()
        guard state.closedError == nil else {
            lock.unlock()
            return
        }
        state.closedError = error
        let idle = state.idleWriters
        state.idleWriters = []
        lock.unlock()
        for writer in idle { writer.resume() }
    }

    /// Throws the error given to `close(with:)`, once closed.
    func checkOpen() throws(StoreError) {
        lock.lock()
        defer { lock.unlock() }
        if let closedError = state.closedError { throw closedError }
    }

    var statistics: CommitStatistics {
        lock.lock()
        defer { lock.unlock() }
        return state.statistics
    }

    /// The writers: write batches on connections from `client` until `close(with:)` was called
    /// and every accepted request has been answered.
    func run(client: PostgresClient, logger: Logger) async {
        await withDiscardingTaskGroup { group in
            for _ in 0..<writers {
                group.addTask { await self.write(client: client, logger: logger) }
            }
        }
    }

    /// One writer: one batch at a time.
    private func write(client: PostgresClient, logger: Logger) async {
        while let batch = await nextBatch() {
            let results: [PostgresTransitionBatch.Result]
            do {
                let requests = batch.map(\.request)
                results = try await client.withConnection { connection in
                    await PostgresTransitionBatch.write(requests, on: connection, logger: logger)
                }
            } catch {
                // No connection to write on: every request of the batch fails.
                results = Array(repeating: .failed(error), count: batch.count)
            }
            finish(batch, results)
        }
    }

    /// Everything pending, up to `maximumBatch`, waiting for some when nothing is; nil once
    /// the queue is closed and nothing is pending.
    private func nextBatch() async -> [Waiter]? {
        while true {
            switch takeBatch() {
            case .batch(let batch): return batch
            case .closed: return nil
            case .empty:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    // Checked again under the lock: a request or `close` may have come meanwhile.
                    if !parkUnlessWorkCame(continuation) { continuation.resume() }
                }
            }
        }
    }

    private enum Take {
        case batch([Waiter])
        case empty
        case closed
    }

    private func takeBatch() -> Take {
        lock.lock()
        defer { lock.unlock() }
        guard !state.pending.isEmpty else { return state.closedError == nil ? .empty : .closed }
        let count = min(state.pending.count, maximumBatch)
        let batch = Array(state.pending.prefix(count))
        state.pending.removeFirst(count)
        return .batch(batch)
    }

    /// Keeps `writer` to be resumed by the next request or by `close`, unless one of them came
    /// already (then returns false, and the caller resumes it).
    private func parkUnlessWorkCame(_ writer: CheckedContinuation<Void, Never>) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard state.pending.isEmpty, state.closedError == nil else { return false }
        state.idleWriters.append(writer)
        return true
    }

    private func finish(_ batch: [Waiter], _ results: [PostgresTransitionBatch.Result]) {
        var retries: [Waiter] = []
        var answers: [(Waiter, Swift.Result<PostgresTransitionBatch.Outcome, StoreError>)] = []
        for (waiter, result) in zip(batch, results) {
            switch result {
            case .done(let outcome):
                answers.append((waiter, .success(outcome)))
            case .failed(let error):
                answers.append((waiter, .failure(mapError(error))))
            case .retry(let error):
                var again = waiter
                again.attempts += 1
                if again.attempts < maximumAttempts {
                    retries.append(again)
                } else {
                    answers.append((waiter, .failure(.busy(
                        "\(mapError(error).description) (gave up after \(maximumAttempts) attempts)"))))
                }
            }
        }
        do {
            lock.lock()
            defer { lock.unlock() }
            state.statistics.batches += 1
            state.statistics.transitions += answers.count
            state.statistics.rows += answers.reduce(0) { $0 + $1.0.request.rowCount }
            // First in the queue: they were accepted before anything pending now. This writer
            // looks for work next, so they are taken without a wake-up.
            state.pending.insert(contentsOf: retries, at: 0)
        }
        for (waiter, answer) in answers {
            waiter.continuation.resume(with: answer)
        }
    }
}
