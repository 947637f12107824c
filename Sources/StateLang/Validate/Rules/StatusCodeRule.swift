/// SL0401: every `Status` value is `SU`, `FA` or `UN`.
public struct StatusCodeRule: ValidationRule {
    public init() {}

    /// Spellings seen in the wild (seata-go samples write `SUCCEEDED`, `UNKNOWN`) and what
    /// they mean.
    static let longForms: [String: StatusCode] = [
        "SUCCEEDED": .succeeded, "SUCCEED": .succeeded, "SUCCESS": .succeeded, "SUCCESSFUL": .succeeded,
        "OK": .succeeded, "FAILED": .failed, "FAIL": .failed, "FAILURE": .failed, "ERROR": .failed,
        "UNKNOWN": .unknown, "UNKNOW": .unknown,
    ]

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.uses("Status") {
            for rule in state.status?.value ?? [] where StatusCode(rawValue: rule.code.value) == nil {
                let written = rule.code.value
                let suggestion = StatusCodeRule.longForms[written.uppercased()]?.rawValue
                    ?? Suggestion.closest(to: written, in: StatusCode.allCases.map(\.rawValue))
                bag.add(
                    .invalidStatusCode,
                    "'\(written)' is not a status code" + didYouMean(suggestion),
                    at: rule.code.range,
                    hint: "a Status value is SU (succeeded), FA (failed) or UN (unknown)")
            }
        }
    }
}
