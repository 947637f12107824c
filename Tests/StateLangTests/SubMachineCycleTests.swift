import Foundation
import Testing

@testable import StateLang

/// SL0107: SubStateMachine cycles through several workflows checked together.
@Suite("Validator: SubStateMachine cycles across files")
struct SubMachineCycleTests {
    /// A workflow named `name` whose states call `children` as SubStateMachines, in order.
    static func machine(_ name: String, calls children: [String]) -> String {
        var text = "Name: \(name)\nStartState: \(children.isEmpty ? "Done" : "Call0")\nStates:\n"
        for (n, child) in children.enumerated() {
            let next = n + 1 < children.count ? "Call\(n + 1)" : "Done"
            text += "  Call\(n):\n    Type: SubStateMachine\n    StateMachineName: \(child)\n    Next: \(next)\n"
        }
        text += "  Done:\n    Type: Succeed\n"
        return text
    }

    static func diagnose(_ machines: [(path: String, text: String)]) -> [[Diagnostic]] {
        SubMachineCycles.diagnose(machines.map { machine in
            (machine.path, WorkflowLoader.load(text: machine.text, path: machine.path).syntax)
        })
    }

    @Test func twoMachinesCallingEachOtherAreBothReported() throws {
        let found = Self.diagnose([
            ("a.yaml", Self.machine("a", calls: ["b"])),
            ("b.yaml", Self.machine("b", calls: ["a"])),
        ])
        #expect(found.map { $0.map(\.code.id) } == [["SL0107"], ["SL0107"]])
        let first = try #require(found[0].first)
        #expect(first.message == "'Call0' runs 'b', which leads back to 'a' (a → b → a): every instance would start another without end")
        #expect(first.notes.map(\.message) == ["the other machine is defined in b.yaml"])
        // At the StateMachineName value: line 6 of the generated text, after "StateMachineName: ".
        #expect(first.range?.start == SourcePosition(line: 6, column: 23))
        #expect(first.severity == .error)
        #expect(found[1].first?.message.contains("(b → a → b)") == true)
    }

    @Test func aLongerCycleIsReportedWithItsShortestPath() throws {
        let found = Self.diagnose([
            ("a.yaml", Self.machine("a", calls: ["b"])),
            ("b.yaml", Self.machine("b", calls: ["c", "d"])),
            ("c.yaml", Self.machine("c", calls: ["a"])),
            ("d.yaml", Self.machine("d", calls: ["c"])),
        ])
        #expect(found[0].first?.message.contains("(a → b → c → a)") == true, "\(found[0].map(\.message))")
        #expect(found[0].first?.notes.map(\.message) == ["the other machines are defined in b.yaml, c.yaml"])
        // b's two calls both lead back: through c directly, and through d then c.
        #expect(found[1].map(\.message).map { $0.contains("(b → c → a → b)") || $0.contains("(b → d → c → a → b)") } == [true, true])
        #expect(found[3].first?.message.contains("(d → c → a → b → d)") == true)
    }

    @Test func chainsWithoutACycleSelfReferencesAndUnknownMachinesAreNotReported() {
        let found = Self.diagnose([
            ("a.yaml", Self.machine("a", calls: ["b", "b", "elsewhere"])),
            ("b.yaml", Self.machine("b", calls: ["c"])),
            ("c.yaml", Self.machine("c", calls: [])),
            // A machine calling itself is SL0106's, reported by the validator of its own file.
            ("self.yaml", Self.machine("self", calls: ["self"])),
        ])
        #expect(found.allSatisfy { $0.isEmpty }, "\(found)")
    }

    @Test func unreadableAndUnnamedWorkflowsTakePartInNothing() {
        let found = SubMachineCycles.diagnose([
            ("a.yaml", WorkflowLoader.load(text: Self.machine("a", calls: ["b"]), path: "a.yaml").syntax),
            ("missing.yaml", nil),
            ("b.yaml", WorkflowLoader.load(text: "StartState: X\nStates:\n  X:\n    Type: SubStateMachine\n    StateMachineName: a\n", path: "b.yaml").syntax),
        ])
        #expect(found.allSatisfy { $0.isEmpty }, "\(found)")
    }

    @Test func machinesFoundByTheResolverTakePartButAreNotReported() throws {
        try TestPaths.withTemporaryDirectory { directory in
            func write(_ name: String, calls children: [String]) throws -> String {
                let url = directory.appendingPathComponent("\(name).yaml")
                try Self.machine(name, calls: children).write(to: url, atomically: true, encoding: .utf8)
                return url.path
            }
            let a = try write("a", calls: ["b", "elsewhere"])
            let b = try write("b", calls: ["c"])
            let c = try write("c", calls: ["a", "b"])
            let known = ["b": b, "c": c, "a": a]
            var asked: [String] = []
            let results = WorkflowPipeline.compile(paths: [a], resolve: { name in
                asked.append(name)
                return known[name].flatMap { path in WorkflowLoader.load(path: path).syntax.map { (path, $0) } }
            })
            #expect(results.count == 1)
            let cycle = try #require(results[0].diagnostics.first)
            #expect(results[0].diagnostics.map(\.code.id) == ["SL0107"])
            #expect(cycle.message.contains("(a → b → c → a)"), "\(cycle.message)")
            #expect(cycle.notes.map(\.message) == ["the other machines are defined in \(b), \(c)"])
            #expect(results[0].workflow == nil)
            // Each undefined name is asked once; `a`, given, is never looked up.
            #expect(asked.sorted() == ["b", "c", "elsewhere"])
            // Without a resolver, the file alone is valid.
            #expect(WorkflowPipeline.compile(paths: [a]).first?.diagnostics.isEmpty == true)
        }
    }

    @Test func thePipelineAddsTheCycleToEachFileAndWithholdsTheWorkflow() throws {
        try TestPaths.withTemporaryDirectory { directory in
            let a = directory.appendingPathComponent("a.yaml")
            let b = directory.appendingPathComponent("b.yaml")
            let c = directory.appendingPathComponent("c.yaml")
            try Self.machine("a", calls: ["b"]).write(to: a, atomically: true, encoding: .utf8)
            try Self.machine("b", calls: ["a"]).write(to: b, atomically: true, encoding: .utf8)
            try Self.machine("c", calls: ["a"]).write(to: c, atomically: true, encoding: .utf8)
            let results = WorkflowPipeline.compile(paths: [a.path, b.path, c.path])
            #expect(results.map { $0.diagnostics.map(\.code.id) } == [["SL0107"], ["SL0107"], []])
            #expect(results.map { $0.workflow == nil } == [true, true, false])
            // Alone, each file is valid: only together is the cycle visible.
            #expect(WorkflowPipeline.compile(paths: [a.path]).first?.diagnostics.isEmpty == true)
        }
    }
}
