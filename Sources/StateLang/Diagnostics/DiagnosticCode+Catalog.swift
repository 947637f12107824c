/// Every diagnostic the front end can produce. Ids are stable and never reused; each one is
/// documented in `docs/diagnostics.md` (a test keeps the two in step).
extension DiagnosticCode {
    // MARK: SL00xx: reading the file
    public static let unreadableFile = DiagnosticCode("SL0001", "unreadable-file", .error,
        "The file cannot be read: it is missing, a directory, or not readable.")
    public static let notText = DiagnosticCode("SL0002", "not-text", .error,
        "The file is not UTF-8 text (binary data, or another encoding).")
    public static let emptyDocument = DiagnosticCode("SL0003", "empty-document", .error,
        "The file holds no document.")
    public static let syntaxError = DiagnosticCode("SL0004", "syntax-error", .error,
        "The file is not well-formed YAML or JSON.")
    public static let duplicateKey = DiagnosticCode("SL0005", "duplicate-key", .error,
        "A key appears twice in one mapping; a note points at the first one.")
    public static let nestingTooDeep = DiagnosticCode("SL0006", "nesting-too-deep", .error,
        "Values are nested deeper than the loader accepts.")
    public static let multipleDocuments = DiagnosticCode("SL0007", "multiple-documents", .error,
        "The file holds more than one YAML document; a workflow is one document.")
    public static let nonStringKey = DiagnosticCode("SL0008", "non-string-key", .error,
        "A mapping key is a list or a map; keys must be plain strings.")
    public static let fileTooLarge = DiagnosticCode("SL0009", "file-too-large", .error,
        "The file is larger than the loader accepts.")
    public static let aliasExpansion = DiagnosticCode("SL0010", "alias-expansion-too-large", .error,
        "YAML aliases expand to more nodes, or more text, than the loader accepts.")

    // MARK: SL01xx: names and references
    public static let missingStartState = DiagnosticCode("SL0101", "missing-start-state", .error,
        "The document has no `StartState`.")
    public static let unknownStartState = DiagnosticCode("SL0102", "unknown-start-state", .error,
        "`StartState` names a state that does not exist.")
    public static let unknownNextState = DiagnosticCode("SL0103", "unknown-next-state", .error,
        "A `Next`, `Catch[].Next`, `Choices[].Next` or `Default` names a state that does not exist.")
    public static let unknownCompensateState = DiagnosticCode("SL0104", "unknown-compensate-state", .warning,
        "`CompensateState` names a state that does not exist; compensating that state will stop there.")
    public static let noStates = DiagnosticCode("SL0105", "no-states", .error,
        "The document has no `States`, or the mapping is empty.")
    public static let subMachineSelfReference = DiagnosticCode("SL0106", "sub-machine-self-reference", .error,
        "A `SubStateMachine` names the machine it belongs to.")
    public static let subMachineCycle = DiagnosticCode("SL0107", "sub-machine-cycle", .error,
        "`SubStateMachine` states of workflows validated together start each other in a cycle.")

    // MARK: SL02xx: document structure
    public static let wrongType = DiagnosticCode("SL0201", "wrong-type", .error,
        "A value has the wrong type (a string where a list is expected, `MaxAttempts: three`).")
    public static let missingKey = DiagnosticCode("SL0202", "missing-key", .error,
        "A required key is missing (`Type` on a state, `Next` on a `Catch` entry).")
    public static let unknownKey = DiagnosticCode("SL0203", "unknown-key", .warning,
        "A key that the state language does not define; it is kept and ignored.")
    public static let unknownStateType = DiagnosticCode("SL0204", "unknown-state-type", .error,
        "A state's `Type` is not one of the eight state types.")
    public static let unsupportedStateType = DiagnosticCode("SL0205", "unsupported-state-type", .error,
        "A state type from an unmerged Seata proposal (`Fork`, `Join`, `Parallel`).")
    public static let invalidValue = DiagnosticCode("SL0206", "invalid-value", .error,
        "A value outside the allowed set (`RecoverStrategy: Backward`, `JitterStrategy: HALF`).")
    public static let javaOnlyKey = DiagnosticCode("SL0207", "java-only-key", .note,
        "A key that only the Java engine uses (`ParameterTypes`); accepted and ignored.")
    public static let misplacedKey = DiagnosticCode("SL0208", "misplaced-key", .warning,
        "A key that this state type does not use (`Choices` on a `ServiceTask`).")
    public static let designerFormat = DiagnosticCode("SL0209", "designer-format", .note,
        "The file is in the Seata designer's `nodes`/`edges` format and was converted.")
    public static let loopNotSupported = DiagnosticCode("SL0210", "loop-not-supported", .error,
        "`Loop` (multi-instance execution) is not supported yet.")
    public static let designerInvalid = DiagnosticCode("SL0211", "designer-invalid", .error,
        "A designer-format node or edge that cannot be converted (no `stateId`, an edge to an unknown node, a `Catch` node on no task).")

    // MARK: SL03xx: flow
    public static let cycleWithoutExit = DiagnosticCode("SL0301", "cycle-without-exit", .error,
        "A group of states that can only reach each other: an instance entering it never ends.")
    public static let unreachableState = DiagnosticCode("SL0302", "unreachable-state", .warning,
        "No path from `StartState` (forward or by compensation) reaches this state.")
    public static let deadEndState = DiagnosticCode("SL0303", "dead-end-state", .warning,
        "A forward state that neither ends the instance nor continues (no `Next`, not Succeed/Fail).")
    public static let compensationOnForwardPath = DiagnosticCode("SL0304", "compensation-on-forward-path", .warning,
        "A compensation state is also reachable on the forward path.")
    public static let updateWithoutCompensationRoute = DiagnosticCode("SL0305", "update-without-compensation-route", .note,
        "An update state whose failure has no route to a `CompensationTrigger`.")
    public static let choiceNextIgnored = DiagnosticCode("SL0306", "choice-next-ignored", .warning,
        "A `Next` on a `Choice` state; sagactl ignores it (Seata lets it override the branch).")
    public static let choiceWithoutDefault = DiagnosticCode("SL0307", "choice-without-default", .note,
        "A `Choice` without `Default` fails the instance when no branch matches.")
    public static let updateWithoutCompensateState = DiagnosticCode("SL0308", "update-without-compensate-state", .warning,
        "An `IsForUpdate` state without `CompensateState`: compensation cannot undo it and stops there.")
    public static let emptyChoice = DiagnosticCode("SL0309", "empty-choice", .error,
        "A `Choice` with no `Choices` entries.")
    public static let compensationStateNotTask = DiagnosticCode("SL0310", "compensate-state-not-task", .error,
        "`CompensateState` names a state that cannot run as a compensation (a Choice, Succeed, Fail or trigger).")

    // MARK: SL04xx: values
    public static let invalidStatusCode = DiagnosticCode("SL0401", "invalid-status-code", .error,
        "A `Status` value other than `SU`, `FA` or `UN`.")
    public static let retryOutOfRange = DiagnosticCode("SL0402", "retry-out-of-range", .error,
        "A `Retry` field outside its range (negative interval, `BackoffRate` below 1, ...).")
    public static let javaExceptionName = DiagnosticCode("SL0403", "java-exception-name", .note,
        "A Java class name in `Exceptions`, mapped to sagactl's error names.")
    public static let unknownErrorName = DiagnosticCode("SL0404", "unknown-error-name", .warning,
        "An error name in `Exceptions` that no action can produce.")
    public static let unboundService = DiagnosticCode("SL0405", "unbound-service", .warning,
        "A `ServiceName` with no binding in `Services`; running the state needs one (or `--services`).")
    public static let unsupportedScriptType = DiagnosticCode("SL0406", "unsupported-script-type", .error,
        "A `ScriptTask` whose `ScriptType` is not `expression`.")
    public static let timeoutOutOfRange = DiagnosticCode("SL0407", "timeout-out-of-range", .error,
        "`TimeoutSeconds` is zero or negative.")
    public static let invalidServiceBinding = DiagnosticCode("SL0408", "invalid-service-binding", .error,
        "A `Services` entry with an unknown `Type` or without the key its type needs.")
    public static let statusIgnoredOnAsync = DiagnosticCode("SL0409", "status-ignored-on-async", .warning,
        "`Status` on an `IsAsync` state is never applied.")
    public static let retryMaxAttemptsDefaulted = DiagnosticCode("SL0410", "retry-max-attempts-defaulted", .note,
        "A `Retry` entry without `MaxAttempts` (required by Seata); sagactl uses 3.")

    // MARK: SL05xx: expressions
    public static let expressionSyntax = DiagnosticCode("SL0501", "expression-syntax", .error,
        "An expression that does not parse.")
    public static let unsupportedExpression = DiagnosticCode("SL0502", "unsupported-expression", .error,
        "An expression construct outside the supported part of SpEL (method calls, `new`, bean refs).")
    public static let lowercaseExceptionExpression = DiagnosticCode("SL0503", "lowercase-exception-expression", .warning,
        "`$exception{...}` is accepted, but the correct spelling is `$Exception{...}`.")
    public static let unknownExpressionType = DiagnosticCode("SL0504", "unknown-expression-type", .error,
        "A `$Type.` or `$Type{` prefix that is not `$.`, `$Sequence.` or `$Exception{`.")

    /// Every code, in id order, for documentation and `--explain`.
    public static let all: [DiagnosticCode] = [
        .unreadableFile, .notText, .emptyDocument, .syntaxError, .duplicateKey, .nestingTooDeep,
        .multipleDocuments, .nonStringKey, .fileTooLarge, .aliasExpansion,
        .missingStartState, .unknownStartState, .unknownNextState, .unknownCompensateState, .noStates,
        .subMachineSelfReference, .subMachineCycle,
        .wrongType, .missingKey, .unknownKey, .unknownStateType, .unsupportedStateType, .invalidValue,
        .javaOnlyKey, .misplacedKey, .designerFormat, .loopNotSupported, .designerInvalid,
        .cycleWithoutExit, .unreachableState, .deadEndState, .compensationOnForwardPath,
        .updateWithoutCompensationRoute, .choiceNextIgnored, .choiceWithoutDefault,
        .updateWithoutCompensateState, .emptyChoice, .compensationStateNotTask,
        .invalidStatusCode, .retryOutOfRange, .javaExceptionName, .unknownErrorName, .unboundService,
        .unsupportedScriptType, .timeoutOutOfRange, .invalidServiceBinding, .statusIgnoredOnAsync,
        .retryMaxAttemptsDefaulted,
        .expressionSyntax, .unsupportedExpression, .lowercaseExceptionExpression, .unknownExpressionType,
    ]

    public static func lookup(_ idOrSlug: String) -> DiagnosticCode? {
        all.first { $0.id.caseInsensitiveCompare(idOrSlug) == .orderedSame || $0.slug == idOrSlug }
    }
}
