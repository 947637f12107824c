import Foundation

/// What every fuzz target asserts beyond "does not crash": the promises `sagactl validate`
/// makes about bad input (DESIGN §9). A broken promise stops the process with `fatalError`,
/// which libFuzzer reports as a crash and saves the input that caused it.
///
/// These files are compiled into the same module as the StateLang sources by
/// `scripts/fuzz.sh`, so they may use internal API.
enum FuzzCheck {
    /// Stops the fuzzer with `message` when `condition` is false.
    static func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
        if !condition() { fatalError("fuzz invariant broken: \(message())") }
    }

    /// A pipeline result either compiled or explains why not: no workflow means at least one
    /// error, and every position points into the file. Every diagnostic renders.
    static func pipelineResult(_ result: WorkflowPipeline.Result, path: String) {
        require(result.workflow != nil || result.hasErrors,
                "no workflow and no error (\(result.diagnostics.count) diagnostics)")
        if result.workflow != nil { require(!result.hasErrors, "a workflow was compiled despite errors") }
        positions(result.diagnostics, source: result.source)
        let renderer = DiagnosticRenderer()
        for diagnostic in result.diagnostics {
            let rendered = renderer.render(diagnostic, path: path, source: result.source)
            require(rendered.hasPrefix(path), "a rendered diagnostic does not start with the path: \(rendered.prefix(200))")
        }
        if let workflow = result.workflow {
            _ = workflow.dot()
            _ = workflow.mermaid()
        }
    }

    /// Every diagnostic and note position names a line of the file and a column on it (or
    /// just past its end).
    static func positions(_ diagnostics: [Diagnostic], source: SourceFile?) {
        for diagnostic in diagnostics {
            let ranges = [diagnostic.range] + diagnostic.notes.map(\.range)
            for range in ranges.compactMap({ $0 }) {
                guard let source else {
                    // Only a file that is not text has no source: its position is counted in bytes.
                    require(diagnostic.code == .notText, "\(diagnostic.code.id) has a position but there is no source text")
                    continue
                }
                let start = range.start
                guard let line = source.line(start.line) else {
                    fatalError("fuzz invariant broken: \(diagnostic.code.id) at line \(start.line), "
                        + "but the file has \(source.lineCount) lines: \(diagnostic.message.prefix(200))")
                }
                let columns = line.unicodeScalars.count
                require(start.column >= 1 && start.column <= columns + 1,
                        "\(diagnostic.code.id) at \(start), but line \(start.line) has \(columns) columns: "
                            + "\(diagnostic.message.prefix(200))")
                require(range.end >= start, "\(diagnostic.code.id) ends before it starts")
            }
        }
    }

    /// An offset and length reported into a text of `count` Unicode scalars lies within it
    /// (an error at the end of the text may point one past its last scalar).
    static func span(offset: Int, length: Int, count: Int, _ what: @autoclosure () -> String) {
        require(offset >= 0 && length >= 0 && offset <= count + 1 && offset + length <= count + 1,
                "\(what()) at \(offset)+\(length) in a text of \(count) scalars")
    }
}
