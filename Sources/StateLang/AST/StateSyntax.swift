/// One state as written. A flat record of every property the language defines; which of them
/// a state type uses is the validator's business (a misplaced key is a warning, not lost).
public struct StateSyntax: Sendable {
    public var name: Located<String>
    /// The `Type` as written; `type` is its resolved value when it names one of the eight types.
    public var typeName: Located<String>?
    public var type: StateType?
    public var comment: Located<String>?
    public var next: Located<String>?
    public var extensions: SyntaxNode?

    // Task properties (ServiceTask, ScriptTask, SubStateMachine, CompensateSubMachine).
    public var serviceName: Located<String>?
    public var serviceMethod: Located<String>?
    public var serviceType: Located<String>?
    public var parameterTypes: SyntaxNode?
    public var compensateState: Located<String>?
    public var isForCompensation: Located<Bool>?
    public var isForUpdate: Located<Bool>?
    public var isPersist: Located<Bool>?
    public var isAsync: Located<Bool>?
    public var isRetryPersistModeUpdate: Located<Bool>?
    public var isCompensatePersistModeUpdate: Located<Bool>?
    /// `Input`: one node per argument; leaves starting with `$` are expressions.
    public var input: Located<[SyntaxNode]>?
    /// `Output`: key → value template evaluated against the result.
    public var output: Located<[SyntaxEntry]>?
    /// `Status`: condition → code, in file order (first match wins).
    public var status: Located<[StatusRuleSyntax]>?
    public var retry: Located<[RetrySyntax]>?
    public var catches: Located<[CatchSyntax]>?
    public var loop: LoopSyntax?
    /// Extension: a deadline for one call, in seconds.
    public var timeoutSeconds: Located<Double>?
    public var stateMachineName: Located<String>?
    public var scriptType: Located<String>?
    public var scriptContent: Located<String>?

    // Choice.
    public var choices: Located<[ChoiceSyntax]>?
    public var defaultNext: Located<String>?

    // Fail.
    public var errorCode: Located<String>?
    public var message: Located<String>?

    /// Every key present on the state, with its range, in file order.
    public var keys: [Located<String>] = []
    /// Keys the state language does not define.
    public var unknownKeys: [Located<String>] = []
    /// The whole state mapping.
    public var range: SourceRange

    public init(name: Located<String>, range: SourceRange) {
        self.name = name
        self.range = range
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
