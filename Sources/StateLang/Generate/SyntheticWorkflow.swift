/// Realistic workflows of any size, for benchmarks (`sagactl bench --generate-workflow N`, the
/// `Benchmarks/` package) and tests of large documents.
///
/// The shape repeats order-payment's: blocks of five states, each
///
///     T<k>  ServiceTask with Input/Output expressions, a Retry, a Catch to Rollback and a
///           CompensateState C<k>
///     Q<k>  Choice on T<k>'s output: to U<k>, or by default to the next block
///     U<k>  ServiceTask with its own compensation D<k>, Retry and Catch
///     C<k>, D<k>  the compensations
///
/// then `Done` (Succeed), `Rollback` (CompensationTrigger) and `Failed` (Fail). Plain
/// ServiceTasks before `Done` make up the exact count. Every state is reachable and the result
/// validates without errors or warnings for any `states` ≥ 4.
public enum SyntheticWorkflow {
    /// The YAML text of a workflow with exactly `states` states (at least 4; smaller counts
    /// give 4). Services are `svc0` … `svc9`, bound as `local`: an embedding program
    /// registers their handlers to run it.
    public static func yaml(states: Int, name: String = "synthetic") -> String {
        let total = max(states, 4)
        let blocks = (total - 4) / 5
        let padding = total - 4 - blocks * 5
        let start = blocks > 0 ? "T0" : padding > 0 ? "P0" : "Last"
        var out = "Name: \(name)\nComment: \(total) generated states\nStartState: \(start)\n"
        out += "RecoverStrategy: Compensate\nServices:\n"
        for n in 0..<10 { out += "  svc\(n): { Type: local }\n" }
        out += "States:\n"
        out.reserveCapacity(total * 260)
        let afterBlocks = padding > 0 ? "P0" : "Last"
        for k in 0..<blocks {
            let next = k + 1 < blocks ? "T\(k + 1)" : afterBlocks
            let service = "svc\(k % 10)"
            out += """
                  T\(k):
                    Type: ServiceTask
                    ServiceName: \(service)
                    ServiceMethod: do\(k)
                    CompensateState: C\(k)
                    Input:
                      - order: $.[order]
                        step: \(k)
                        amount: "$.[amount] * 2 + \(k)"
                    Output:
                      r\(k): $.[result]
                    Retry:
                      - Exceptions: [NetworkError, HTTP.5xx]
                        IntervalSeconds: 0.2
                        BackoffRate: 2
                        MaxAttempts: 3
                    Catch:
                      - Exceptions: [Throwable]
                        Next: Rollback
                    Next: Q\(k)
                  Q\(k):
                    Type: Choice
                    Choices:
                      - Expression: "[r\(k)] != null && [r\(k)] > \(k % 7)"
                        Next: U\(k)
                    Default: \(next)
                  U\(k):
                    Type: ServiceTask
                    ServiceName: \(service)
                    ServiceMethod: more\(k)
                    CompensateState: D\(k)
                    Input:
                      - order: $.[order]
                        previous: $.[r\(k)]
                    Retry:
                      - Exceptions: [NetworkError]
                        IntervalSeconds: 0.1
                        MaxAttempts: 2
                    Catch:
                      - Exceptions: [Throwable]
                        Next: Rollback
                    Next: \(next)
                  C\(k):
                    Type: ServiceTask
                    ServiceName: \(service)
                    ServiceMethod: undo\(k)
                    Input:
                      - order: $.[order]
                        result: $.[r\(k)]
                  D\(k):
                    Type: ServiceTask
                    ServiceName: \(service)
                    ServiceMethod: undoMore\(k)
                    Input:
                      - order: $.[order]

                """
        }
        for p in 0..<padding {
            let next = p + 1 < padding ? "P\(p + 1)" : "Last"
            out += """
                  P\(p):
                    Type: ServiceTask
                    ServiceName: svc\(p % 10)
                    ServiceMethod: pad\(p)
                    Input:
                      - order: $.[order]
                    Catch:
                      - Exceptions: [Throwable]
                        Next: Rollback
                    Next: \(next)

                """
        }
        out += """
              Last:
                Type: ServiceTask
                ServiceName: svc0
                ServiceMethod: finish
                Input:
                  - order: $.[order]
                Catch:
                  - Exceptions: [Throwable]
                    Next: Rollback
                Next: Done
              Done:
                Type: Succeed
              Rollback:
                Type: CompensationTrigger
                Next: Failed
              Failed:
                Type: Fail
                ErrorCode: GENERATED_FAILED

            """
        return out
    }
}
