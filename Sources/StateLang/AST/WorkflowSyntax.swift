/// A workflow file as written: every property with its source range, unknown keys kept.
/// Produced by `WorkflowLowering`; checked by the validator; turned into a `Workflow` graph by
/// the compiler.
public struct WorkflowSyntax: Sendable {
    public var name: Located<String>?
    public var comment: Located<String>?
    public var version: Located<String>?
    public var startState: Located<String>?
    /// States in file order. Names are unique (duplicates are diagnosed by the reader).
    public var states: [StateSyntax] = []
    /// Where the `States` mapping is, for diagnostics about the whole set.
    public var statesRange: SourceRange?
    public var recoverStrategy: Located<RecoverStrategy>?
    public var isPersist: Located<Bool>?
    public var isRetryPersistModeUpdate: Located<Bool>?
    public var isCompensatePersistModeUpdate: Located<Bool>?
    /// `Services` bindings (an extension to Seata), in file order.
    public var services: [ServiceBindingSyntax] = []
    public var servicesRange: SourceRange?
    /// Keys the state language does not define, kept for the record.
    public var unknownKeys: [Located<String>] = []
    /// The whole document.
    public var range: SourceRange
    /// True when the file was in the Seata designer's `nodes`/`edges` format and converted.
    public var isDesignerFormat = false
    /// SHA-256 of the document's canonical text (see `SyntaxNode.canonicalText`): equal for
    /// files that differ only in formatting, comments or JSON-vs-YAML spelling.
    public var fingerprint = ""

    public init(range: SourceRange) { self.range = range }

    public func state(named name: String) -> StateSyntax? { states.first { $0.name.value == name } }
}

/// A binding of a `ServiceName` to a way of calling it (DESIGN §3.5).
public struct ServiceBindingSyntax: Sendable {
    public var name: Located<String>
    /// `http`, `exec` or `local`.
    public var type: Located<String>?
    public var url: Located<String>?
    public var command: Located<[String]>?
    public var timeoutSeconds: Located<Double>?
    public var headers: [(name: Located<String>, value: Located<String>)] = []
    public var circuitBreaker: CircuitBreakerSyntax?
    public var unknownKeys: [Located<String>] = []
    /// Every key written in the binding, in file order (a key whose value had the wrong type
    /// is listed here but its property is nil).
    public var keys: [Located<String>] = []
    public var range: SourceRange

    public init(name: Located<String>, range: SourceRange) {
        self.name = name
        self.range = range
    }
}

/// `CircuitBreaker: { FailureThreshold: 5, OpenSeconds: 30 }` in a service binding.
public struct CircuitBreakerSyntax: Sendable {
    public var failureThreshold: Located<Int>?
    public var openSeconds: Located<Double>?
    public var range: SourceRange

    public init(range: SourceRange) { self.range = range }
}
