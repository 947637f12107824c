/// SL0410 (note): a `Retry` entry without `MaxAttempts`. Seata's parser requires it; sagactl
/// retries 3 times.
public struct RetryMaxAttemptsRule: ValidationRule {
    public init() {}

    public static let defaultMaxAttempts = 3

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.uses("Retry") {
            guard let entries = state.retry?.value else { continue }
            for (i, entry) in entries.enumerated() where !entry.keys.contains(where: { $0.value == "MaxAttempts" }) {
                bag.add(
                    .retryMaxAttemptsDefaulted,
                    "Retry[\(i)] of '\(state.name.value)' has no 'MaxAttempts'; sagactl retries \(RetryMaxAttemptsRule.defaultMaxAttempts) times (Seata refuses such an entry)",
                    at: SourceRange(at: entry.range.start),
                    hint: "write `MaxAttempts: \(RetryMaxAttemptsRule.defaultMaxAttempts)` to say so, and keep the file loadable by Seata")
            }
        }
    }
}
