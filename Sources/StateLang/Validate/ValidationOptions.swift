/// What the validator knows beyond the workflow file itself.
public struct ValidationOptions: Sendable {
    /// Service names bound outside the file (a `--services` file). `nil` when none was given;
    /// an empty set means a services file was given and binds nothing. These names count as
    /// bound in addition to the file's own `Services` section (a binding in the separate file
    /// overrides the file's binding of the same name at run time; for validation both bind).
    public var externalServices: Set<String>?

    /// True when the workflow is about to be run (`sagactl run`, `start`, `worker`), false for
    /// `sagactl validate`. Features sagactl cannot execute yet (a `ScriptType` other than
    /// `expression`, `Loop`) are errors when running and warnings when only validating, so
    /// that every definition the Java engine accepts validates without error
    /// (`docs/decisions/0002-script-tasks.md`, `docs/decisions/0004-loop-at-validation.md`).
    public var forExecution: Bool

    public init(externalServices: Set<String>? = nil, forExecution: Bool = false) {
        self.externalServices = externalServices
        self.forExecution = forExecution
    }

    /// The severity of a diagnostic about a feature sagactl cannot execute.
    var unsupportedFeatureSeverity: Severity { forExecution ? .error : .warning }
}
