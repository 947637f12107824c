import ArgumentParser
import Foundation
import StateLang

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a workflow as a Graphviz or Mermaid graph.",
        discussion: """
            Forward edges are solid, compensation edges dashed, catch edges red and labelled with \
            their error names, choice edges labelled with their conditions; the start is a dot, \
            Succeed and Fail states are drawn distinctly.

            Examples:
              sagactl graph workflows/order-payment.yaml | dot -Tsvg > flow.svg
              sagactl graph --format mermaid workflows/order-payment.yaml >> README.md
            """)

    @Argument(help: ArgumentHelp("A workflow file.", valueName: "file"))
    var file: String

    @Option(name: .long, help: "dot (Graphviz) or mermaid.")
    var format: GraphFormat = .dot

    @Option(name: [.short, .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    enum GraphFormat: String, ExpressibleByArgument, CaseIterable {
        case dot
        case mermaid
    }

    func run() throws {
        let result = WorkflowPipeline.compile(path: file)
        let renderer = DiagnosticRenderer(colour: Terminal.colourErr)
        guard let workflow = result.workflow else {
            Terminal.err(result.diagnostics.filter { $0.severity == .error }
                .map { renderer.render($0, path: file, source: result.source) }.joined())
            throw CommandFailure("cannot draw \(file): it has \(result.errorCount) error\(result.errorCount == 1 ? "" : "s")",
                                 hint: "run `sagactl validate \(file)`", code: SagaExit.invalidWorkflow)
        }
        let text = format == .dot ? workflow.dot() : workflow.mermaid()
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure("cannot write \(output): \(error.localizedDescription)", code: SagaExit.internalError)
            }
        } else {
            Terminal.out(text)
        }
    }
}
