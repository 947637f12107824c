/// SL0402: `Retry` numbers within range; SL0206: `JitterStrategy` is `FULL` or `NONE`.
///
/// Backoff is geometric (DESIGN §3.4): the k-th retry waits `IntervalSeconds × BackoffRate^(k-1)`,
/// so a rate below 1 would shrink the waits. Seata writes 0 (or nothing) for "no growth"; 0 is
/// accepted and means 1.
public struct RetryRangeRule: ValidationRule {
    public init() {}

    /// More retries than this is a mistake, not a policy (with the default interval it would
    /// keep a failing step busy for a very long time).
    public static let maxAttemptsLimit = 1000
    public static let jitterStrategies = ["FULL", "NONE"]

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.uses("Retry") {
            for entry in state.retry?.value ?? [] { check(entry, into: &bag) }
        }
    }

    private func check(_ entry: RetrySyntax, into bag: inout DiagnosticBag) {
        if let interval = entry.intervalSeconds, interval.value < 0 {
            bag.add(.retryOutOfRange, "'IntervalSeconds' is \(format(interval.value)); a wait cannot be negative",
                    at: interval.range, hint: "use 0 to retry at once, or a number of seconds")
        }
        if let attempts = entry.maxAttempts {
            if attempts.value < 0 {
                bag.add(.retryOutOfRange, "'MaxAttempts' is \(attempts.value); it counts retries and cannot be negative",
                        at: attempts.range, hint: "use 0 for no retry")
            } else if attempts.value > RetryRangeRule.maxAttemptsLimit {
                bag.add(.retryOutOfRange,
                        "'MaxAttempts' is \(attempts.value); more than \(RetryRangeRule.maxAttemptsLimit) retries is not a retry policy",
                        at: attempts.range,
                        hint: "retry a few times with a growing interval, then let Catch route the failure")
            }
        }
        if let rate = entry.backoffRate, rate.value != 0, rate.value < 1 {
            bag.add(.retryOutOfRange,
                    "'BackoffRate' is \(format(rate.value)); below 1 each wait would be shorter than the one before",
                    at: rate.range, hint: "use 1 for a constant interval (0 also means 1, as in Seata) or more to back off")
        }
        if let delay = entry.maxDelaySeconds, delay.value <= 0 {
            bag.add(.retryOutOfRange, "'MaxDelaySeconds' is \(format(delay.value)); a cap on the wait must be positive",
                    at: delay.range, hint: "remove it for no cap, or give the longest wait in seconds")
        }
        if let jitter = entry.jitterStrategy, !RetryRangeRule.jitterStrategies.contains(jitter.value) {
            bag.add(.invalidValue,
                    "'\(jitter.value)' is not a valid JitterStrategy"
                        + Suggestion.didYouMean(jitter.value, in: RetryRangeRule.jitterStrategies),
                    at: jitter.range, hint: "use FULL (a random wait up to the computed one) or NONE")
        }
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
