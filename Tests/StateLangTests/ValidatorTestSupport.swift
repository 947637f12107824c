import Foundation
import StateLang

/// Paths and helpers shared by the validator tests.
enum ValidatorTestSupport {
    /// The Seata corpus (`TestPaths.corpus`).
    static var seataCorpus: URL { TestPaths.corpus }

    /// The annotated fixtures, copied into the test bundle.
    static var fixtureDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/validator")
    }

    /// Every diagnostic the whole front end (read → lower → validate → compile) produces for
    /// the text, as `sagactl validate` shows them; the compiler is where expressions are parsed
    /// (SL05xx).
    static func diagnose(text: String, path: String, options: ValidationOptions = .init()) -> [Diagnostic] {
        WorkflowPipeline.compile(text: text, path: path, options: options).diagnostics
    }

    static func diagnose(path: String, options: ValidationOptions = .init()) -> [Diagnostic] {
        WorkflowPipeline.compile(path: path, options: options).diagnostics
    }

    /// Diagnostics rendered as a compiler prints them, for failure messages.
    static func render(_ diagnostics: [Diagnostic], path: String, text: String? = nil) -> String {
        let renderer = DiagnosticRenderer()
        let source = text.map { SourceFile(path: path, text: $0) }
        return diagnostics.map { renderer.render($0, path: path, source: source) }.joined()
    }
}
