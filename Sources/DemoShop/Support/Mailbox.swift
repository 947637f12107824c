/// A queue of messages for one receiver at a time: `receive()` waits for the next message and
/// returns nil when the receiving task is cancelled or the mailbox is closed. Used to send
/// up/down commands to a server's supervising loop.
final class Mailbox<Message: Sendable>: Sendable {
    private struct State {
        var queue: [Message] = []
        var waiter: (id: UInt64, continuation: CheckedContinuation<Message?, Never>)?
        var closed = false
        var nextWaiterID: UInt64 = 0
    }

    private let state = Locked(State())

    /// Queues `message`, or hands it to the waiting receiver. False when the mailbox is closed.
    func send(_ message: Message) -> Bool {
        let outcome = state.withLock { state -> (delivered: Bool, waiter: CheckedContinuation<Message?, Never>?) in
            guard !state.closed else { return (false, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (true, waiter.continuation)
            }
            state.queue.append(message)
            return (true, nil)
        }
        outcome.waiter?.resume(returning: message)
        return outcome.delivered
    }

    /// The next message; nil when cancelled or closed (a queued message stays queued).
    func receive() async -> Message? {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Message?, Never>) in
                // Cancellation sets `isCancelled` before it runs the handler, so a handler
                // that runs before the waiter is registered is seen here, under the lock.
                let immediate = state.withLock { state -> Message?? in
                    if !state.queue.isEmpty { return .some(state.queue.removeFirst()) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "Mailbox has one receiver at a time")
                    state.waiter = (id, continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Message?, Never>? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Refuses further messages, wakes a waiting receiver with nil and returns the messages
    /// that were never received, so their senders can be answered.
    func close() -> [Message] {
        let (pending, waiter) = state.withLock { state -> ([Message], CheckedContinuation<Message?, Never>?) in
            state.closed = true
            let pending = state.queue
            state.queue = []
            let waiter = state.waiter?.continuation
            state.waiter = nil
            return (pending, waiter)
        }
        waiter?.resume(returning: nil)
        return pending
    }
}
