/// One check over a workflow. Each rule looks at one concern, reports every instance of the
/// problem it finds (never stops at the first) and never throws: diagnostics are its output.
///
/// Rules read shared, precomputed facts (state lookup, edges, reachable sets) from the
/// `ValidationContext` instead of recomputing them.
public protocol ValidationRule: Sendable {
    func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag)
}
