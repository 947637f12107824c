extension Workflow {
    /// The workflow as a Mermaid flowchart (for Markdown): the same conventions as `dot()`.
    public func mermaid() -> String {
        var out = "flowchart TD\n"
        out += "  start_((\" \"))\n"
        for state in states {
            let label = Self.mermaidQuote(state.name)
            let id = "s\(state.id)"
            switch state.kind {
            case .choice: out += "  \(id){\(label)}\n"
            case .succeed: out += "  \(id)([\(label)])\n"
            case .fail: out += "  \(id)[[\(label)]]\n"
            case .compensationTrigger: out += "  \(id){{\(label)}}\n"
            case .subStateMachine, .compensateSubMachine: out += "  \(id)[/\(label)/]\n"
            case .serviceTask, .scriptTask: out += "  \(id)(\(label))\n"
            }
        }
        out += "  start_ --> s\(startState)\n"
        for edge in edges {
            let from = "s\(edge.from)"
            let to = "s\(edge.to)"
            switch edge.kind {
            case .next: out += "  \(from) --> \(to)\n"
            case .choice(let condition): out += "  \(from) -->|\(Self.mermaidQuote(condition))| \(to)\n"
            case .defaultChoice: out += "  \(from) -->|default| \(to)\n"
            case .catch(let names): out += "  \(from) -->|\(Self.mermaidQuote("catch: " + names.joined(separator: ", ")))| \(to)\n"
            case .compensate: out += "  \(from) -.->|compensated by| \(to)\n"
            }
        }
        out += "  classDef succeed fill:#d5f5e3,stroke:#1e8449\n"
        out += "  classDef fail fill:#fadbd8,stroke:#c0392b\n"
        out += "  classDef compensation stroke-dasharray: 5 5\n"
        let succeeds = states.filter { $0.type == .succeed }.map { "s\($0.id)" }
        let fails = states.filter { $0.type == .fail }.map { "s\($0.id)" }
        let compensations = states.filter(\.isForCompensation).map { "s\($0.id)" }
        if !succeeds.isEmpty { out += "  class \(succeeds.joined(separator: ",")) succeed\n" }
        if !fails.isEmpty { out += "  class \(fails.joined(separator: ",")) fail\n" }
        if !compensations.isEmpty { out += "  class \(compensations.joined(separator: ",")) compensation\n" }
        return out
    }

    /// A Mermaid quoted label; quotes become `#quot;`, the characters Mermaid reads as syntax
    /// are safe inside quotes.
    static func mermaidQuote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "#quot;").replacingOccurrences(of: "\n", with: " ") + "\""
    }
}

import Foundation
