import Foundation
import Testing

@Suite("sagactl validate and graph, end to end")
struct ValidateEndToEndTests {
    static let workflows: [String] = {
        let dir = CLI.root.appendingPathComponent("workflows")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.sorted().map { "workflows/" + $0 }
    }()

    @Test("There are example workflows")
    func examplesExist() {
        #expect(Self.workflows.count >= 4)
    }

    @Test("Every example validates with no error", arguments: workflows)
    func examplesValidate(path: String) async throws {
        let result = try await CLI.run(["validate", path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("error:"))
    }

    @Test("Every example renders to DOT that Graphviz accepts, and to Mermaid", arguments: workflows)
    func examplesRender(path: String) async throws {
        let dot = try await CLI.run(["graph", path])
        #expect(dot.status == 0, "\(dot.stderr)")
        #expect(dot.stdout.hasPrefix("digraph "))
        #expect(dot.stdout.contains("style=dashed") || !dot.stdout.contains("compensated by"))
        let mermaid = try await CLI.run(["graph", path, "--format", "mermaid"])
        #expect(mermaid.status == 0)
        #expect(mermaid.stdout.hasPrefix("flowchart TD"))
        guard let graphviz = ["/usr/bin/dot", "/usr/local/bin/dot"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            // CI installs graphviz (.ci/run); there the check is mandatory.
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "graphviz is required in CI")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: graphviz)
        process.arguments = ["-Tsvg"]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(dot.stdout.utf8))
        try input.fileHandleForWriting.close()
        let svg = readToEnd(output.fileHandleForReading)
        let complaints = String(decoding: readToEnd(errors.fileHandleForReading), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "dot rejected the graph: \(complaints)")
        #expect(complaints.isEmpty, "dot warned: \(complaints)")
        #expect(String(decoding: svg, as: UTF8.self).contains("<svg"))
    }

    @Test("The order-payment graph has the expected edges (golden DOT)")
    func goldenDOT() async throws {
        let dot = try await CLI.run(["graph", "workflows/order-payment.yaml"])
        try await Golden.check(dot.stdout, named: "order-payment.dot")
    }

    @Test("Diagnostics are rendered like a compiler's (golden), exit 65")
    func goldenDiagnostics() async throws {
        let result = try await CLI.run(["validate", "Tests/SagactlTests/Fixtures/broken.yaml"])
        #expect(result.status == 65)
        try await Golden.check(result.stdout, named: "broken.txt")
        #expect(result.stderr.contains("error"))
    }

    @Test("--format json lists every diagnostic with its position")
    func jsonFormat() async throws {
        let result = try await CLI.run(["validate", "--format", "json", "Tests/SagactlTests/Fixtures/broken.yaml"])
        #expect(result.status == 65)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let file = try #require((json["files"] as? [[String: Any]])?.first)
        #expect(file["valid"] as? Bool == false)
        let diagnostics = file["diagnostics"] as? [[String: Any]] ?? []
        let unknownNext = diagnostics.first { $0["id"] as? String == "SL0103" }
        #expect(unknownNext?["line"] as? Int != nil)
        #expect(unknownNext?["slug"] as? String == "unknown-next-state")
    }

    @Test("Warnings pass unless --strict")
    func strict() async throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir.appendingPathComponent("warn.yaml")
        try """
            Name: w
            StartState: A
            States:
              A: { Type: Succeed, Nxt: B }
            """.write(to: file, atomically: true, encoding: .utf8)
        #expect(try await CLI.run(["validate", file.path]).status == 0)
        #expect(try await CLI.run(["validate", "--strict", file.path]).status == 65)
    }

    @Test("Bad input of any kind: one clear error, exit 65, no crash",
          arguments: ["empty", "directory", "missing", "binary", "deep", "huge"])
    func badInput(kind: String) async throws {
        let dir = try CLI.temporaryDirectory()
        var path = dir.appendingPathComponent("input.yaml").path
        switch kind {
        case "empty": try Data().write(to: URL(fileURLWithPath: path))
        case "directory": path = dir.path
        case "missing": path = dir.appendingPathComponent("nope.yaml").path
        case "binary":
            var bytes = [UInt8](repeating: 0, count: 4096)
            for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        case "deep": try (String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).write(toFile: path, atomically: true, encoding: .utf8)
        default:
            let line = "# " + String(repeating: "x", count: 1022) + "\n"
            try String(repeating: line, count: 10 * 1024).write(toFile: path, atomically: true, encoding: .utf8)
        }
        let result = try await CLI.run(["validate", path])
        #expect(result.status == 65, "\(kind): \(result.stdout) \(result.stderr)")
        let errors = result.stdout.components(separatedBy: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count == 1, "\(kind): \(result.stdout)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test("A SubStateMachine cycle through several files is an error, among the files given and those next to them")
    func subMachineCycleAcrossFiles() async throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func machine(_ name: String, calls child: String) -> String {
            "Name: \(name)\nStartState: Call\nStates:\n  Call:\n    Type: SubStateMachine\n"
                + "    StateMachineName: \(child)\n    Next: Done\n  Done:\n    Type: Succeed\n"
        }
        func write(_ text: String, _ relativePath: String) throws -> String {
            let url = dir.appendingPathComponent(relativePath)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        // Apart: a's machine `b` is not next to it.
        let a = try write(machine("a", calls: "b"), "apart/a/a.yaml")
        let b = try write(machine("b", calls: "a"), "apart/b/b.yaml")
        let alone = try await CLI.run(["validate", a])
        #expect(alone.status == 0, "\(alone.stdout)\(alone.stderr)")
        let together = try await CLI.run(["validate", a, b])
        #expect(together.status == 65)
        #expect(together.stdout.contains("\(a):6:23: error: 'Call' runs 'b', which leads back to 'a' (a → b → a)"), "\(together.stdout)")
        #expect(together.stdout.contains("[SL0107]"))
        #expect(together.stdout.contains("note: the other machine is defined in \(b)"))
        #expect(together.stdout.contains("\(b):6:23: error: 'Call' runs 'a', which leads back to 'b' (b → a → b)"))
        #expect(together.stderr.contains("2 errors"), "\(together.stderr)")

        let json = try await CLI.run(["validate", "--format", "json", a, b])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let files = try #require(report["files"] as? [[String: Any]])
        #expect(files.map { $0["valid"] as? Bool } == [false, false])
        let first = try #require((files[0]["diagnostics"] as? [[String: Any]])?.first)
        #expect(first["id"] as? String == "SL0107")
        #expect(first["line"] as? Int == 6)

        // Side by side: `run` would find `b` (and `c`) next to `a`, so validating `a` alone finds
        // the cycle, and reports it in `a` only.
        let near = try write(machine("a", calls: "b"), "near/a.yaml")
        let nearB = try write(machine("b", calls: "c"), "near/b.yaml")
        _ = try write(machine("c", calls: "a"), "near/c.yaml")
        let found = try await CLI.run(["validate", near])
        #expect(found.status == 65)
        #expect(found.stdout.contains("\(near):6:23: error: 'Call' runs 'b', which leads back to 'a' (a → b → c → a)"), "\(found.stdout)")
        #expect(found.stdout.contains("note: the other machines are defined in \(nearB), "))
        #expect(found.stderr.contains("1 error and 0 warnings in 1 file"), "\(found.stderr)")
    }

    @Test("Usage errors exit 64; --help teaches")
    func usage() async throws {
        #expect(try await CLI.run(["validate"]).status == 64)
        #expect(try await CLI.run(["frobnicate"]).status == 64)
        let help = try await CLI.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("validate"))
        #expect(help.stdout.contains("recover"))
        let explain = try await CLI.run(["validate", "--explain", "SL0103"])
        #expect(explain.stdout.contains("unknown-next-state"))
    }
}

/// Golden files under Tests/SagactlTests/Fixtures/golden; re-recorded when SAGACTL_RECORD=1
/// (and then the test fails, saying it recorded).
enum Golden {
    static func check(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let url = CLI.root.appendingPathComponent("Tests/SagactlTests/Fixtures/golden/\(name)")
        if ProcessInfo.processInfo.environment["SAGACTL_RECORD"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("recorded \(name); unset SAGACTL_RECORD and run again", sourceLocation: sourceLocation)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("no golden file \(name); run with SAGACTL_RECORD=1 to create it", sourceLocation: sourceLocation)
            return
        }
        #expect(actual == expected, "output differs from golden \(name)", sourceLocation: sourceLocation)
    }
}
