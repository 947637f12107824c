/// One state as written. A flat record of every property the language defines; which of them
/// a state type uses is the validator's business (a misplaced key is a warning, not lost).
public struct StateSyntax: Sendable {
    /// Every field, in one copy-on-write object: the validator's rules and the compiler walk
    /// every state, and copying ~35 fields (a retain each) per state per rule was ~10 % of
    /// `sagactl validate` on a 1,000-state workflow.
    struct Fields: Sendable {
        var name: Located<String>
        var typeName: Located<String>? = nil
        var type: StateType? = nil
        var comment: Located<String>? = nil
        var next: Located<String>? = nil
        var extensions: SyntaxNode? = nil
        var serviceName: Located<String>? = nil
        var serviceMethod: Located<String>? = nil
        var serviceType: Located<String>? = nil
        var parameterTypes: SyntaxNode? = nil
        var compensateState: Located<String>? = nil
        var isForCompensation: Located<Bool>? = nil
        var isForUpdate: Located<Bool>? = nil
        var isPersist: Located<Bool>? = nil
        var isAsync: Located<Bool>? = nil
        var isRetryPersistModeUpdate: Located<Bool>? = nil
        var isCompensatePersistModeUpdate: Located<Bool>? = nil
        var input: Located<[SyntaxNode]>? = nil
        var output: Located<[SyntaxEntry]>? = nil
        var status: Located<[StatusRuleSyntax]>? = nil
        var retry: Located<[RetrySyntax]>? = nil
        var catches: Located<[CatchSyntax]>? = nil
        var loop: LoopSyntax? = nil
        var timeoutSeconds: Located<Double>? = nil
        var stateMachineName: Located<String>? = nil
        var scriptType: Located<String>? = nil
        var scriptContent: Located<String>? = nil
        var choices: Located<[ChoiceSyntax]>? = nil
        var defaultNext: Located<String>? = nil
        var errorCode: Located<String>? = nil
        var message: Located<String>? = nil
        var keys: [Located<String>] = []
        var unknownKeys: [Located<String>] = []
        var range: SourceRange
    }

    private var fields: CopyOnWrite<Fields>

    public var name: Located<String> {
        get { fields.value.name }
        _modify { yield &fields.value.name }
    }
    /// The `Type` as written; `type` is its resolved value when it names one of the eight types.
    public var typeName: Located<String>? {
        get { fields.value.typeName }
        _modify { yield &fields.value.typeName }
    }
    public var type: StateType? {
        get { fields.value.type }
        _modify { yield &fields.value.type }
    }
    public var comment: Located<String>? {
        get { fields.value.comment }
        _modify { yield &fields.value.comment }
    }
    public var next: Located<String>? {
        get { fields.value.next }
        _modify { yield &fields.value.next }
    }
    public var extensions: SyntaxNode? {
        get { fields.value.extensions }
        _modify { yield &fields.value.extensions }
    }

    // Task properties (ServiceTask, ScriptTask, SubStateMachine, CompensateSubMachine).
    public var serviceName: Located<String>? {
        get { fields.value.serviceName }
        _modify { yield &fields.value.serviceName }
    }
    public var serviceMethod: Located<String>? {
        get { fields.value.serviceMethod }
        _modify { yield &fields.value.serviceMethod }
    }
    public var serviceType: Located<String>? {
        get { fields.value.serviceType }
        _modify { yield &fields.value.serviceType }
    }
    public var parameterTypes: SyntaxNode? {
        get { fields.value.parameterTypes }
        _modify { yield &fields.value.parameterTypes }
    }
    public var compensateState: Located<String>? {
        get { fields.value.compensateState }
        _modify { yield &fields.value.compensateState }
    }
    public var isForCompensation: Located<Bool>? {
        get { fields.value.isForCompensation }
        _modify { yield &fields.value.isForCompensation }
    }
    public var isForUpdate: Located<Bool>? {
        get { fields.value.isForUpdate }
        _modify { yield &fields.value.isForUpdate }
    }
    public var isPersist: Located<Bool>? {
        get { fields.value.isPersist }
        _modify { yield &fields.value.isPersist }
    }
    public var isAsync: Located<Bool>? {
        get { fields.value.isAsync }
        _modify { yield &fields.value.isAsync }
    }
    public var isRetryPersistModeUpdate: Located<Bool>? {
        get { fields.value.isRetryPersistModeUpdate }
        _modify { yield &fields.value.isRetryPersistModeUpdate }
    }
    public var isCompensatePersistModeUpdate: Located<Bool>? {
        get { fields.value.isCompensatePersistModeUpdate }
        _modify { yield &fields.value.isCompensatePersistModeUpdate }
    }
    /// `Input`: one node per argument; leaves starting with `$` are expressions.
    public var input: Located<[SyntaxNode]>? {
        get { fields.value.input }
        _modify { yield &fields.value.input }
    }
    /// `Output`: key → value template evaluated against the result.
    public var output: Located<[SyntaxEntry]>? {
        get { fields.value.output }
        _modify { yield &fields.value.output }
    }
    /// `Status`: condition → code, in file order (first match wins).
    public var status: Located<[StatusRuleSyntax]>? {
        get { fields.value.status }
        _modify { yield &fields.value.status }
    }
    public var retry: Located<[RetrySyntax]>? {
        get { fields.value.retry }
        _modify { yield &fields.value.retry }
    }
    public var catches: Located<[CatchSyntax]>? {
        get { fields.value.catches }
        _modify { yield &fields.value.catches }
    }
    public var loop: LoopSyntax? {
        get { fields.value.loop }
        _modify { yield &fields.value.loop }
    }
    /// Extension: a deadline for one call, in seconds.
    public var timeoutSeconds: Located<Double>? {
        get { fields.value.timeoutSeconds }
        _modify { yield &fields.value.timeoutSeconds }
    }
    public var stateMachineName: Located<String>? {
        get { fields.value.stateMachineName }
        _modify { yield &fields.value.stateMachineName }
    }
    public var scriptType: Located<String>? {
        get { fields.value.scriptType }
        _modify { yield &fields.value.scriptType }
    }
    public var scriptContent: Located<String>? {
        get { fields.value.scriptContent }
        _modify { yield &fields.value.scriptContent }
    }

    // Choice.
    public var choices: Located<[ChoiceSyntax]>? {
        get { fields.value.choices }
        _modify { yield &fields.value.choices }
    }
    public var defaultNext: Located<String>? {
        get { fields.value.defaultNext }
        _modify { yield &fields.value.defaultNext }
    }

    // Fail.
    public var errorCode: Located<String>? {
        get { fields.value.errorCode }
        _modify { yield &fields.value.errorCode }
    }
    public var message: Located<String>? {
        get { fields.value.message }
        _modify { yield &fields.value.message }
    }

    /// Every key present on the state, with its range, in file order.
    public var keys: [Located<String>] {
        get { fields.value.keys }
        _modify { yield &fields.value.keys }
    }
    /// Keys the state language does not define.
    public var unknownKeys: [Located<String>] {
        get { fields.value.unknownKeys }
        _modify { yield &fields.value.unknownKeys }
    }
    /// The whole state mapping.
    public var range: SourceRange {
        get { fields.value.range }
        _modify { yield &fields.value.range }
    }

    public init(name: Located<String>, range: SourceRange) {
        fields = CopyOnWrite(Fields(name: name, range: range))
    }

    public func keyRange(_ key: String) -> SourceRange? { keys.first { $0.value == key }?.range }

    /// `IsForUpdate` as Seata reads it: true when written, or when `CompensateState` is set.
    public var isUpdate: Bool { (isForUpdate?.value ?? false) || compensateState != nil }
}

/// One `condition: code` row of a `Status` mapping.
public struct StatusRuleSyntax: Sendable {
    public var condition: Located<String>
    /// The condition's scalar node, to map expression columns back to the file.
    public var conditionNode: SyntaxNode
    public var code: Located<String>
}

/// One entry of `Retry`.
public struct RetrySyntax: Sendable {
    public var exceptions: Located<[Located<String>]>?
    public var intervalSeconds: Located<Double>?
    public var maxAttempts: Located<Int>?
    public var backoffRate: Located<Double>?
    public var maxDelaySeconds: Located<Double>?
    public var jitterStrategy: Located<String>?
    /// Every key written in the entry, in file order (a key whose value had the wrong type is
    /// listed here but its property is nil).
    public var keys: [Located<String>] = []
    public var range: SourceRange

    public init(range: SourceRange) { self.range = range }
}

/// One entry of `Catch`.
public struct CatchSyntax: Sendable {
    public var exceptions: Located<[Located<String>]>?
    public var next: Located<String>?
    public var range: SourceRange

    public init(range: SourceRange) { self.range = range }
}

/// One entry of a Choice's `Choices`.
public struct ChoiceSyntax: Sendable {
    public var expression: Located<String>?
    public var expressionNode: SyntaxNode?
    public var next: Located<String>?
    public var range: SourceRange

    public init(range: SourceRange) { self.range = range }
}

/// `Loop` (multi-instance execution). Parsed and kept; execution is not supported yet.
public struct LoopSyntax: Sendable {
    public var parallel: Located<Int>?
    public var collection: Located<String>?
    public var elementVariableName: Located<String>?
    public var elementIndexName: Located<String>?
    public var completionCondition: Located<String>?
    public var range: SourceRange

    public init(range: SourceRange) { self.range = range }
}
