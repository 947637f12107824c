/// SL0405: a `ServiceName` that no binding says how to call.
///
/// When the workflow has a `Services` section or a `--services` file was given, the author
/// binds services, so each unbound name is a warning (with the closest bound name). When
/// neither exists (every Seata file: its services are Spring beans), one note lists the
/// services that need bindings before the workflow can run, instead of a warning per state.
/// See `docs/decisions/0005-unbound-services.md`.
public struct UnboundServiceRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        let uses = workflow.states.compactMap { state -> Located<String>? in
            state.type == .serviceTask ? state.serviceName : nil
        }
        guard !uses.isEmpty else { return }
        let external = context.options.externalServices
        let bound = Set(workflow.services.map(\.name.value)).union(external ?? [])
        let bindsServices = workflow.servicesRange != nil || external != nil
        guard bindsServices else {
            var names: [String] = []
            for use in uses where !names.contains(use.value) { names.append(use.value) }
            bag.add(
                .unboundService,
                "no 'Services' section binds \(quotedList(names, limit: 6)): validation checks the flow, "
                    + "but running this workflow needs a binding for each service",
                at: uses[0].range, severity: .note,
                hint: "add a `Services:` section (http, exec or local), or pass `--services FILE`")
            return
        }
        var suggester = Suggester(bound.sorted())
        for use in uses where !bound.contains(use.value) {
            let suggestion = suggester.closest(to: use.value)
            let where_ = external == nil ? "in 'Services'" : "in 'Services' or the --services file"
            bag.add(
                .unboundService,
                "service '\(use.value)' has no binding \(where_)" + didYouMean(suggestion),
                at: use.range,
                hint: suggestion == nil
                    ? "bind it under `Services:`, e.g. `\(use.value): { Type: http, URL: \"http://127.0.0.1:8080\" }`"
                    : nil)
        }
    }
}
