import Foundation
import StateLang

extension InstanceMachine {
    /// Enters a state and runs through states that call nothing (Choice, ScriptTask, ...)
    /// until one needs an action or the instance ends.
    mutating func enterState(named name: String) -> MachineAction {
        guard var state = workflow.state(named: name) else {
            return failInstance(FailureRecord(name: "InternalError", message: "no state named '\(name)'"))
        }
        for _ in 0..<Self.inlineStepLimit {
            switch state.kind {
            case .choice(let choice):
                var target = choice.defaultNext
                do {
                    for branch in choice.branches
                    where try Evaluator.test(branch.condition, root: instance.context, error: nil) {
                        target = branch.next
                        break
                    }
                } catch {
                    return failInstance(expressionFailure(error, state: state.name, range: nil, what: "a Choices expression"))
                }
                guard let target else {
                    return failInstance(FailureRecord(
                        name: "NoChoiceMatched",
                        message: "no branch of Choice '\(state.name)' matched and it has no Default",
                        state: state.name))
                }
                state = workflow[target]
            case .succeed:
                return finishForward()
            case .fail(let spec):
                var context = instance.context.objectValue ?? [:]
                if let code = spec.errorCode { context["_statemachine_error_code_"] = .string(code) }
                if let message = spec.message { context["_statemachine_error_message_"] = .string(message) }
                instance.context = .object(context)
                cursor.failEnd = true
                if instance.failure == nil {
                    instance.failure = FailureRecord(
                        name: spec.errorCode ?? "Fail", message: spec.message ?? "the flow reached Fail state '\(state.name)'",
                        state: state.name)
                }
                return finishForward()
            case .compensationTrigger:
                return beginCompensation(thenState: state.next.map { workflow[$0].name })
            case .scriptTask(let spec):
                switch runScript(spec, state: state) {
                case .success(let next):
                    guard let next else { return finishForward() }
                    state = workflow[next]
                case .failure(let stop):
                    return stop.action
                }
            case .serviceTask(let spec) where spec.isAsync:
                switch enqueueAsync(spec, state: state) {
                case .success(let next):
                    guard let next else { return finishForward() }
                    state = workflow[next]
                case .failure(let stop):
                    return stop.action
                }
            case .serviceTask, .subStateMachine, .compensateSubMachine:
                return startTask(state, phase: .forward)
            }
        }
        return failInstance(FailureRecord(
            name: "LoopLimit",
            message: "the flow passed \(Self.inlineStepLimit) states without calling a service; check the Choice conditions for a loop",
            state: state.name))
    }

    /// Runs a ScriptTask inline: its first Input map gives the bindings, the script's value is
    /// the result for `Output`. Returns the next state, or the action that ended the instance.
    mutating func runScript(_ spec: ScriptTaskSpec, state: CompiledState) -> Result<StateID?, ScriptStop> {
        guard let script = spec.script else {
            return .failure(ScriptStop(failInstance(FailureRecord(
                name: "UnsupportedScript", message: "ScriptType '\(spec.scriptType)' cannot run; use ScriptType: expression",
                state: state.name))))
        }
        var bindings = instance.context
        do {
            let args = try evaluateInput(spec.task.input, state: state.name)
            if case .object(let map)? = args.first { bindings = .object(map) }
            let result = try Evaluator.evaluate(script, root: bindings)
            try mergeOutput(spec.task.output, result: result, state: state.name)
            return .success(state.next)
        } catch let failure as FailureRecord {
            return routeScriptFailure(failure, spec: spec, state: state)
        } catch let error as EvaluationError {
            return routeScriptFailure(expressionFailure(error, state: state.name, range: nil, what: "the script"), spec: spec, state: state)
        } catch {
            return routeScriptFailure(FailureRecord(name: "InternalError", message: "\(error)", state: state.name),
                                      spec: spec, state: state)
        }
    }

    /// An `IsAsync` state (DESIGN §6): its call goes to the transactional outbox, written in
    /// the same transaction as this checkpoint, and the saga does not wait for it. The step is
    /// `SU` at once, as in Seata (result null, `Status` not applied).
    mutating func enqueueAsync(_ spec: ServiceTaskSpec, state: CompiledState) -> Result<StateID?, ScriptStop> {
        let input: JSONValue
        do {
            input = Self.callInput(try evaluateInput(spec.task.input, state: state.name))
        } catch let failure as FailureRecord {
            return .failure(ScriptStop(failInstance(failure)))
        } catch {
            return .failure(ScriptStop(failInstance(FailureRecord(name: "InternalError", message: "\(error)", state: state.name))))
        }
        cursor.logicalSteps += 1
        let key = "\(instance.id):\(cursor.logicalSteps)"
        let id = instance.id
        let now = self.now
        let seq = appendRow { seq in
            StepRecord(instanceID: id, seq: seq, stateName: state.name, phase: .forward, attempt: 1, status: .succeeded,
                       isForUpdate: spec.task.isForUpdate, input: input, idempotencyKey: key, startedAt: now, endedAt: now)
        }
        outbox.append(OutboxMessage(
            id: key, instanceID: id, stepSeq: seq, definitionFingerprint: workflow.fingerprint, stateName: state.name,
            serviceName: spec.serviceName, serviceMethod: spec.serviceMethod, serviceType: spec.serviceType,
            input: input, nextAttemptAt: now, createdAt: now))
        return .success(state.next)
    }

    struct ScriptStop: Error { let action: MachineAction; init(_ a: MachineAction) { action = a } }

    mutating func routeScriptFailure(_ failure: FailureRecord, spec: ScriptTaskSpec, state: CompiledState)
        -> Result<StateID?, ScriptStop>
    {
        if let route = spec.task.catches.first(where: { $0.matches(ErrorName(failure.name)) }) {
            return .success(route.next)
        }
        return .failure(ScriptStop(failInstance(failure)))
    }

    // MARK: Tasks

    /// Creates the step row (the durable intent) and asks for the call.
    mutating func startTask(_ state: CompiledState, phase: StepPhase, compensating forwardSeq: Int? = nil) -> MachineAction {
        guard let task = state.task else { return failInstance(FailureRecord(name: "InternalError", message: "not a task")) }
        let input: JSONValue
        do {
            input = Self.callInput(try evaluateInput(task.input, state: state.name))
        } catch let failure as FailureRecord {
            return failInstance(failure)
        } catch {
            return failInstance(FailureRecord(name: "InternalError", message: "\(error)", state: state.name))
        }
        let key: String
        if phase == .forward {
            cursor.logicalSteps += 1
            key = "\(instance.id):\(cursor.logicalSteps)"
        } else {
            let forward = row(forwardSeq!)
            let logical = forward.idempotencyKey.split(separator: ":").last.map(String.init) ?? String(forwardSeq!)
            key = "\(instance.id):c\(logical)"
        }
        var childID: InstanceID?
        if case .subStateMachine = state.kind { childID = makeID() }
        if case .compensateSubMachine = state.kind { childID = forwardSeq.flatMap { row($0).childInstanceID } }
        let id = instance.id
        let now = self.now
        let seq = appendRow { seq in
            StepRecord(instanceID: id, seq: seq, stateName: state.name, phase: phase, compensatedSeq: forwardSeq,
                       attempt: 1, status: .running, isForUpdate: task.isForUpdate, input: input,
                       idempotencyKey: key, childInstanceID: childID, startedAt: now)
        }
        if phase == .forward {
            cursor.state = state.name
            cursor.seq = seq
            cursor.retryCounts = Array(repeating: 0, count: task.retry.count)
        } else {
            cursor.compensation?.seq = seq
            cursor.compensation?.retryCounts = Array(repeating: 0, count: task.retry.count)
        }
        return call(seq)
    }

    /// The action for the row `seq` (a service call or a child instance).
    func call(_ seq: Int) -> MachineAction {
        let row = row(seq)
        let state = workflow.state(named: row.stateName)!
        switch state.kind {
        case .serviceTask(let spec):
            return .invoke(Invocation(
                instanceID: instance.id, stateName: state.name, serviceName: spec.serviceName,
                serviceMethod: spec.serviceMethod, serviceType: spec.serviceType, input: row.input,
                idempotencyKey: row.idempotencyKey, attempt: row.attempt, phase: row.phase,
                timeoutSeconds: spec.task.timeoutSeconds, isAsync: spec.isAsync))
        case .subStateMachine(let spec):
            return .runChild(ChildRequest(childID: row.childInstanceID!, machineName: spec.machineName,
                                          input: Self.childInput(row.input), parentSeq: seq, compensate: false))
        case .compensateSubMachine:
            let forward = row.compensatedSeq.map { self.row($0) }
            let machine = forward.flatMap { workflow.state(named: $0.stateName) }
            var name = ""
            if case .subStateMachine(let spec)? = machine?.kind { name = spec.machineName }
            return .runChild(ChildRequest(childID: row.childInstanceID ?? "", machineName: name,
                                          input: Self.childInput(row.input), parentSeq: seq, compensate: true))
        case .scriptTask, .choice, .succeed, .fail, .compensationTrigger:
            return .rejected("state '\(state.name)' does not call anything")
        }
    }

    static func callInput(_ args: [JSONValue]) -> JSONValue {
        switch args.count {
        case 0: .null
        case 1: args[0]
        default: .array(args)
        }
    }

    /// A child's start parameters: the first Input element when it is a map.
    static func childInput(_ input: JSONValue) -> JSONValue {
        if case .object = input { return input }
        if case .array(let items) = input, case .object? = items.first { return items[0] }
        return .object([:])
    }

    mutating func completed(_ outcome: ActionOutcome) -> MachineAction {
        switch cursor.mode {
        case .forward:
            guard let seq = cursor.seq, row(seq).status == .running else {
                return .rejected("no call is in flight")
            }
            return completeForward(seq: seq, outcome: outcome)
        case .compensating:
            guard let seq = cursor.compensation?.seq, row(seq).status == .running else {
                return .rejected("no compensation is in flight")
            }
            return completeCompensation(seq: seq, outcome: outcome)
        case .finished:
            return .rejected("the instance has finished")
        }
    }

    mutating func childFinished(_ child: ChildOutcome) -> MachineAction {
        let seq = cursor.mode == .compensating ? cursor.compensation?.seq : cursor.seq
        guard let seq else { return .rejected("no child instance is in flight") }
        let isCompensation = row(seq).phase == .compensation
        let result: JSONValue = {
            var context = child.context.objectValue ?? [:]
            context["_sub_statemachine_execution_status_"] = .string(child.forwardStatus.rawValue)
            return .object(context)
        }()
        let succeeded = isCompensation ? child.compensationStatus == .succeeded : child.forwardStatus == .succeeded
        let outcome: ActionOutcome = succeeded
            ? .success(result)
            : .failure(ActionFailure(
                ErrorName("SubMachineFailed"),
                child.failure.map { "child instance \(child.instanceID) ended: \($0.name): \($0.message)" }
                    ?? "child instance \(child.instanceID) ended \(child.forwardStatus.rawValue)"))
        return isCompensation ? completeCompensation(seq: seq, outcome: outcome)
                              : completeForward(seq: seq, outcome: outcome, child: child)
    }

    /// Decides the status of a finished forward call, then retries, routes or ends.
    mutating func completeForward(seq: Int, outcome: ActionOutcome, child: ChildOutcome? = nil) -> MachineAction {
        let state = workflow.state(named: row(seq).stateName)!
        let task = state.task!
        var failure: ActionFailure?
        var result: JSONValue?
        switch outcome {
        case .success(let value): result = value
        case .failure(let f): failure = f
        }
        if let failure, let retry = retryDelay(task.retry, failure: failure, counts: &cursor.retryCounts) {
            return scheduleRetry(seq: seq, failure: failure, after: retry)
        }
        let decided = decideStatus(task: task, state: state, result: result, failure: failure, child: child)
        let failureRecord = failure.map { FailureRecord(name: $0.name.rawValue, message: $0.message, state: state.name) }
        let now = self.now
        update(seq) {
            $0.status = decided.status
            $0.output = result
            $0.failure = decided.keepFailure ? failureRecord : nil
            $0.endedAt = now
        }
        if let evaluationFailure = decided.evaluationFailure { return failInstance(evaluationFailure) }
        if let result {
            do {
                try mergeOutput(task.output, result: result, state: state.name)
            } catch let f as FailureRecord {
                return failInstance(f)
            } catch {
                return failInstance(FailureRecord(name: "InternalError", message: "\(error)", state: state.name))
            }
        }
        cursor.state = nil
        cursor.seq = nil
        if decided.noMatch {
            return failInstance(FailureRecord(
                name: "NoMatchedStatus", message: "no Status rule of '\(state.name)' matched the result", state: state.name))
        }
        if let failure {
            if let route = task.catches.first(where: { $0.matches(failure.name) }) {
                return enterState(named: workflow[route.next].name)
            }
            return failInstance(failureRecord!)
        }
        guard let next = state.next else { return finishForward() }
        return enterState(named: workflow[next].name)
    }

    struct StatusDecision {
        var status: ExecutionStatus
        var keepFailure = true
        var noMatch = false
        var evaluationFailure: FailureRecord?
    }

    /// Seata's per-state status rules (reference §4.2): `Status` rows in order, then defaults.
    func decideStatus(task: TaskSpec, state: CompiledState, result: JSONValue?, failure: ActionFailure?,
                      child: ChildOutcome?) -> StatusDecision {
        let isAsync: Bool = { if case .serviceTask(let s) = state.kind { return s.isAsync }; return false }()
        if !isAsync, !task.status.isEmpty {
            for rule in task.status {
                switch rule.condition {
                case .exception(let pattern, _):
                    if let failure, failure.name.matches(pattern) {
                        return StatusDecision(status: ExecutionStatus(rule.status), keepFailure: rule.status != .succeeded)
                    }
                case .spel:
                    // SpEL rows look at the result; with an exception there is none to look at.
                    guard failure == nil, let result else { continue }
                    do {
                        if try Evaluator.test(rule.condition, root: result, error: nil) {
                            return StatusDecision(status: ExecutionStatus(rule.status))
                        }
                    } catch {
                        var decision = StatusDecision(status: task.isForUpdate ? .unknown : .failed)
                        decision.evaluationFailure = expressionFailure(error, state: state.name, range: rule.range,
                                                                       what: "the Status rule '\(rule.text)'")
                        return decision
                    }
                }
            }
            if failure == nil {
                return StatusDecision(status: task.isForUpdate ? .unknown : .failed, noMatch: true)
            }
        }
        if let child, failure != nil {
            // A child's own outcome decides (reference §2.4).
            if child.compensationStatus == .succeeded { return StatusDecision(status: .failed) }
            if child.compensationStatus == nil || child.compensationStatus == .failed {
                return StatusDecision(status: child.forwardStatus == .running ? .unknown : child.forwardStatus)
            }
            return StatusDecision(status: .unknown)
        }
        guard let failure else { return StatusDecision(status: .succeeded) }
        if task.isForUpdate || state.isForCompensation {
            // Refused, or stopped by an open circuit breaker: the call was certainly not made.
            let notMade = failure.name == .connectionRefused || failure.name == .circuitOpen
            return StatusDecision(status: notMade ? .failed : .unknown)
        }
        return StatusDecision(status: .failed)
    }

    // MARK: Retry

    /// The delay before the next retry when a `Retry` entry matches and has attempts left
    /// (counting it), or nil.
    ///
    /// A failure that says when the service can next be called (`notBefore`: its circuit is
    /// open) is retried no earlier than that, plus up to `reopenSpread` so that the retries
    /// waiting on one circuit do not all arrive with its single probe call. Otherwise a
    /// compensation with a few quick retries would spend them all inside the open period and
    /// stop in needs-intervention although the service is about to be called again.
    func retryDelay(_ policies: [RetryPolicy], failure: ActionFailure, counts: inout [Int]) -> Double? {
        if counts.count < policies.count { counts += Array(repeating: 0, count: policies.count - counts.count) }
        guard let n = policies.firstIndex(where: { $0.matches(failure.name) }) else { return nil }
        guard counts[n] < policies[n].maxAttempts else { return nil }
        counts[n] += 1
        let backoff = policies[n].delay(beforeRetry: counts[n], unitRandom: random())
        guard let notBefore = failure.notBefore else { return backoff }
        let wait = notBefore.timeIntervalSince(now)
        return wait > backoff ? wait + Self.reopenSpread * random() : backoff
    }

    /// The spread of retries that wait for a circuit to let calls through again, in seconds.
    static var reopenSpread: Double { 1 }

    mutating func scheduleRetry(seq: Int, failure: ActionFailure, after delay: Double) -> MachineAction {
        let due = now.addingTimeInterval(delay)
        let state = row(seq).stateName
        let now = self.now
        update(seq) {
            $0.status = .failed
            $0.failure = FailureRecord(name: failure.name.rawValue, message: failure.message, state: state)
            $0.endedAt = now
            $0.retryAt = due
        }
        instance.wakeAt = due
        return .wait(until: due)
    }

    /// The backoff is over: a new attempt row with the same idempotency key.
    mutating func retryDue() -> MachineAction {
        let seq: Int?
        switch cursor.mode {
        case .forward: seq = cursor.seq
        case .compensating: seq = cursor.compensation?.seq
        case .finished: seq = nil
        }
        guard let seq, row(seq).retryAt != nil else { return .rejected("no retry is pending") }
        instance.wakeAt = nil
        return reattempt(seq)
    }

    /// A new attempt of the step whose latest row is `seq`, with the same key.
    mutating func reattempt(_ seq: Int) -> MachineAction {
        let previous = row(seq)
        let first = firstSeq(ofStep: seq)
        let now = self.now
        let newSeq = appendRow { n in
            StepRecord(instanceID: previous.instanceID, seq: n, stateName: previous.stateName, phase: previous.phase,
                       compensatedSeq: previous.compensatedSeq, retriedSeq: first, attempt: previous.attempt + 1,
                       status: .running, isForUpdate: previous.isForUpdate, input: previous.input,
                       idempotencyKey: previous.idempotencyKey, childInstanceID: previous.childInstanceID,
                       startedAt: now)
        }
        if previous.phase == .forward { cursor.seq = newSeq } else { cursor.compensation?.seq = newSeq }
        return call(newSeq)
    }

    // MARK: Data

    func evaluateInput(_ templates: [ValueTemplate], state: String) throws -> [JSONValue] {
        try templates.map { try evaluate($0, root: instance.context, state: state) }
    }

    mutating func mergeOutput(_ mappings: [OutputMapping], result: JSONValue, state: String) throws {
        guard !mappings.isEmpty else { return }
        var context = instance.context.objectValue ?? [:]
        for mapping in mappings {
            context[mapping.key] = try evaluate(mapping.value, root: result, state: state)
        }
        instance.context = .object(context)
    }

    func evaluate(_ template: ValueTemplate, root: JSONValue, state: String) throws -> JSONValue {
        switch template {
        case .literal(let value): return value
        case .expression(let leaf, let text, let range):
            do {
                return try Evaluator.evaluate(leaf, root: root, error: nil, makeSequence: makeID)
            } catch {
                throw expressionFailure(error, state: state, range: range, what: "'\(text)'")
            }
        case .array(let items): return .array(try items.map { try evaluate($0, root: root, state: state) })
        case .object(let entries):
            var out: [String: JSONValue] = [:]
            for (key, value) in entries {
                let v = try evaluate(value, root: root, state: state)
                // Seata drops null results inside maps.
                if !v.isNull { out[key] = v }
            }
            return .object(out)
        }
    }

    func expressionFailure(_ error: EvaluationError, state: String, range: SourceRange?, what: String) -> FailureRecord {
        var location = ""
        if let range {
            location = " at \(workflow.path.isEmpty ? "" : workflow.path + ":")\(range.start.line):\(range.start.column + error.offset)"
        }
        return FailureRecord(name: "ExpressionError",
                             message: "state '\(state)': evaluating \(what)\(location): \(error.message)", state: state)
    }
}

extension FailureRecord: Error {}

extension ExecutionStatus {
    init(_ code: StatusCode) {
        switch code {
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .unknown: self = .unknown
        }
    }
}
