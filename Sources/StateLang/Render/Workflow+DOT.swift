extension Workflow {
    /// The workflow as a Graphviz digraph: forward edges solid, compensation edges dashed,
    /// catch edges red and labelled with their error names, choice edges labelled with their
    /// conditions; the start marked by a dot, end states drawn distinctly.
    public func dot() -> String {
        var out = "digraph \(Self.dotQuote(name.isEmpty ? "workflow" : name)) {\n"
        out += "  rankdir=TB;\n"
        out += "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\", fontsize=11];\n"
        out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
        out += "  \"__start\" [shape=circle, label=\"\", width=0.2, style=filled, fillcolor=\"#000000\"];\n"
        for state in states {
            out += "  \(Self.dotQuote(state.name)) [\(Self.dotAttributes(for: state))];\n"
        }
        out += "  \"__start\" -> \(Self.dotQuote(self[startState].name));\n"
        for edge in edges {
            let from = Self.dotQuote(self[edge.from].name)
            let to = Self.dotQuote(self[edge.to].name)
            let attributes: String
            switch edge.kind {
            case .next: attributes = ""
            case .choice(let condition): attributes = " [label=\(Self.dotQuote(condition))]"
            case .defaultChoice: attributes = " [label=\"default\", style=bold]"
            case .catch(let names):
                attributes = " [label=\(Self.dotQuote("catch: " + names.joined(separator: ", "))), color=\"#c0392b\", fontcolor=\"#c0392b\"]"
            case .compensate:
                attributes = " [style=dashed, color=\"#7f8c8d\", fontcolor=\"#7f8c8d\", label=\"compensated by\"]"
            }
            out += "  \(from) -> \(to)\(attributes);\n"
        }
        // Each compensation sits beside the step it undoes.
        for edge in edges where edge.kind == .compensate {
            out += "  { rank=same; \(Self.dotQuote(self[edge.from].name)); \(Self.dotQuote(self[edge.to].name)); }\n"
        }
        out += "}\n"
        return out
    }

    static func dotAttributes(for state: CompiledState) -> String {
        var label = state.name
        var attributes: [String] = []
        switch state.kind {
        case .serviceTask(let spec):
            if !spec.serviceName.isEmpty { label += "\n\(spec.serviceName).\(spec.serviceMethod)" }
            if spec.isAsync { label += "\n(async)" }
        case .scriptTask: attributes.append("shape=note")
        case .subStateMachine(let spec):
            attributes.append("shape=component")
            label += "\n▸ \(spec.machineName)"
        case .compensateSubMachine: attributes.append("shape=component")
        case .choice: attributes.append("shape=diamond, style=filled, fillcolor=\"#fdf2d0\"")
        case .succeed: attributes.append("shape=doublecircle, style=filled, fillcolor=\"#d5f5e3\"")
        case .fail: attributes.append("shape=doubleoctagon, style=filled, fillcolor=\"#fadbd8\"")
        case .compensationTrigger: attributes.append("shape=hexagon, style=filled, fillcolor=\"#fde2c4\"")
        }
        if state.isForCompensation { attributes.append("style=\"rounded,dashed,filled\", fillcolor=\"#f4f6f6\"") }
        return (["label=\(dotQuote(label))"] + attributes).joined(separator: ", ")
    }

    /// A DOT double-quoted string.
    static func dotQuote(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": break
            default: out.append(character)
            }
        }
        return out + "\""
    }
}
