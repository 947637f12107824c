import Foundation
import StateLang

/// A `--services` file: either a map with a top-level `Services` key, or the map itself.
///
/// Read like a workflow file (UTF-8 text, at most `WorkflowLoader.maxFileBytes`) and checked by
/// the same rule as a workflow's own `Services` section (SL0408), so that a binding sagactl
/// cannot use is refused before an instance starts rather than failing its first call.
enum ServicesFile {
    struct Result {
        var bindings: [String: ServiceBinding]
        var diagnostics: [Diagnostic]
        var source: SourceFile?
    }

    /// The file must exist and be a regular file (the caller checks; see `ServicesOption`).
    static func load(path: String) -> Result {
        let data: Data
        do {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoPermission) }
            defer { try? handle.close() }  // a failed close of a read-only descriptor loses nothing
            data = try WorkflowLoader.read(handle, limit: WorkflowLoader.maxFileBytes)
        } catch {
            return Result(bindings: [:], diagnostics: [Diagnostic(.unreadableFile, "cannot read the services file: \(error.localizedDescription)",
                                                                  at: nil, hint: "check its permissions")], source: nil)
        }
        let text: String
        switch WorkflowLoader.decode(data) {
        case .text(let decoded): text = decoded
        case .refused(let diagnostic): return Result(bindings: [:], diagnostics: [diagnostic], source: nil)
        }
        let source = SourceFile(path: path, text: text)
        let read = YAMLReader().read(text)
        guard let root = read.root else {
            // The reader's hint for an empty document is about workflows.
            let diagnostics = read.diagnostics.map { diagnostic in
                diagnostic.code != .emptyDocument ? diagnostic
                    : Diagnostic(.emptyDocument, "the services file holds no bindings", at: nil,
                                 hint: "write a `Services:` map from service name to binding")
            }
            return Result(bindings: [:], diagnostics: diagnostics, source: source)
        }
        let (syntax, diagnostics) = WorkflowLowering.lowerServices(root)
        var bag = DiagnosticBag()
        bag.append(contentsOf: read.diagnostics + diagnostics)
        ServiceBindingRule.check(syntax, into: &bag)
        var bindings: [String: ServiceBinding] = [:]
        for binding in syntax {
            // A binding that does not compile has an unknown Type, reported by the rule.
            if let compiled = WorkflowCompiler.compileBinding(binding) { bindings[binding.name.value] = compiled }
        }
        return Result(bindings: bindings, diagnostics: bag.sorted, source: source)
    }
}
