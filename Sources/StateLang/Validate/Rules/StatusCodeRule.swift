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

    /// Seata's other execution statuses: its enum accepts them, but they mean nothing as the
    /// outcome of a call.
    static let engineOnly = ["RU": "running", "SK": "skipped"]

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.uses("Status") {
            for rule in state.status?.value ?? [] where StatusCode(rawValue: rule.code.value) == nil {
                let written = rule.code.value
                let message: String
                if let meaning = StatusCodeRule.engineOnly[written] {
                    message = "'\(written)' (\(meaning)) is a status the engine sets; a call cannot end with it"
                } else {
                    let suggestion = StatusCodeRule.longForms[written.uppercased()]?.rawValue
                        ?? Suggestion.closest(to: written, in: StatusCode.allCases.map(\.rawValue))
                    message = "'\(written)' is not a status code" + didYouMean(suggestion)
                }
                bag.add(
                    .invalidStatusCode, message,
                    at: rule.code.range,
                    hint: "a Status value is SU (succeeded), FA (failed) or UN (unknown)")
            }
        }
    }
}
