/// SL0107: `SubStateMachine` states of workflows checked together that start each other in a
/// cycle (`a` runs `b`, `b` runs `a`). SL0106 sees one file, so a cycle through several files
/// passes it; given all of them, or a way to find the machines they call
/// (`WorkflowPipeline.compile(paths:options:resolve:)`), this finds it. A cycle through a file
/// found neither way stays a run-time failure (decision 0025).
public enum SubMachineCycles {
    /// One list per workflow, in the order given: an error at every `SubStateMachine` state
    /// whose machine leads back to its own. A workflow without syntax (unreadable) or without a
    /// `Name` takes no part. A state naming its own machine is SL0106's, not repeated here.
    /// When several workflows share a name, a state's machine is any of them.
    public static func diagnose(_ workflows: [(path: String, syntax: WorkflowSyntax?)]) -> [[Diagnostic]] {
        var byName: [String: [Int]] = [:]
        for (index, workflow) in workflows.enumerated() {
            if let name = workflow.syntax?.name?.value { byName[name, default: []].append(index) }
        }
        // The calls of each workflow: its SubStateMachine states, with the workflows they may start.
        let calls: [[Call]] = workflows.map { workflow in
            guard let syntax = workflow.syntax, let own = syntax.name?.value else { return [] }
            return syntax.states.compactMap { state in
                guard state.type == .subStateMachine, let child = state.stateMachineName, child.value != own,
                    let targets = byName[child.value]
                else { return nil }
                return Call(state: state.name.value, child: child, targets: targets)
            }
        }
        var diagnostics = [[Diagnostic]](repeating: [], count: workflows.count)
        for (index, workflow) in workflows.enumerated() {
            guard let own = workflow.syntax?.name?.value else { continue }
            for call in calls[index] {
                guard let back = shortestPath(from: call.targets, to: index, calls: calls) else { continue }
                let names = [own] + back.map { workflows[$0].syntax?.name?.value ?? "?" }
                let files = back.dropLast().map { workflows[$0].path }
                diagnostics[index].append(Diagnostic(
                    .subMachineCycle,
                    "'\(call.state)' runs '\(call.child.value)', which leads back to '\(own)' (\(names.joined(separator: " → "))): "
                        + "every instance would start another without end",
                    at: call.child.range,
                    notes: [DiagnosticNote("the other \(files.count == 1 ? "machine is" : "machines are") defined in \(files.joined(separator: ", "))")],
                    hint: "break the cycle: name a machine that does not lead back, or repeat work with a Choice that "
                        + "loops back with an exit (run anyway, the step that would close the cycle fails with SubMachineCycle)"))
            }
        }
        return diagnostics
    }

    struct Call {
        var state: String
        var child: Located<String>
        var targets: [Int]
    }

    /// The workflows from one of `sources` to `target` along calls, `target` last (breadth
    /// first, so the cycle reported is a shortest one), or nil when `target` is not reachable.
    static func shortestPath(from sources: [Int], to target: Int, calls: [[Call]]) -> [Int]? {
        var previous: [Int: Int] = [:]
        var queue: [Int] = []
        var seen = Set<Int>()
        for source in sources where seen.insert(source).inserted { queue.append(source) }
        var head = 0
        while head < queue.count {
            let current = queue[head]
            head += 1
            if current == target {
                var path = [current]
                while let before = previous[path[0]] { path.insert(before, at: 0) }
                return path
            }
            for call in calls[current] {
                for next in call.targets where seen.insert(next).inserted {
                    previous[next] = current
                    queue.append(next)
                }
            }
        }
        return nil
    }
}

extension WorkflowPipeline {
    /// `compile(path:options:)` for each file, then the checks that need them all together
    /// (SL0107). Results are in the order of `paths`.
    ///
    /// - Parameter resolve: the file and syntax of a machine that a `SubStateMachine` names and
    ///   no file of `paths` defines (as `sagactl run` finds it next to the parent's file), or
    ///   nil. Found workflows, and what they call in turn, take part in the cycle check; their
    ///   own problems are not reported.
    public static func compile(paths: [String], options: ValidationOptions = .init(),
                               resolve: ((String) -> (path: String, syntax: WorkflowSyntax)?)? = nil) -> [Result] {
        var results = paths.map { compile(path: $0, options: options) }
        var workflows: [(path: String, syntax: WorkflowSyntax?)] = zip(paths, results).map { ($0, $1.syntax) }
        if let resolve { workflows += calledWorkflows(of: workflows, resolve: resolve) }
        let cycles = SubMachineCycles.diagnose(workflows)
        for (index, found) in cycles.prefix(paths.count).enumerated() where !found.isEmpty {
            var bag = DiagnosticBag()
            bag.append(contentsOf: results[index].diagnostics)
            bag.append(contentsOf: found)
            results[index].diagnostics = bag.sorted
            if bag.hasErrors { results[index].workflow = nil }
        }
        return results
    }

    /// The workflows that `workflows` call and do not define, found by `resolve`, and those
    /// that they call in turn (each name resolved once).
    static func calledWorkflows(of workflows: [(path: String, syntax: WorkflowSyntax?)],
                                resolve: (String) -> (path: String, syntax: WorkflowSyntax)?)
        -> [(path: String, syntax: WorkflowSyntax?)]
    {
        var defined = Set(workflows.compactMap { $0.syntax?.name?.value })
        var paths = Set(workflows.map(\.path))
        var found: [(path: String, syntax: WorkflowSyntax?)] = []
        var pending = workflows.compactMap(\.syntax)
        while let syntax = pending.popLast() {
            for state in syntax.states where state.type == .subStateMachine {
                guard let name = state.stateMachineName?.value, !defined.contains(name) else { continue }
                defined.insert(name)
                guard let called = resolve(name), called.syntax.name?.value == name,
                    paths.insert(called.path).inserted
                else { continue }
                found.append((called.path, called.syntax))
                pending.append(called.syntax)
            }
        }
        return found
    }
}
