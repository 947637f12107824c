import Foundation
import StateLang

/// A `--services` file: either a map with a top-level `Services` key, or the map itself.
enum ServicesFile {
    struct Result {
        var bindings: [String: ServiceBinding]
        var diagnostics: [Diagnostic]
        var source: SourceFile?
    }

    static func load(path: String) -> Result {
        guard let data = FileManager.default.contents(atPath: path) else {
            return Result(bindings: [:], diagnostics: [Diagnostic(.unreadableFile, "cannot read the services file", at: nil)], source: nil)
        }
        let text = String(decoding: data, as: UTF8.self)
        let source = SourceFile(path: path, text: text)
        let read = YAMLReader().read(text)
        guard let root = read.root else { return Result(bindings: [:], diagnostics: read.diagnostics, source: source) }
        let (syntax, diagnostics) = WorkflowLowering.lowerServices(root)
        var all = read.diagnostics + diagnostics
        var bindings: [String: ServiceBinding] = [:]
        for binding in syntax {
            if let compiled = WorkflowCompiler.compileBinding(binding) {
                bindings[binding.name.value] = compiled
            } else {
                all.append(Diagnostic(.invalidServiceBinding,
                                      "service '\(binding.name.value)' has Type '\(binding.type?.value ?? "")'; use http, exec or local",
                                      at: binding.type?.range ?? binding.name.range))
            }
        }
        return Result(bindings: bindings, diagnostics: all, source: source)
    }
}
