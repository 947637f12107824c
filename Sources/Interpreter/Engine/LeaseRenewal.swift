import Foundation

/// The engine's single lease-renewal loop, shared by every instance it drives; see
/// `SagaEngine.withLeaseRenewal`.
///
/// The loop is an unstructured `Task`: its lifetime is "while any instance is driven", which
/// spans many callers' scopes and belongs to none of them. It is not cancelled when the last
/// caller leaves: it ends at its next wake-up if nobody has come back by then. One saga after
/// another (concurrency 1) then shares one loop instead of starting and cancelling a task per
/// saga (2–3 % of that path's CPU). While it sleeps it holds neither the engine nor its store.
final class LeaseRenewal: Sendable {
    private struct State {
        var users = 0
        var loop: Task<Void, Never>?
    }

    private let state = Locked(State())

    func enter(_ engine: SagaEngine) {
        state.withLock { state in
            state.users += 1
            guard state.loop == nil else { return }
            let clock = engine.clock
            let period = engine.leaseDuration / 3
            state.loop = Task { [weak engine] in
                while true {
                    do {
                        try await clock.sleep(until: clock.now().addingTimeInterval(period))
                    } catch {
                        return  // the clock refused to sleep (its task was cancelled): stop renewing
                    }
                    guard let engine, self.stillUsed() else { return }
                    await engine.renewHeldLeases()
                }
            }
        }
    }

    func leave() {
        state.withLock { $0.users -= 1 }
    }

    /// Whether anyone is driven; when not, forgets the loop (which then ends), so that the
    /// next `enter` starts a new one.
    private func stillUsed() -> Bool {
        state.withLock { state in
            if state.users > 0 { return true }
            state.loop = nil
            return false
        }
    }
}

extension SagaEngine {
    /// Extends the lease of every instance this engine drives. A failure is not fatal here:
    /// a lease that lapses is caught by the fence of the instance's next checkpoint
    /// (`StoreError.leaseLost`), which stops that instance's executor.
    func renewHeldLeases() async {
        let ids = Array(held.withLock { $0 })
        guard !ids.isEmpty else { return }
        do {
            _ = try await store.renewLeases(ids, owner: owner, until: clock.now().addingTimeInterval(leaseDuration))
        } catch {
            emit(.leaseRenewalFailed(instances: ids.count, reason: "\(error)"))
        }
    }
}
