import Foundation
import StateLang

/// Paths and helpers shared by the validator tests.
enum ValidatorTestSupport {
    /// The repository root: this file is `<root>/Tests/StateLangTests/ValidatorTestSupport.swift`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/corpus/seata` next to the repository root.
    static let seataCorpus = repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/corpus/seata")

    /// The annotated fixtures, copied into the test bundle.
    static var fixtureDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/validator")
    }

    /// Loads text and, when it lowers to a workflow, validates it: every diagnostic the
    /// front end produces for the file, as `sagactl validate` shows them.
    static func diagnose(text: String, path: String, options: ValidationOptions = .init()) -> [Diagnostic] {
        let loaded = WorkflowLoader.load(text: text, path: path)
        return loaded.diagnostics + (loaded.syntax.map { Validator.validate($0, options: options) } ?? [])
    }

    static func diagnose(path: String, options: ValidationOptions = .init()) -> [Diagnostic] {
        let loaded = WorkflowLoader.load(path: path)
        return loaded.diagnostics + (loaded.syntax.map { Validator.validate($0, options: options) } ?? [])
    }

    /// Diagnostics rendered as a compiler prints them, for failure messages.
    static func render(_ diagnostics: [Diagnostic], path: String, text: String? = nil) -> String {
        let renderer = DiagnosticRenderer()
        let source = text.map { SourceFile(path: path, text: $0) }
        return diagnostics.map { renderer.render($0, path: path, source: source) }.joined()
    }
}
