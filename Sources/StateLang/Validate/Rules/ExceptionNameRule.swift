/// SL0403 (note): a Java class name in `Retry[].Exceptions` or `Catch[].Exceptions`, and the
/// sagactl error name it matches. SL0404: a name that is neither sagactl's nor Java-like, so
/// no action can fail with it (DESIGN §3.4).
public struct ExceptionNameRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states {
            if state.uses("Retry") {
                for entry in state.retry?.value ?? [] { check(entry.exceptions, in: "Retry", into: &bag) }
            }
            if state.uses("Catch") {
                for entry in state.catches?.value ?? [] { check(entry.exceptions, in: "Catch", into: &bag) }
            }
        }
    }

    private func check(_ names: Located<[Located<String>]>?, in key: String, into bag: inout DiagnosticBag) {
        for name in names?.value ?? [] {
            let pattern = ErrorPattern(name.value)
            switch pattern.kind {
            case .native:
                break
            case .javaAlias:
                let meaning = pattern.canonical == ErrorName.throwable.rawValue ? " (every error)" : ""
                bag.add(.javaExceptionName,
                        "'\(name.value)' is a Java class name; sagactl matches it as '\(pattern.canonical)'\(meaning)",
                        at: name.range)
            case .javaSimpleName:
                bag.add(.javaExceptionName,
                        "'\(name.value)' is a Java class name; sagactl matches it by its simple name '\(pattern.canonical)' "
                            + "(an error named '\(pattern.canonical)' or 'ActionError.\(pattern.canonical)')",
                        at: name.range,
                        hint: "write 'ActionError.\(pattern.canonical)' to match the error a service reports")
            case .other:
                let candidates = ErrorPattern.nativeNames.sorted()
                let suggestion = Suggestion.closest(to: name.value, in: candidates)
                bag.add(.unknownErrorName,
                        "no action fails with an error named '\(name.value)', so this \(key) entry never matches it"
                            + didYouMean(suggestion),
                        at: name.range,
                        hint: suggestion == nil
                            ? "an error a service reports is named 'ActionError.<code>': write 'ActionError.\(name.value)'; other names are "
                                + candidates.joined(separator: ", ")
                            : nil)
            }
        }
    }
}
