import Foundation

/// The engine's single lease-renewal loop, shared by every instance it drives; see
/// `SagaEngine.withLeaseRenewal`.
///
/// The loop is an unstructured `Task`: its lifetime is "while any instance is driven", which
/// spans many callers' scopes and belongs to none of them. When the last caller leaves, the
/// loop is not cancelled: it ends at its next wake-up if no caller has come back by then. An
/// engine driving instances one after another (concurrency 1) so keeps one loop, instead of
/// starting a task and a timer per instance and cancelling them (about 5 % of its throughput).
/// While it sleeps the loop holds the engine weakly, so a lingering loop keeps no engine alive.
final class LeaseRenewal: Sendable {
    private struct State {
        var users = 0
        var looping = false
    }

    private let state = Locked(State())

    func enter(_ engine: SagaEngine) {
        let start = state.withLock { state -> Bool in
            state.users += 1
            guard !state.looping else { return false }
            state.looping = true
            return true
        }
        guard start else { return }
        Task { [weak engine, clock = engine.clock, interval = engine.leaseDuration / 3] in
            while true {
                do {
                    try await clock.sleep(until: clock.now().addingTimeInterval(interval))
                } catch {
                    // Only cancellation makes a sleep throw, and nothing holds this task to cancel
                    // it; should a clock throw anyway, the next `enter` starts a new loop.
                    state.withLock { $0.looping = false }
                    return
                }
                guard let engine, continuesAfterWaking() else { return }
                await engine.renewHeldLeases()
            }
        }
    }

    func leave() {
        state.withLock { $0.users -= 1 }
    }

    /// Whether the loop goes on after a sleep: it ends (and the next `enter` starts another)
    /// when nobody is in.
    private func continuesAfterWaking() -> Bool {
        state.withLock { state in
            guard state.users == 0 else { return true }
            state.looping = false
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
