/// The whole front end in one call: read → lower → validate → compile.
public enum WorkflowPipeline {
    public struct Result: Sendable {
        public var source: SourceFile?
        public var syntax: WorkflowSyntax?
        /// Present when there are no errors.
        public var workflow: Workflow?
        /// Every diagnostic of every phase, ordered by position.
        public var diagnostics: [Diagnostic]

        public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
        public var warningCount: Int { diagnostics.filter { $0.severity == .warning }.count }
        public var hasErrors: Bool { errorCount > 0 }
    }

    public static func compile(path: String, options: ValidationOptions = .init()) -> Result {
        finish(WorkflowLoader.load(path: path), options: options)
    }

    public static func compile(text: String, path: String, options: ValidationOptions = .init()) -> Result {
        finish(WorkflowLoader.load(text: text, path: path), options: options)
    }

    static func finish(_ loaded: WorkflowLoader.Result, options: ValidationOptions) -> Result {
        var bag = DiagnosticBag()
        bag.append(contentsOf: loaded.diagnostics)
        guard let syntax = loaded.syntax else {
            return Result(source: loaded.source, syntax: nil, workflow: nil, diagnostics: bag.sorted)
        }
        bag.append(contentsOf: Validator.validate(syntax, options: options))
        // Expressions are parsed by the compiler; run it even with errors so that expression
        // diagnostics appear together with the others.
        let (workflow, compileDiagnostics) = WorkflowCompiler.compile(syntax, source: loaded.source)
        bag.append(contentsOf: compileDiagnostics)
        if workflow == nil, !bag.hasErrors {
            // Never fail silently: the compiler refused something no rule reported.
            bag.add(.syntaxError, "sagactl could not compile this workflow although no rule reported an error; please report it",
                    at: syntax.range)
        }
        let hasErrors = bag.hasErrors
        return Result(source: loaded.source, syntax: syntax, workflow: hasErrors ? nil : workflow, diagnostics: bag.sorted)
    }
}
