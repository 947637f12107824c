import Foundation

/// Reads a workflow file from disk (or text) into a `WorkflowSyntax` with diagnostics.
/// Every kind of bad input ends as a diagnostic: a missing file, a directory, binary data,
/// a huge file, deep nesting, malformed YAML.
public enum WorkflowLoader {
    /// Files larger than this are refused before parsing (the largest real definitions are
    /// tens of kilobytes; a 1,000-state workflow is under 1 MiB).
    public static let maxFileBytes = 8 * 1024 * 1024

    public struct Result: Sendable {
        /// The text, when the file could be read as text; used to render snippets.
        public var source: SourceFile?
        public var syntax: WorkflowSyntax?
        public var diagnostics: [Diagnostic]

        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    public static func load(path: String) -> Result {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return failure(path, Diagnostic(.unreadableFile, "no such file", at: nil,
                                            hint: "check the path; it is relative to \(FileManager.default.currentDirectoryPath)"))
        }
        if isDirectory.boolValue {
            return failure(path, Diagnostic(.unreadableFile, "is a directory, not a workflow file", at: nil,
                                            hint: "name a .yaml or .json file inside it"))
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > maxFileBytes {
            return failure(path, Diagnostic(
                .fileTooLarge, "the file is \(size / (1024 * 1024)) MiB; workflow files are limited to \(maxFileBytes / (1024 * 1024)) MiB",
                at: nil, hint: "split it into several workflows linked by SubStateMachine states"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return failure(path, Diagnostic(.unreadableFile, "the file cannot be read (permission denied?)", at: nil,
                                            hint: "check its permissions"))
        }
        return load(data: data, path: path)
    }

    public static func load(data: Data, path: String) -> Result {
        if data.count > maxFileBytes {
            return failure(path, Diagnostic(
                .fileTooLarge, "the file is larger than \(maxFileBytes / (1024 * 1024)) MiB", at: nil,
                hint: "split it into several workflows linked by SubStateMachine states"))
        }
        var bytes = data
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let nul = bytes.firstIndex(of: 0) {
            let prefix = bytes[bytes.startIndex..<nul]
            let line = prefix.filter { $0 == 0x0A }.count + 1
            return failure(path, Diagnostic(
                .notText, "the file contains a NUL byte; it looks like binary data, not a workflow",
                at: SourceRange(at: SourcePosition(line: line, column: 1))))
        }
        guard let text = String(validatingUTF8: bytes) else {
            return failure(path, Diagnostic(.notText, "the file is not valid UTF-8 text", at: nil,
                                            hint: "save it as UTF-8"))
        }
        return load(text: text, path: path)
    }

    public static func load(text: String, path: String) -> Result {
        let source = SourceFile(path: path, text: text)
        let read = YAMLReader().read(text)
        var diagnostics = read.diagnostics
        guard var root = read.root else { return Result(source: source, syntax: nil, diagnostics: diagnostics) }
        var designer = false
        if DesignerFormat.isDesignerDocument(root) {
            let converted = DesignerFormat.convert(root)
            diagnostics += converted.diagnostics
            guard let standard = converted.root else {
                return Result(source: source, syntax: nil, diagnostics: diagnostics)
            }
            root = standard
            designer = true
        }
        let (syntax, lowered) = WorkflowLowering.lower(root)
        diagnostics += lowered
        var result = syntax
        result?.isDesignerFormat = designer
        return Result(source: source, syntax: result, diagnostics: diagnostics)
    }

    static func failure(_ path: String, _ diagnostic: Diagnostic) -> Result {
        Result(source: nil, syntax: nil, diagnostics: [diagnostic])
    }
}

extension String {
    fileprivate init?(validatingUTF8 data: Data) {
        guard let s = String(data: data, encoding: .utf8) else { return nil }
        self = s
    }
}
