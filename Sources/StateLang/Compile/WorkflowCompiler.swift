/// Turns a validated `WorkflowSyntax` into a `Workflow`: numbers the states, resolves names,
/// fills defaults, parses every expression (reporting SL05xx at the exact column) and types the
/// edges.
public struct WorkflowCompiler {
    private var bag = DiagnosticBag()
    private let source: SourceFile?
    private var index: [String: StateID] = [:]

    init(source: SourceFile?) { self.source = source }

    /// Compiles; returns nil when the syntax cannot be compiled (the validator explains why).
    public static func compile(_ syntax: WorkflowSyntax, source: SourceFile?) -> (Workflow?, [Diagnostic]) {
        var compiler = WorkflowCompiler(source: source)
        let workflow = compiler.compile(syntax)
        return (compiler.bag.hasErrors ? nil : workflow, compiler.bag.diagnostics)
    }

    mutating func compile(_ syntax: WorkflowSyntax) -> Workflow? {
        for (n, state) in syntax.states.enumerated() { index[state.name.value] = n }
        let compensationTargets = Set(syntax.states.compactMap { $0.compensateState?.value })
        var states: [CompiledState] = []
        var edges: [Edge] = []
        var complete = true
        for (id, state) in syntax.states.enumerated() {
            guard let kind = compileKind(state) else {
                complete = false
                continue
            }
            let next = state.next.flatMap { index[$0.value] }
            let isCompensation = (state.isForCompensation?.value ?? false) || compensationTargets.contains(state.name.value)
            let compiled = CompiledState(id: id, name: state.name.value, kind: kind, next: next,
                                         isForCompensation: isCompensation, range: state.name.range)
            states.append(compiled)
            edges += Self.edges(of: compiled)
        }
        guard complete, let startName = syntax.startState?.value, let start = index[startName] else { return nil }
        var services: [String: ServiceBinding] = [:]
        for binding in syntax.services {
            if let compiled = Self.compileBinding(binding) { services[binding.name.value] = compiled }
        }
        return Workflow(
            name: syntax.name?.value ?? "", version: syntax.version?.value, fingerprint: syntax.fingerprint,
            path: source?.path ?? "", startState: start, states: states, edges: edges,
            recoverStrategy: syntax.recoverStrategy?.value ?? .compensate, services: services)
    }

    public static func compileBinding(_ binding: ServiceBindingSyntax) -> ServiceBinding? {
        guard let kind = ServiceBinding.Kind(rawValue: binding.type?.value ?? "local") else { return nil }
        var headers: [String: String] = [:]
        for (name, value) in binding.headers { headers[name.value] = value.value }
        var breaker: CircuitBreakerPolicy?
        if let cb = binding.circuitBreaker {
            breaker = CircuitBreakerPolicy(failureThreshold: cb.failureThreshold?.value ?? 5,
                                           openSeconds: cb.openSeconds?.value ?? 30)
        }
        return ServiceBinding(name: binding.name.value, kind: kind, url: binding.url?.value,
                              command: binding.command?.value, timeoutSeconds: binding.timeoutSeconds?.value,
                              headers: headers, circuitBreaker: breaker)
    }

    static func edges(of state: CompiledState) -> [Edge] {
        var edges: [Edge] = []
        switch state.kind {
        case .choice(let choice):
            for branch in choice.branches { edges.append(Edge(from: state.id, to: branch.next, kind: .choice(branch.text))) }
            if let d = choice.defaultNext { edges.append(Edge(from: state.id, to: d, kind: .defaultChoice)) }
            return edges
        default: break
        }
        if let next = state.next { edges.append(Edge(from: state.id, to: next, kind: .next)) }
        if let task = state.task {
            for route in task.catches { edges.append(Edge(from: state.id, to: route.next, kind: .catch(route.exceptions))) }
            if let c = task.compensateState { edges.append(Edge(from: state.id, to: c, kind: .compensate)) }
        }
        return edges
    }

    // MARK: States

    mutating func compileKind(_ state: StateSyntax) -> StateKind? {
        guard let type = state.type else { return nil }
        switch type {
        case .serviceTask:
            guard let task = compileTask(state) else { return nil }
            return .serviceTask(ServiceTaskSpec(
                task: task, serviceName: state.serviceName?.value ?? "", serviceMethod: state.serviceMethod?.value ?? "",
                serviceType: state.serviceType?.value, isAsync: state.isAsync?.value ?? false))
        case .scriptTask:
            // The script is parsed even when the task part failed, so that its errors are
            // reported together with the others.
            let task = compileTask(state)
            let scriptType = state.scriptType?.value ?? "groovy"
            var script: Expr?
            if scriptType == "expression", let content = state.scriptContent {
                script = parseExpression(content.value, at: content.range, isKey: false)
                if script == nil { return nil }
            }
            guard let task else { return nil }
            return .scriptTask(ScriptTaskSpec(task: task, script: script, scriptType: scriptType))
        case .subStateMachine:
            guard let task = compileTask(state) else { return nil }
            return .subStateMachine(SubMachineSpec(task: task, machineName: state.stateMachineName?.value ?? ""))
        case .compensateSubMachine:
            guard let task = compileTask(state) else { return nil }
            return .compensateSubMachine(task)
        case .choice:
            var branches: [ChoiceBranch] = []
            var ok = true
            for choice in state.choices?.value ?? [] {
                // Parse the expression before looking at `Next`: an entry whose `Next` is
                // missing or unknown (reported by the loader and the validator) still gets
                // its expression's errors reported.
                let condition = choice.expression.flatMap { parseCondition($0.value, at: $0.range, isKey: false) }
                guard let expression = choice.expression, let condition,
                      let nextName = choice.next, let next = index[nextName.value]
                else { ok = false; continue }
                branches.append(ChoiceBranch(condition: condition, text: expression.value, next: next, range: expression.range))
            }
            let defaultNext = state.defaultNext.flatMap { index[$0.value] }
            if state.defaultNext != nil, defaultNext == nil { ok = false }
            return ok ? .choice(ChoiceSpec(branches: branches, defaultNext: defaultNext)) : nil
        case .succeed: return .succeed
        case .fail: return .fail(FailSpec(errorCode: state.errorCode?.value, message: state.message?.value))
        case .compensationTrigger: return .compensationTrigger
        }
    }

    mutating func compileTask(_ state: StateSyntax) -> TaskSpec? {
        var ok = true
        var input: [ValueTemplate] = []
        for node in state.input?.value ?? [] {
            if let t = template(node) { input.append(t) } else { ok = false }
        }
        var output: [OutputMapping] = []
        for entry in state.output?.value ?? [] {
            if let t = template(entry.value) { output.append(OutputMapping(key: entry.key, value: t)) } else { ok = false }
        }
        var status: [StatusRule] = []
        for rule in state.status?.value ?? [] {
            // The condition is parsed even when the code is wrong (the validator reports that).
            let condition = parseCondition(rule.condition.value, at: rule.condition.range, isKey: true)
            guard let code = StatusCode(rawValue: rule.code.value), let condition else { ok = false; continue }
            status.append(StatusRule(condition: condition, text: rule.condition.value, status: code, range: rule.condition.range))
        }
        var retry: [RetryPolicy] = []
        for entry in state.retry?.value ?? [] {
            retry.append(RetryPolicy(
                exceptions: entry.exceptions?.value.map(\.value) ?? [],
                intervalSeconds: entry.intervalSeconds?.value ?? 1,
                maxAttempts: entry.maxAttempts?.value ?? 3,
                backoffRate: entry.backoffRate?.value ?? 1,
                maxDelaySeconds: entry.maxDelaySeconds?.value,
                jitter: RetryPolicy.Jitter(rawValue: entry.jitterStrategy?.value ?? "NONE") ?? .none))
        }
        var catches: [CatchRoute] = []
        for entry in state.catches?.value ?? [] {
            guard let nextName = entry.next, let next = index[nextName.value] else { ok = false; continue }
            catches.append(CatchRoute(exceptions: entry.exceptions?.value.map(\.value) ?? ["Throwable"], next: next, range: entry.range))
        }
        // A CompensateState naming no state is a warning (SL0104, decision 0006): the state
        // then has no compensation, and compensating it stops in needs-intervention.
        let compensate = state.compensateState.flatMap { index[$0.value] }
        guard ok else { return nil }
        return TaskSpec(input: input, output: output, status: status, retry: retry, catches: catches,
                        compensateState: compensate, isForUpdate: state.isUpdate,
                        isPersist: state.isPersist?.value ?? true, timeoutSeconds: state.timeoutSeconds?.value)
    }

    // MARK: Expressions

    /// Builds a template from an Input/Output node; string leaves starting with `$` are parsed.
    mutating func template(_ root: SyntaxNode) -> ValueTemplate? {
        switch root.kind {
        case .scalar(let scalar):
            if case .double(let d) = scalar.value, !d.isFinite {
                // JSON has no infinity or NaN: the value would silently reach the service as null.
                bag.add(.wrongType, "'\(scalar.text)' is not a finite number, so it cannot be passed as JSON",
                        at: root.range, hint: "write a number within ±1.8e308, or quote it to pass it as text")
                return nil
            }
            guard case .string(let text) = scalar.value, text.hasPrefix("$") else { return .literal(scalar.value) }
            let start = contentStart(root.range, style: scalar.style)
            do {
                let leaf = try LeafExpression.parse(text)
                if case .exception(_, true) = leaf {
                    bag.add(.lowercaseExceptionExpression, "'$exception{' is accepted; the correct spelling is '$Exception{'",
                            at: SourceRange(at: start, length: "$exception{".count))
                }
                return .expression(leaf, text: text, range: SourceRange(at: start, length: text.unicodeScalars.count))
            } catch {
                report(error, text: text, start: start)
                return nil
            }
        case .sequence(let items):
            var out: [ValueTemplate] = []
            var ok = true
            for item in items { if let t = template(item) { out.append(t) } else { ok = false } }
            return ok ? .array(out) : nil
        case .mapping(let entries):
            var out: [(key: String, value: ValueTemplate)] = []
            var ok = true
            for entry in entries { if let t = template(entry.value) { out.append((entry.key, t)) } else { ok = false } }
            return ok ? .object(out) : nil
        }
    }

    mutating func parseCondition(_ text: String, at range: SourceRange, isKey: Bool) -> Condition? {
        let start = contentStart(range, style: nil)
        do {
            let condition = try Condition.parse(text)
            if case .exception(_, true) = condition {
                bag.add(.lowercaseExceptionExpression, "'$exception{' is accepted; the correct spelling is '$Exception{'",
                        at: SourceRange(at: start, length: 10))
            }
            return condition
        } catch {
            report(error, text: text, start: start)
            return nil
        }
    }

    mutating func parseExpression(_ text: String, at range: SourceRange, isKey: Bool) -> Expr? {
        let start = contentStart(range, style: nil)
        do {
            return try ExpressionParser.parse(text)
        } catch {
            report(error, text: text, start: start)
            return nil
        }
    }

    mutating func report(_ error: ExpressionError, text: String, start: SourcePosition) {
        if isWrittenAsIs(text, at: start) {
            let range = SourceRange(at: SourcePosition(line: start.line, column: start.column + error.offset),
                                    length: max(error.length, 1))
            bag.add(error.code, error.message, at: range, notes: [DiagnosticNote("in the expression '\(text)'")])
        } else {
            // A scalar folded over several lines, or with escapes, does not map column for
            // column onto the file: point at its start and say where in the text.
            bag.add(error.code, error.message, at: SourceRange(at: start),
                    notes: [DiagnosticNote("at character \(error.offset + 1) of the expression '\(text)'")])
        }
    }

    /// Whether `text` stands in the file exactly as it is, on one line, from `start`. Without
    /// the file's text (a caller that compiles syntax alone), assume it does.
    func isWrittenAsIs(_ text: String, at start: SourcePosition) -> Bool {
        guard let source else { return true }
        guard let line = source.line(start.line) else { return false }
        let written = line.unicodeScalars.dropFirst(start.column - 1)
        return written.starts(with: text.unicodeScalars)
    }

    /// Where a scalar's text starts: one column after an opening quote.
    func contentStart(_ range: SourceRange, style: ScalarStyle?) -> SourcePosition {
        var quoted = style?.isQuoted ?? false
        if style == nil, let line = source?.line(range.start.line) {
            let scalars = Array(line.unicodeScalars)
            let i = range.start.column - 1
            if i >= 0, i < scalars.count, scalars[i] == "\"" || scalars[i] == "'" { quoted = true }
        }
        return SourcePosition(line: range.start.line, column: range.start.column + (quoted ? 1 : 0))
    }
}
