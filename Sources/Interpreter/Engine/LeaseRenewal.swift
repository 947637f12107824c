import Foundation

/// The engine's single lease-renewal loop, shared by every instance it drives; see
/// `SagaEngine.withLeaseRenewal`.
///
/// The loop is an unstructured `Task`: its lifetime is "while any instance is driven", which
/// spans many callers' scopes and belongs to none of them. It is cancelled when the last
/// caller leaves; a renewal in progress then finishes (renewing only what is still held).
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
            state.loop = Task { [weak engine] in
                while !Task.isCancelled, let engine {
                    do {
                        try await engine.clock.sleep(until: engine.clock.now().addingTimeInterval(engine.leaseDuration / 3))
                    } catch {
                        return  // cancelled: the last instance finished
                    }
                    await engine.renewHeldLeases()
                }
            }
        }
    }

    func leave() {
        let loop = state.withLock { state -> Task<Void, Never>? in
            state.users -= 1
            guard state.users == 0 else { return nil }
            defer { state.loop = nil }
            return state.loop
        }
        loop?.cancel()
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
