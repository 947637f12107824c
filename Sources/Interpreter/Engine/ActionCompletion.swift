import StateLang
import Synchronization

/// The answer to one call of a deferred local action (`LocalActions.registerDeferred`): the
/// action keeps it and completes it once, later, from any thread: when a webhook arrives, a
/// person approves, a message comes back.
///
/// Only the first completion counts; later ones return `false` and change nothing (a call
/// that timed out, then answered, keeps its `Timeout`). An instance waiting on a completion
/// that nobody completes stays `running`: after a restart, `sagactl recover` makes the call
/// again with the same idempotency key.
public final class ActionCompletion: Sendable {
    public typealias Deliver = @Sendable (ActionOutcome) -> Void

    private struct State {
        var deliver: Deliver?
        var early: ActionOutcome?
        var completed = false
    }

    private let state: Mutex<State>

    init(deliver: Deliver? = nil) {
        state = Mutex(State(deliver: deliver))
    }

    /// Completes the call with `value` (what the action returns).
    @discardableResult
    public func succeed(_ value: JSONValue) -> Bool {
        complete(.success(value))
    }

    /// Completes the call with a failure that the workflow's `Catch` and `Retry` match by name.
    @discardableResult
    public func fail(_ failure: ActionFailure) -> Bool {
        complete(.failure(failure))
    }

    /// Completes the call; `false` when it was already completed (then nothing changes).
    @discardableResult
    public func complete(_ outcome: ActionOutcome) -> Bool {
        let taken = state.withLock { state -> (first: Bool, deliver: Deliver?) in
            guard !state.completed else { return (false, nil) }
            state.completed = true
            guard let deliver = state.deliver else {
                state.early = outcome
                return (true, nil)
            }
            state.deliver = nil
            return (true, deliver)
        }
        taken.deliver?(outcome)
        return taken.first
    }

    /// Whether the call has been completed.
    public var isCompleted: Bool { state.withLock { $0.completed } }

    /// Sets what receives the outcome; when the call was completed before, delivers it now.
    func onComplete(_ deliver: @escaping Deliver) {
        let early = state.withLock { state -> ActionOutcome? in
            guard state.completed else {
                state.deliver = deliver
                return nil
            }
            defer { state.early = nil }
            return state.early
        }
        if let early { deliver(early) }
    }

    /// Waits in the calling task for the outcome of `body`'s call: how a deferred action is
    /// called where the instance cannot wait without a task (a call with a deadline, a child
    /// instance, an instance whose caller awaits it). Cancelling the task completes the call
    /// with a `Timeout`, as for any other action.
    static func awaitOutcome(of invocation: Invocation,
                             _ body: @Sendable (Invocation, ActionCompletion) -> Void) async -> ActionOutcome {
        let completion = ActionCompletion()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ActionOutcome, Never>) in
                completion.onComplete { continuation.resume(returning: $0) }
                if !completion.isCompleted { body(invocation, completion) }
            }
        } onCancel: {
            completion.fail(ActionFailure(.timeout, "the call was cancelled"))
        }
    }
}
