import Foundation
import Interpreter
import PostgresNIO

/// Group commit for `createInstance` and `apply`.
///
/// Callers append their encoded transition to `pending`, wake the writer and suspend. The
/// writer (`run`, one loop per store) takes everything pending (up to `maximumBatch`), writes
/// it in one transaction on one pooled connection, and resumes each caller with its own result
/// only after the commit. Callers arriving meanwhile form the next batch, which is written
/// right after: the commit rate (one WAL flush each), not the transition rate, bounds the
/// writer.
///
/// A request rolled back by a deadlock or a serialization failure (another process's
/// transaction held rows it needed) goes back to the front of the queue and is written in the
/// next batch, after this one's commit has released its locks; after `maximumAttempts` it
/// fails with `StoreError.busy`.
final class PostgresCommitQueue: @unchecked Sendable {
    // @unchecked: `state` is read and written only while holding `lock`.
    private let lock = NSLock()
    private var state = State()
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let maximumBatch: Int
    private let maximumAttempts = 5
    private let mapError: @Sendable (any Error) -> StoreError

    private struct State {
        var pending: [Waiter] = []
        var closedError: StoreError?
        var statistics = CommitStatistics()
    }

    private struct Waiter {
        var request: EncodedTransition
        var continuation: CheckedContinuation<PostgresTransitionBatch.Outcome, any Error>
        var attempts = 0
    }

    /// - Parameters:
    ///   - maximumBatch: at most this many transitions per transaction; more wait for the next.
    ///   - mapError: turns a database error into the `StoreError` a caller sees.
    init(maximumBatch: Int, mapError: @escaping @Sendable (any Error) -> StoreError) {
        self.maximumBatch = max(maximumBatch, 1)
        self.mapError = mapError
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Returns once the request's batch has committed (or failed). Not cancellable: a
    /// transition handed to the writer is written, whatever happens to the calling task.
    func submit(_ request: EncodedTransition) async throws -> PostgresTransitionBatch.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            defer { lock.unlock() }
            if let closedError = state.closedError {
                continuation.resume(throwing: closedError)
                return
            }
            state.pending.append(Waiter(request: request, continuation: continuation))
            wake.yield()
        }
    }

    /// Refuses new requests; those already accepted are still written, then `run` returns.
    func close(with error: StoreError) {
        lock.lock()
        defer { lock.unlock() }
        guard state.closedError == nil else { return }
        state.closedError = error
        wake.finish()
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

    /// The writer loop: writes batches on connections from `client` until `close(with:)` was
    /// called and every accepted request has been answered.
    func run(client: PostgresClient, logger: Logger) async {
        for await _ in wakeups {
            while let batch = takeBatch() {
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
    }

    /// Everything pending, up to `maximumBatch`; nil when nothing is.
    private func takeBatch() -> [Waiter]? {
        lock.lock()
        defer { lock.unlock() }
        guard !state.pending.isEmpty else { return nil }
        let count = min(state.pending.count, maximumBatch)
        let batch = Array(state.pending.prefix(count))
        state.pending.removeFirst(count)
        return batch
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
            // First in the queue: they were accepted before anything pending now. The writer
            // loop is still inside its inner `while`, so they are taken without a wake-up.
            state.pending.insert(contentsOf: retries, at: 0)
        }
        for (waiter, answer) in answers {
            waiter.continuation.resume(with: answer)
        }
    }
}
