import Foundation
import Interpreter

/// Writes every change of this process's circuits to the store, so that `sagactl status` in
/// another process shows them. One task writes the changes in the order they happened; a
/// failed write is reported to `onError` and never fails the call that changed the circuit.
public final class CircuitLog: Sendable {
    private let queue: AsyncStream<CircuitRecord>.Continuation
    private let writer: Task<Void, Never>
    private let owner: LeaseOwner

    public init(store: any InstanceStore, owner: LeaseOwner, onError: @escaping @Sendable (any Error) -> Void) {
        let (changes, queue) = AsyncStream.makeStream(of: CircuitRecord.self)
        self.queue = queue
        self.owner = owner
        writer = Task {
            for await record in changes {
                do { try await store.recordCircuit(record) } catch { onError(error) }
            }
        }
    }

    /// Queues a change for writing.
    public func record(_ change: CircuitChange) {
        queue.yield(CircuitRecord(change, owner: owner))
    }

    /// Writes the changes queued so far, then stops.
    public func close() async {
        queue.finish()
        await writer.value
    }
}

extension CircuitRecord {
    /// The stored form of a change: the phase it entered and that state in words.
    public init(_ change: CircuitChange, owner: LeaseOwner) {
        let openUntil: Date? = if case .open(let until) = change.to { until } else { nil }
        self.init(service: change.service, phase: change.to.phase.rawValue, detail: change.to.description,
                  openUntil: openUntil, changedAt: change.at, owner: owner)
    }
}
