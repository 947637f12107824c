/// Lowers a `SyntaxNode` tree into a `WorkflowSyntax`, reporting wrong types, missing and
/// unknown keys. Never stops at the first problem: every key of every state is looked at.
public struct WorkflowLowering {
    private var reader = NodeReader()

    public init() {}

    public static func lower(_ root: SyntaxNode) -> (WorkflowSyntax?, [Diagnostic]) {
        var lowering = WorkflowLowering()
        let workflow = lowering.lowerDocument(root)
        return (workflow, lowering.reader.bag.diagnostics)
    }

    /// Lowers a services file: a map with a top-level `Services` key, or the map itself.
    public static func lowerServices(_ root: SyntaxNode) -> ([ServiceBindingSyntax], [Diagnostic]) {
        var lowering = WorkflowLowering()
        var node = root
        if case .mapping(let entries) = root.kind, let services = entries.first(where: { $0.key == "Services" }) {
            node = services.value
        }
        guard let entries = lowering.reader.mapping(node, key: "Services") else { return ([], lowering.reader.bag.diagnostics) }
        let bindings = entries.compactMap { lowering.lowerService($0) }
        return (bindings, lowering.reader.bag.diagnostics)
    }

    mutating func lowerDocument(_ root: SyntaxNode) -> WorkflowSyntax? {
        guard case .mapping(let entries) = root.kind else {
            reader.bag.add(.wrongType, "a workflow must be a map with 'StartState' and 'States', not \(root.kindDescription)",
                           at: root.range)
            return nil
        }
        var workflow = WorkflowSyntax(range: root.range)
        workflow.fingerprint = SHA256.hex(root.canonicalBytes)
        for entry in entries {
            let node = entry.value
            switch entry.key {
            case "Name": workflow.name = reader.string(node, key: "Name")
            case "Comment": workflow.comment = reader.string(node, key: "Comment")
            case "Version": workflow.version = reader.string(node, key: "Version")
            case "StartState": workflow.startState = reader.string(node, key: "StartState")
            case "States":
                workflow.statesRange = entry.keyRange
                if let states = reader.mapping(node, key: "States") {
                    workflow.states = states.compactMap { lowerState($0) }
                }
            case "RecoverStrategy":
                if let value = reader.string(node, key: "RecoverStrategy") {
                    if let strategy = RecoverStrategy(rawValue: value.value) {
                        workflow.recoverStrategy = Located(strategy, value.range)
                    } else {
                        invalidValue(value, key: "RecoverStrategy", allowed: RecoverStrategy.allCases.map(\.rawValue))
                    }
                }
            case "IsPersist": workflow.isPersist = reader.bool(node, key: "IsPersist")
            case "IsRetryPersistModeUpdate":
                workflow.isRetryPersistModeUpdate = reader.bool(node, key: entry.key)
            case "IsCompensatePersistModeUpdate":
                workflow.isCompensatePersistModeUpdate = reader.bool(node, key: entry.key)
            case "Services":
                workflow.servicesRange = entry.keyRange
                if let services = reader.mapping(node, key: "Services") {
                    workflow.services = services.compactMap { lowerService($0) }
                }
            case _ where StateKeys.documentIgnored.contains(entry.key):
                break
            default:
                break
            }
        }
        workflow.unknownKeys = reader.unknownKeys(
            entries.filter { !StateKeys.documentIgnored.contains($0.key) },
            known: StateKeys.document, context: "the workflow")
        if workflow.startState == nil, !entries.contains(where: { $0.key == "StartState" }) {
            reader.bag.add(.missingStartState, "the workflow has no 'StartState'", at: SourceRange(at: root.range.start),
                           hint: workflow.states.first.map { "add `StartState: \($0.name.value)`" })
        }
        if workflow.statesRange == nil {
            reader.bag.add(.noStates, "the workflow has no 'States'", at: SourceRange(at: root.range.start),
                           hint: "add a `States` map of state name to state")
        } else if workflow.states.isEmpty, case .mapping(let e)? = entries.first(where: { $0.key == "States" })?.value.kind, e.isEmpty {
            reader.bag.add(.noStates, "'States' is empty", at: workflow.statesRange)
        }
        return workflow
    }

    mutating func invalidValue(_ value: Located<String>, key: String, allowed: [String]) {
        let suggestion = Suggestion.closest(to: value.value, in: allowed)
        reader.bag.add(
            .invalidValue,
            "'\(value.value)' is not a valid \(key)" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
            at: value.range, hint: "use one of: " + allowed.joined(separator: ", "))
    }

    // MARK: States

    mutating func lowerState(_ entry: SyntaxEntry) -> StateSyntax? {
        let name = Located(entry.key, entry.keyRange)
        guard case .mapping(let entries) = entry.value.kind else {
            reader.wrongType(entry.value, key: entry.key, expected: "a map with at least 'Type'")
            return nil
        }
        var state = StateSyntax(name: name, range: entry.value.range)
        state.keys = entries.map { Located($0.key, $0.keyRange) }
        for e in entries {
            let node = e.value
            let key = e.key
            switch key {
            case "Type":
                state.typeName = reader.string(node, key: key)
                if let typeName = state.typeName { state.type = resolveType(typeName) }
            case "Comment": state.comment = reader.string(node, key: key)
            case "Next": state.next = reader.string(node, key: key)
            case "Extensions": state.extensions = node
            case "ServiceName": state.serviceName = reader.string(node, key: key)
            case "ServiceMethod": state.serviceMethod = reader.string(node, key: key)
            case "ServiceType": state.serviceType = reader.string(node, key: key)
            case "ParameterTypes":
                state.parameterTypes = node
                reader.bag.add(.javaOnlyKey, "'ParameterTypes' is only used by the Java engine and is ignored",
                               at: e.keyRange)
            case "CompensateState": state.compensateState = reader.string(node, key: key)
            case "IsForCompensation": state.isForCompensation = reader.bool(node, key: key)
            case "IsForUpdate": state.isForUpdate = reader.bool(node, key: key)
            case "IsPersist": state.isPersist = reader.bool(node, key: key)
            case "IsAsync": state.isAsync = reader.bool(node, key: key)
            case "IsRetryPersistModeUpdate": state.isRetryPersistModeUpdate = reader.bool(node, key: key)
            case "IsCompensatePersistModeUpdate": state.isCompensatePersistModeUpdate = reader.bool(node, key: key)
            case "Input":
                if let items = reader.sequence(node, key: key, hint: "Input is a list with one element per argument: wrap the value in [ ]") {
                    state.input = Located(items, node.range)
                }
            case "Output":
                if let items = reader.mapping(node, key: key) { state.output = Located(items, node.range) }
            case "Status":
                if let rows = reader.mapping(node, key: key) {
                    var rules: [StatusRuleSyntax] = []
                    for row in rows {
                        guard let code = reader.string(row.value, key: "Status value") else { continue }
                        rules.append(StatusRuleSyntax(
                            condition: Located(row.key, row.keyRange),
                            conditionNode: SyntaxNode(.scalar(ScalarSyntax(text: row.key, style: .plain)), range: row.keyRange),
                            code: code))
                    }
                    state.status = Located(rules, node.range)
                }
            case "Retry":
                if let items = reader.sequence(node, key: key) {
                    state.retry = Located(items.compactMap { lowerRetry($0) }, node.range)
                }
            case "Catch":
                if let items = reader.sequence(node, key: key) {
                    state.catches = Located(items.compactMap { lowerCatch($0) }, node.range)
                }
            case "Loop": state.loop = lowerLoop(node)
            case "TimeoutSeconds": state.timeoutSeconds = reader.number(node, key: key)
            case "StateMachineName": state.stateMachineName = reader.string(node, key: key)
            case "ScriptType": state.scriptType = reader.string(node, key: key)
            case "ScriptContent": state.scriptContent = reader.string(node, key: key)
            case "Choices":
                if let items = reader.sequence(node, key: key) {
                    state.choices = Located(items.compactMap { lowerChoice($0) }, node.range)
                }
            case "Default": state.defaultNext = reader.string(node, key: key)
            case "ErrorCode": state.errorCode = reader.string(node, key: key)
            case "Message": state.message = reader.string(node, key: key)
            default: break
            }
        }
        let relevant = entries.filter { !StateKeys.stateIgnored.contains($0.key) }
        state.unknownKeys = reader.unknownKeys(relevant, known: StateKeys.allState, context: "state '\(name.value)'")
        if state.typeName == nil, !entries.contains(where: { $0.key == "Type" }) {
            reader.bag.add(.missingKey, "state '\(name.value)' has no 'Type'", at: name.range,
                           hint: "add `Type:` with one of " + StateType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let type = state.type {
            let allowed = StateKeys.allowed(for: type)
            for key in state.keys where StateKeys.allState.contains(key.value) && !allowed.contains(key.value) {
                reader.bag.add(.misplacedKey, "'\(key.value)' is not used by a \(type.rawValue) state and is ignored",
                               at: key.range)
            }
        }
        return state
    }

    mutating func resolveType(_ written: Located<String>) -> StateType? {
        if let type = StateType(rawValue: written.value) { return type }
        if StateType.proposalTypes.contains(written.value) {
            reader.bag.add(.unsupportedStateType,
                           "state type '\(written.value)' exists only in an unmerged Seata proposal and is not supported",
                           at: written.range,
                           hint: "express parallel work as separate sagas, or as steps in sequence")
            return nil
        }
        let names = StateType.allCases.map(\.rawValue)
        let suggestion = Suggestion.closest(to: written.value, in: names)
        reader.bag.add(.unknownStateType,
                       "unknown state type '\(written.value)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                       at: written.range, hint: suggestion == nil ? "use one of: " + names.joined(separator: ", ") : nil)
        return nil
    }

    mutating func lowerRetry(_ node: SyntaxNode) -> RetrySyntax? {
        guard let entries = reader.mapping(node, key: "Retry entry") else { return nil }
        var retry = RetrySyntax(range: node.range)
        retry.keys = entries.map { Located($0.key, $0.keyRange) }
        for e in entries {
            switch e.key {
            case "Exceptions": retry.exceptions = reader.stringList(e.value, key: e.key)
            case "IntervalSeconds": retry.intervalSeconds = reader.number(e.value, key: e.key)
            case "MaxAttempts": retry.maxAttempts = reader.integer(e.value, key: e.key)
            case "BackoffRate": retry.backoffRate = reader.number(e.value, key: e.key)
            case "MaxDelaySeconds": retry.maxDelaySeconds = reader.number(e.value, key: e.key)
            case "JitterStrategy": retry.jitterStrategy = reader.string(e.value, key: e.key)
            default: break
            }
        }
        _ = reader.unknownKeys(entries, known: StateKeys.retry, context: "a Retry entry")
        return retry
    }

    mutating func lowerCatch(_ node: SyntaxNode) -> CatchSyntax? {
        guard let entries = reader.mapping(node, key: "Catch entry") else { return nil }
        var entry = CatchSyntax(range: node.range)
        for e in entries {
            switch e.key {
            case "Exceptions": entry.exceptions = reader.stringList(e.value, key: e.key)
            case "Next": entry.next = reader.string(e.value, key: e.key)
            default: break
            }
        }
        _ = reader.unknownKeys(entries, known: StateKeys.catchEntry, context: "a Catch entry")
        if entry.next == nil, !entries.contains(where: { $0.key == "Next" }) {
            reader.bag.add(.missingKey, "this Catch entry has no 'Next'", at: SourceRange(at: node.range.start),
                           hint: "add `Next:` with the state to go to when one of its Exceptions is raised")
        }
        if entry.exceptions == nil, !entries.contains(where: { $0.key == "Exceptions" }) {
            reader.bag.add(.missingKey, "this Catch entry has no 'Exceptions'", at: SourceRange(at: node.range.start),
                           hint: "add `Exceptions: [Throwable]` to catch every error")
        }
        return entry
    }

    mutating func lowerChoice(_ node: SyntaxNode) -> ChoiceSyntax? {
        guard let entries = reader.mapping(node, key: "Choices entry") else { return nil }
        var choice = ChoiceSyntax(range: node.range)
        for e in entries {
            switch e.key {
            case "Expression":
                choice.expression = reader.string(e.value, key: e.key)
                choice.expressionNode = e.value
            case "Next": choice.next = reader.string(e.value, key: e.key)
            default: break
            }
        }
        _ = reader.unknownKeys(entries, known: StateKeys.choiceEntry, context: "a Choices entry")
        for required in ["Expression", "Next"] where !entries.contains(where: { $0.key == required }) {
            reader.bag.add(.missingKey, "this Choices entry has no '\(required)'", at: SourceRange(at: node.range.start))
        }
        return choice
    }

    mutating func lowerLoop(_ node: SyntaxNode) -> LoopSyntax? {
        guard let entries = reader.mapping(node, key: "Loop") else { return nil }
        var loop = LoopSyntax(range: node.range)
        for e in entries {
            switch e.key {
            case "Parallel": loop.parallel = reader.integer(e.value, key: e.key)
            case "Collection": loop.collection = reader.string(e.value, key: e.key)
            case "ElementVariableName": loop.elementVariableName = reader.string(e.value, key: e.key)
            case "ElementIndexName": loop.elementIndexName = reader.string(e.value, key: e.key)
            case "CompletionCondition": loop.completionCondition = reader.string(e.value, key: e.key)
            default: break
            }
        }
        _ = reader.unknownKeys(entries, known: StateKeys.loop, context: "Loop")
        return loop
    }

    // MARK: Services

    mutating func lowerService(_ entry: SyntaxEntry) -> ServiceBindingSyntax? {
        guard let entries = reader.mapping(entry.value, key: entry.key) else { return nil }
        var binding = ServiceBindingSyntax(name: Located(entry.key, entry.keyRange), range: entry.value.range)
        binding.keys = entries.map { Located($0.key, $0.keyRange) }
        for e in entries {
            switch e.key {
            case "Type": binding.type = reader.string(e.value, key: e.key)
            case "URL": binding.url = reader.string(e.value, key: e.key)
            case "Command":
                if let list = reader.stringList(e.value, key: e.key) {
                    binding.command = Located(list.value.map(\.value), list.range)
                }
            case "TimeoutSeconds": binding.timeoutSeconds = reader.number(e.value, key: e.key)
            case "Headers":
                if let headers = reader.mapping(e.value, key: e.key) {
                    for h in headers {
                        if let value = reader.string(h.value, key: h.key) {
                            binding.headers.append((Located(h.key, h.keyRange), value))
                        }
                    }
                }
            case "CircuitBreaker":
                if let cb = reader.mapping(e.value, key: e.key) {
                    var breaker = CircuitBreakerSyntax(range: e.value.range)
                    for c in cb {
                        switch c.key {
                        case "FailureThreshold": breaker.failureThreshold = reader.integer(c.value, key: c.key)
                        case "OpenSeconds": breaker.openSeconds = reader.number(c.value, key: c.key)
                        default: break
                        }
                    }
                    _ = reader.unknownKeys(cb, known: StateKeys.circuitBreaker, context: "CircuitBreaker")
                    binding.circuitBreaker = breaker
                }
            default: break
            }
        }
        binding.unknownKeys = reader.unknownKeys(entries, known: StateKeys.service, context: "service '\(entry.key)'")
        return binding
    }
}
