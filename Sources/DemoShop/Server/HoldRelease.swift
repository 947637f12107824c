/// Lets injected delays (latency, held "timeout" requests) end early when their service goes
/// down or stops, so that a graceful shutdown does not wait for a 10-second hold. `fire()`
/// ends every current and later wait until `reset()`.
final class HoldRelease: Sendable {
    private struct State {
        var fired = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Locked(State())

    /// Sleeps for `duration`; false when released early. Throws `CancellationError` when the
    /// task is cancelled.
    func sleep(for duration: Duration) async throws -> Bool {
        guard duration > .zero else { return true }
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await Task.sleep(for: duration)
                return true
            }
            group.addTask {
                await self.waitForRelease()
                return false
            }
            let slept = try await group.next() ?? false
            group.cancelAll()
            return slept
        }
    }

    func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func reset() { state.withLock { $0.fired = false } }

    /// Requests waiting in an injected delay now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Returns on `fire()` or when the task is cancelled.
    private func waitForRelease() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { state in
                    guard !state.fired, !Task.isCancelled else { return false }
                    state.waiters[id] = continuation
                    return true
                }
                if !registered { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
