import Foundation
import StateLang

extension InstanceMachine {
    /// Continues an instance taken over by an executor: whatever was in flight is invoked again
    /// with the same idempotency key (DESIGN §4: a crash of the orchestrator is not a failure
    /// of the saga), a pending retry keeps its stored due time.
    mutating func resume() -> MachineAction {
        switch cursor.mode {
        case .finished:
            return .rejected("instance \(instance.id) has already finished (\(instance.status.rawValue))")
        case .forward:
            guard let seq = cursor.seq else {
                if steps.isEmpty { return enterState(named: workflow[workflow.startState].name) }
                return failInstance(FailureRecord(name: "InternalError", message: "the cursor has no step in flight"))
            }
            return resumeRow(seq)
        case .compensating:
            guard let seq = cursor.compensation?.seq else { return nextCompensation() }
            return resumeRow(seq)
        }
    }

    mutating func resumeRow(_ seq: Int) -> MachineAction {
        let current = row(seq)
        if let due = current.retryAt, current.status != .running {
            if due <= now {
                instance.wakeAt = nil
                return reattempt(seq)
            }
            instance.wakeAt = due
            return .wait(until: due)
        }
        guard current.status == .running else { return reattempt(seq) }
        // The call was in flight when the previous executor stopped: its outcome is unknown.
        let now = self.now
        update(seq) {
            $0.status = .unknown
            $0.failure = FailureRecord(name: "Interrupted", message: "the executor stopped during this call; it is made again with the same idempotency key", state: $0.stateName)
            $0.endedAt = now
        }
        return reattempt(seq)
    }

    /// `sagactl compensate ID`: undo what a finished instance did (also retries a stopped
    /// compensation, skipping steps already compensated).
    mutating func compensateCommand() -> MachineAction {
        guard cursor.mode == .finished else {
            return .rejected("instance \(instance.id) is still \(instance.status.rawValue); wait for it to end, or run `sagactl recover` if its executor died")
        }
        if instance.compensationStatus == .succeeded {
            return .rejected("instance \(instance.id) is already compensated")
        }
        instance.failure = nil
        return beginCompensation(thenState: nil)
    }

    /// `sagactl forward ID`: forward recovery (reference §6.2) from the last forward state.
    mutating func forwardCommand() -> MachineAction {
        guard cursor.mode == .finished else {
            return .rejected("instance \(instance.id) is still \(instance.status.rawValue); wait for it to end, or run `sagactl recover` if its executor died")
        }
        guard instance.forwardStatus == .failed || instance.forwardStatus == .unknown || instance.forwardStatus == .running else {
            return .rejected("instance \(instance.id) has status \(instance.status.rawValue); only failed or unknown instances can be pushed forward")
        }
        if instance.compensationStatus == .succeeded {
            return .rejected("instance \(instance.id) has been compensated; it cannot be pushed forward")
        }
        guard let (first, last) = effectiveRows(phase: .forward).last(where: { !isCompensated($0.first) }) else {
            return .rejected("instance \(instance.id) has no forward step to continue from")
        }
        let compensation = steps.last { $0.phase == .compensation && $0.compensatedSeq == first }
        if compensation?.status == .unknown {
            return .rejected("the compensation of '\(last.stateName)' ended unknown; resolve it with `sagactl compensate` or `sagactl skip` first")
        }
        reopenForward()
        guard let state = workflow.state(named: last.stateName) else {
            return .rejected("state '\(last.stateName)' is not in the definition")
        }
        if last.status == .succeeded || last.status == .skipped {
            guard let next = state.next else { return finishForward() }
            return enterState(named: workflow[next].name)
        }
        cursor.state = last.stateName
        cursor.retryCounts = Array(repeating: 0, count: state.task?.retry.count ?? 0)
        cursor.seq = last.seq
        return reattempt(last.seq)
    }

    /// `sagactl skip ID --state S`: a person resolved S by hand. During a stopped compensation
    /// it marks S's compensation skipped and compensates the rest; on a failed or unknown
    /// instance it marks S skipped and continues after it.
    mutating func skipCommand(_ name: String) -> MachineAction {
        guard cursor.mode == .finished else {
            return .rejected("instance \(instance.id) is still \(instance.status.rawValue); skip applies to an instance that stopped")
        }
        guard let state = workflow.state(named: name) else {
            let names = workflow.states.map(\.name)
            return .rejected("no state named '\(name)'" + Suggestion.didYouMean(name, in: names))
        }
        if instance.compensationStatus == .failed || instance.compensationStatus == .unknown {
            // The forward step whose compensation is S (or the step of S itself), not yet undone.
            let candidates = effectiveRows(phase: .forward).filter { pair in
                guard !isCompensated(pair.first), let forward = workflow.state(named: pair.last.stateName) else { return false }
                let compensation = forward.task?.compensateState.map { workflow[$0].name }
                return forward.name == name || compensation == name
            }
            guard let target = candidates.last else {
                return .rejected("no step waiting for compensation matches '\(name)'")
            }
            let forward = target.last
            let logical = forward.idempotencyKey.split(separator: ":").last.map(String.init) ?? ""
            let now = self.now
            _ = appendRow { seq in
                StepRecord(instanceID: forward.instanceID, seq: seq, stateName: name, phase: .compensation,
                           compensatedSeq: target.first, attempt: 1, status: .skipped, isForUpdate: forward.isForUpdate,
                           input: .null, failure: FailureRecord(name: "Skipped", message: "resolved by hand (sagactl skip)", state: name),
                           idempotencyKey: "\(forward.instanceID):c\(logical)", startedAt: now, endedAt: now)
            }
            instance.failure = nil
            return beginCompensation(thenState: nil)
        }
        guard instance.forwardStatus == .failed || instance.forwardStatus == .unknown else {
            return .rejected("instance \(instance.id) is \(instance.status.rawValue); skip applies to failed, unknown or needs-intervention instances")
        }
        guard let last = effectiveRows(phase: .forward).last(where: { $0.last.stateName == name })?.last else {
            return .rejected("state '\(name)' has not run in instance \(instance.id); only a state that ran can be skipped")
        }
        guard last.status != .succeeded else {
            return .rejected("state '\(name)' succeeded; there is nothing to skip")
        }
        reopenForward()
        let now = self.now
        _ = appendRow { seq in
            StepRecord(instanceID: last.instanceID, seq: seq, stateName: name, phase: .forward,
                       retriedSeq: last.retriedSeq ?? last.seq, attempt: last.attempt + 1, status: .skipped,
                       isForUpdate: last.isForUpdate, input: last.input,
                       failure: FailureRecord(name: "Skipped", message: "resolved by hand (sagactl skip)", state: name),
                       idempotencyKey: last.idempotencyKey, childInstanceID: last.childInstanceID,
                       startedAt: now, endedAt: now)
        }
        guard let next = state.next else { return finishForward() }
        return enterState(named: workflow[next].name)
    }

    /// Puts a finished instance back on the forward path.
    mutating func reopenForward() {
        cursor.mode = .forward
        cursor.failEnd = false
        cursor.compensation = nil
        instance.forwardStatus = .running
        instance.compensationStatus = nil
        instance.status = .running
        instance.failure = nil
        instance.endedAt = nil
    }
}
