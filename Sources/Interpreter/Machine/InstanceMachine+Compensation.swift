import Foundation
import StateLang

extension InstanceMachine {
    /// Starts backward recovery (a CompensationTrigger, or `sagactl compensate`): every forward
    /// step that may have had an effect (an attempt SU, UN or interrupted; not all FA) and is
    /// not yet compensated is undone, strictly in reverse order of execution, one at a time.
    mutating func beginCompensation(thenState: String?) -> MachineAction {
        var pending: [Int] = []
        for (first, last) in effectiveRows(phase: .forward) {
            guard mayHaveHadEffect(key: last.idempotencyKey), let state = workflow.state(named: last.stateName) else { continue }
            guard !isCompensated(first) else { continue }
            switch state.kind {
            case .serviceTask, .subStateMachine:
                if state.task?.compensateState != nil || isSubMachine(state) {
                    pending.append(first)
                } else if state.task?.isForUpdate == true {
                    return stopCompensation(FailureRecord(
                        name: "CompensationStateNotFound",
                        message: "state '\(state.name)' changes data (IsForUpdate) but has no CompensateState, so it cannot be undone",
                        state: state.name), anyCompensated: false)
                }
            default:
                continue
            }
        }
        cursor.mode = .compensating
        cursor.state = nil
        cursor.seq = nil
        cursor.compensation = CompensationCursor(pending: pending, thenState: thenState)
        instance.compensationStatus = .running
        instance.status = .compensating
        instance.endedAt = nil
        return nextCompensation()
    }

    /// Whether any attempt of the forward step with this idempotency key may have changed
    /// data. The last attempt alone does not say: an attempt cut off by a crash (UN) or whose
    /// reply was lost may have been served, and retries that were refused after it (FA) do not
    /// undo it. A retried attempt's row is FA whatever its error; it counts with the status it
    /// would have had as the last attempt (UN for an update state's lost reply, FA when refused).
    func mayHaveHadEffect(key: String) -> Bool {
        steps.contains { row in
            guard row.phase == .forward, row.idempotencyKey == key else { return false }
            guard row.status == .failed, row.retryAt != nil, let failure = row.failure,
                  let state = workflow.state(named: row.stateName), let task = state.task
            else { return row.status != .failed }
            let error = ActionFailure(ErrorName(failure.name), failure.message)
            return decideStatus(task: task, state: state, result: nil, failure: error, child: nil).status != .failed
        }
    }

    func isSubMachine(_ state: CompiledState) -> Bool {
        if case .subStateMachine = state.kind { return true }
        return false
    }

    /// Whether the forward step starting at `first` has been compensated (or skipped by hand).
    func isCompensated(_ first: Int) -> Bool {
        let rows = steps.filter { $0.phase == .compensation && $0.compensatedSeq == first }
        guard let last = rows.last else { return false }
        return last.status == .succeeded || last.status == .skipped
    }

    /// Runs the next pending compensation, or ends backward recovery.
    mutating func nextCompensation() -> MachineAction {
        guard var comp = cursor.compensation else { return .rejected("not compensating") }
        guard let forwardSeq = comp.pending.popLast() else {
            cursor.compensation = comp
            return endCompensation()
        }
        comp.current = forwardSeq
        comp.seq = nil
        cursor.compensation = comp
        let forward = row(forwardSeq)
        let state = workflow.state(named: forward.stateName)!
        let target: CompiledState
        if let c = state.task?.compensateState {
            target = workflow[c]
        } else {
            // A SubStateMachine without CompensateState: compensate its child directly.
            return compensateChildDirectly(forwardSeq: forwardSeq, state: state)
        }
        return startTask(target, phase: .compensation, compensating: forwardSeq)
    }

    /// Seata synthesises a hidden CompensateSubMachine for a SubStateMachine without
    /// CompensateState; here the child is compensated through a row of the SubStateMachine.
    mutating func compensateChildDirectly(forwardSeq: Int, state: CompiledState) -> MachineAction {
        let forward = row(forwardSeq)
        let logical = forward.idempotencyKey.split(separator: ":").last.map(String.init) ?? String(forwardSeq)
        let now = self.now
        let seq = appendRow { seq in
            StepRecord(instanceID: forward.instanceID, seq: seq, stateName: state.name, phase: .compensation,
                       compensatedSeq: forwardSeq, attempt: 1, status: .running, isForUpdate: true,
                       input: forward.input, idempotencyKey: "\(forward.instanceID):c\(logical)",
                       childInstanceID: forward.childInstanceID, startedAt: now)
        }
        cursor.compensation?.seq = seq
        var name = ""
        if case .subStateMachine(let spec) = state.kind { name = spec.machineName }
        return .runChild(ChildRequest(childID: forward.childInstanceID ?? "", machineName: name,
                                      input: .object([:]), parentSeq: seq, compensate: true))
    }

    mutating func completeCompensation(seq: Int, outcome: ActionOutcome) -> MachineAction {
        let current = row(seq)
        let state = workflow.state(named: current.stateName)!
        var failure: ActionFailure?
        var result: JSONValue?
        switch outcome {
        case .success(let value): result = value
        case .failure(let f): failure = f
        }
        let policies = state.isForCompensation ? (state.task?.retry ?? []) : []
        if let failure, var counts = cursor.compensation?.retryCounts,
            let delay = retryDelay(policies, failure: failure, counts: &counts)
        {
            cursor.compensation?.retryCounts = counts
            return scheduleRetry(seq: seq, failure: failure, after: delay)
        }
        var status: ExecutionStatus
        if let task = state.task, state.isForCompensation {
            let decided = decideStatus(task: task, state: state, result: result, failure: failure, child: nil)
            status = decided.noMatch ? .unknown : decided.status
            if let result, decided.evaluationFailure == nil {
                do { try mergeOutput(task.output, result: result, state: state.name) } catch {
                    status = .unknown
                    failure = ActionFailure(ErrorName("ExpressionError"), "\(error)")
                }
            }
        } else {
            status = failure == nil ? .succeeded : .unknown
        }
        let failureRecord = failure.map { FailureRecord(name: $0.name.rawValue, message: $0.message, state: state.name) }
        let now = self.now
        update(seq) {
            $0.status = status
            $0.output = result
            $0.failure = failureRecord
            $0.endedAt = now
        }
        cursor.compensation?.seq = nil
        guard status == .succeeded else {
            let anyCompensated = steps.contains {
                $0.phase == .compensation && $0.seq != seq && ($0.status == .succeeded || $0.status == .unknown)
            }
            return stopCompensation(failureRecord ?? FailureRecord(
                name: "CompensationFailed", message: "compensation '\(state.name)' ended \(status.rawValue)", state: state.name),
                anyCompensated: anyCompensated)
        }
        return nextCompensation()
    }

    /// A compensation could not complete even after its retries: stop in `needs-intervention`
    /// (DESIGN §3.4) instead of retrying forever as Seata's coordinator does.
    mutating func stopCompensation(_ failure: FailureRecord, anyCompensated: Bool) -> MachineAction {
        instance.compensationStatus = anyCompensated ? .unknown : .failed
        if instance.forwardStatus == .running { instance.forwardStatus = .unknown }
        instance.failure = failure
        cursor.compensation?.current = nil
        cursor.compensation?.seq = nil
        return finish()
    }

    mutating func endCompensation() -> MachineAction {
        instance.compensationStatus = .succeeded
        if instance.forwardStatus == .running { instance.forwardStatus = .unknown }
        let then = cursor.compensation?.thenState
        cursor.compensation = nil
        cursor.mode = .forward
        guard let then else { return finish() }
        return enterState(named: then)
    }
}
