/// SL0406: a `ScriptTask` whose script sagactl cannot run. Only `ScriptType: expression`
/// (this project's expression language) runs; Seata's default, and the only type in real
/// definitions, is groovy. A warning for `validate` (the definition is valid Seata), an error
/// when the workflow is about to run (`docs/decisions/0002-script-tasks.md`).
public struct ScriptTypeRule: ValidationRule {
    public init() {}

    public static let supported = "expression"

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        let severity = context.options.unsupportedFeatureSeverity
        let consequence = context.options.forExecution
            ? "sagactl cannot run this workflow"
            : "`sagactl run` refuses this workflow until it is changed"
        for state in workflow.states where state.type == .scriptTask {
            if let written = state.scriptType {
                guard written.value != ScriptTypeRule.supported else { continue }
                let message = written.value.lowercased() == ScriptTypeRule.supported
                    ? "ScriptType '\(written.value)' is spelt 'expression' (lower case)"
                    : "\(written.value) scripts are not supported; use ScriptType: expression"
                bag.add(.unsupportedScriptType, message, at: written.range, severity: severity,
                        hint: "write ScriptContent in sagactl's expression language; \(consequence)")
            } else if !state.has("ScriptType") {
                bag.add(.unsupportedScriptType,
                        "'\(state.name.value)' has no 'ScriptType', which means groovy in Seata; groovy scripts are not supported; use ScriptType: expression",
                        at: state.anchor, severity: severity,
                        hint: "add `ScriptType: expression` and write ScriptContent in sagactl's expression language; \(consequence)")
            }
        }
    }
}
