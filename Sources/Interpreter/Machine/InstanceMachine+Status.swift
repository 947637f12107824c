import Foundation
import StateLang

extension InstanceMachine {
    /// Ends the instance on an uncaught error: the status comes from the log (reference §4.3).
    /// Seata never compensates automatically here; `recover` applies the RecoverStrategy to an
    /// instance that ends `unknown`.
    mutating func failInstance(_ failure: FailureRecord) -> MachineAction {
        instance.failure = failure
        cursor.failEnd = true
        cursor.state = nil
        cursor.seq = nil
        return finishForward(terminating: failure)
    }

    /// Ends the instance after the forward path (Succeed, Fail, implicit end, uncaught error).
    /// `terminating` is the error that stopped the run (a call's or the engine's); a Fail
    /// state has none: its ErrorCode names the end, not an error to classify (decision 0023).
    mutating func finishForward(terminating: FailureRecord? = nil) -> MachineAction {
        if instance.compensationStatus != nil {
            // Routing continued after a compensation (the trigger's Next): Seata keeps the
            // forward status at UN if it was still running.
            if instance.forwardStatus == .running { instance.forwardStatus = .unknown }
        } else {
            instance.forwardStatus = decideForwardStatus(terminating: terminating)
        }
        return finish()
    }

    mutating func finish() -> MachineAction {
        cursor.mode = .finished
        cursor.state = nil
        cursor.seq = nil
        instance.wakeAt = nil
        instance.endedAt = now
        instance.status = Self.displayStatus(forward: instance.forwardStatus, compensation: instance.compensationStatus)
        if instance.status == .succeeded { instance.failure = nil }
        return .finished(instance.status)
    }

    /// The user-facing status from Seata's two fields.
    public static func displayStatus(forward: ExecutionStatus, compensation: ExecutionStatus?) -> InstanceStatus {
        switch compensation {
        case .running?: return .compensating
        case .succeeded?: return .compensated
        case .failed?, .unknown?: return .needsIntervention
        case .skipped?: return .compensated
        case nil:
            switch forward {
            case .running: return .running
            case .succeeded, .skipped: return .succeeded
            case .failed: return .failed
            case .unknown: return .unknown
            }
        }
    }

    /// Reference §4.3: scan the latest attempt of every forward step, last to first; when
    /// every step succeeded, the terminating error decides.
    func decideForwardStatus(terminating: FailureRecord?) -> ExecutionStatus {
        let rows = effectiveRows(phase: .forward).map(\.last)
        let updateSucceeded = rows.contains { $0.isForUpdate && ($0.status == .succeeded) }
        var scanned: ExecutionStatus = .succeeded
        if rows.contains(where: { $0.status == .unknown }) {
            scanned = .unknown
        } else if rows.contains(where: { $0.status != .succeeded && $0.status != .skipped }) {
            scanned = updateSucceeded ? .unknown : .failed
        } else if let terminating {
            scanned = updateSucceeded || Self.leavesOutcomeUnknown(terminating) ? .unknown : .failed
        }
        if scanned == .succeeded, cursor.failEnd {
            let anyUpdateRan = rows.contains { $0.isForUpdate } || steps.contains { $0.phase == .compensation }
            return anyUpdateRan ? .unknown : .failed
        }
        return scanned
    }

    /// Whether a terminating error leaves the outcome of the call uncertain (reference §4.3:
    /// Seata's read timeout gives UN, a refused or timed-out connection and any other error
    /// FA). Our `Timeout` is a call's deadline, whether the connection or the answer was
    /// late; both count as uncertain, since the name does not tell them apart (decision 0023).
    static func leavesOutcomeUnknown(_ failure: FailureRecord) -> Bool {
        ErrorName(failure.name).matches(ErrorName.timeout.rawValue)
    }
}
