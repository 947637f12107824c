/// Wakes the worker loop (`SagaEngine.work`) when one of its instances ends, so that a worker
/// whose slots were all taken claims again at once rather than after a poll interval (which
/// capped a worker at about `concurrency / pollInterval` instances a second).
///
/// A signal given while nobody waits is kept (one, however many are given), so that an
/// instance ending between the loop's count of free slots and its `wait()` is not missed.
final class SlotSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Locked(State())

    /// Called when a slot frees: resumes the waiting loop, or lets its next `wait()` return at once.
    func signal() {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return CheckedContinuation<Void, Never>?.none
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after the next `signal()` (or at once when one came since the last `wait()`),
    /// or when the task is cancelled. One waiter at a time.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}
