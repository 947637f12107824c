import ArgumentParser
import Foundation
import StateLang

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check workflow files like a compiler.",
        discussion: """
            Prints every problem as `path:line:col: severity: message [ID]` with the source line \
            and a caret. Each ID is documented in docs/diagnostics.md (or: sagactl validate --explain ID). \
            A SubStateMachine cycle through several files (SL0107) is found among the files \
            given and the workflows they call that sit next to them, as `sagactl run` finds them.

            Exit status: 0 when no file has errors (warnings are allowed unless --strict), \
            65 when some file has errors, 64 on a usage error.

            Examples:
              sagactl validate workflows/*.yaml
              sagactl validate --format json order.yaml | jq '.files[0].diagnostics'
            """)

    @Argument(help: ArgumentHelp("Workflow files (YAML or JSON).", valueName: "file"))
    var files: [String] = []

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(name: .long, help: "Treat warnings as errors.")
    var strict = false

    @Option(name: .long, help: ArgumentHelp("A services file whose bindings count as present.", valueName: "file"))
    var services: String?

    @Option(name: .long, help: ArgumentHelp("Explain a diagnostic ID (SL0103) or slug and exit.", valueName: "id"))
    var explain: String?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    func validate() throws {
        if explain == nil, files.isEmpty { throw ValidationError("name at least one workflow file") }
    }

    func run() throws {
        if let explain {
            guard let code = DiagnosticCode.lookup(explain) else {
                throw CommandFailure("no diagnostic '\(explain)'", hint: "IDs look like SL0103; see docs/diagnostics.md", code: SagaExit.usage)
            }
            Terminal.out("\(code.id) \(code.slug) (\(code.severity.rawValue))\n  \(code.summary)\n  More: docs/diagnostics.md#\(code.id.lowercased())\n")
            return
        }
        var external: Set<String>?
        if let services { external = Set(try ServicesOption(services: services).load().keys) }
        let renderer = DiagnosticRenderer(colour: Terminal.colourOut)
        var errors = 0
        var warnings = 0
        var reports: [JSONValue] = []
        // Together, so that a SubStateMachine cycle through several of the files is found (SL0107),
        // with the machines they call found next to them, as `run` finds them.
        let siblings = SiblingWorkflows(keepsSyntax: true)
        for path in files { siblings.remember(directoryOf: path) }
        let results = WorkflowPipeline.compile(paths: files, options: ValidationOptions(externalServices: external),
                                               resolve: siblings.workflow(named:))
        for (path, result) in zip(files, results) {
            errors += result.errorCount
            warnings += result.warningCount
            switch format {
            case .text:
                Terminal.out(result.diagnostics.map { renderer.render($0, path: path, source: result.source) }.joined())
            case .json:
                reports.append(.object([
                    "path": .string(path),
                    "valid": .bool(!result.hasErrors),
                    "errors": .int(result.errorCount),
                    "warnings": .int(result.warningCount),
                    "states": result.workflow.map { .int($0.states.count) } ?? .null,
                    "fingerprint": result.workflow.map { .string($0.fingerprint) } ?? .null,
                    "diagnostics": .array(result.diagnostics.map(Self.json)),
                ]))
            }
        }
        switch format {
        case .text:
            Terminal.err(renderer.summary(errors: errors, warnings: warnings, files: files.count) + "\n")
        case .json:
            Terminal.out(JSONValue.object(["files": .array(reports), "errors": .int(errors), "warnings": .int(warnings)])
                .jsonString(pretty: true) + "\n")
        }
        if errors > 0 || (strict && warnings > 0) { throw ExitCode(SagaExit.invalidWorkflow) }
    }

    static func json(_ d: Diagnostic) -> JSONValue {
        func position(_ range: SourceRange?) -> [String: JSONValue] {
            guard let range else { return [:] }
            return ["line": .int(range.start.line), "column": .int(range.start.column),
                    "end_line": .int(range.end.line), "end_column": .int(range.end.column)]
        }
        var object: [String: JSONValue] = [
            "id": .string(d.code.id), "slug": .string(d.code.slug), "severity": .string(d.severity.rawValue),
            "message": .string(d.message), "hint": d.hint.map { .string($0) } ?? .null,
            "notes": .array(d.notes.map { note in .object(["message": .string(note.message)].merging(position(note.range)) { a, _ in a }) }),
        ]
        object.merge(position(d.range)) { a, _ in a }
        return .object(object)
    }
}

extension ServicesOption {
    init(services: String) {
        self.init()
        self.services = services
    }
}
