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
            return failure(path, tooLarge("the file is \(mebibytes(size))"))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return failure(path, Diagnostic(.unreadableFile, "the file cannot be read (permission denied?)", at: nil,
                                            hint: "check its permissions"))
        }
        let data: Data
        do {
            defer { try? handle.close() }  // a failed close of a read-only descriptor loses nothing
            data = try read(handle, limit: maxFileBytes)
        } catch {
            return failure(path, Diagnostic(.unreadableFile, "the file cannot be read: \(error.localizedDescription)",
                                            at: nil))
        }
        return load(data: data, path: path)
    }

    /// Reads `handle` to its end, or to one byte past `limit`: enough to tell that it is too
    /// large, also for a device, a pipe or standard input, whose size is unknown (`/dev/zero`
    /// or `yes |` would otherwise be read until memory runs out).
    public static func read(_ handle: FileHandle, limit: Int) throws -> Data {
        var data = Data()
        while data.count <= limit, let chunk = try handle.read(upToCount: min(1 << 20, limit + 1 - data.count)),
              !chunk.isEmpty {
            data.append(chunk)
        }
        return data
    }

    public static func load(data: Data, path: String) -> Result {
        switch decode(data) {
        case .text(let text): load(text: text, path: path)
        case .refused(let diagnostic): failure(path, diagnostic)
        }
    }

    /// The bytes of a file as text, or why they are not text a workflow (or a services file)
    /// can be: too large, UTF-16 or UTF-32, a NUL byte, bytes that are not UTF-8.
    public enum Decoded: Sendable {
        /// Without a leading UTF-8 byte-order mark.
        case text(String)
        case refused(Diagnostic)
    }

    public static func decode(_ data: Data) -> Decoded {
        if data.count > maxFileBytes {
            return .refused(tooLarge("the file is larger than \(mebibytes(maxFileBytes))"))
        }
        let bytes = [UInt8](data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...])
        if let encoding = utf16Or32(bytes) {
            return .refused(Diagnostic(.notText, "the file is \(encoding) text; workflow files are UTF-8",
                                       at: nil, hint: "save it as UTF-8"))
        }
        if let nul = bytes.firstIndex(of: 0) {
            return .refused(Diagnostic(
                .notText, "the file contains a NUL byte; it looks like binary data, not a workflow",
                at: SourceRange(at: SourceFile.position(ofByte: nul, in: bytes))))
        }
        if let bad = firstInvalidUTF8(bytes) {
            return .refused(Diagnostic(
                .notText, "the file is not valid UTF-8 text (byte \(hexByte(bytes[bad])) at offset \(bad))",
                at: SourceRange(at: SourceFile.position(ofByte: bad, in: bytes)),
                hint: "save it as UTF-8; binary files cannot be workflows"))
        }
        return .text(String(decoding: bytes, as: UTF8.self))
    }

    /// `0xE9`.
    public static func hexByte(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }

    public static func load(text: String, path: String) -> Result {
        let source = SourceFile(path: path, text: text)
        let read = YAMLReader().read(text)
        var diagnostics = read.diagnostics
        guard var root = read.root else { return Result(source: source, syntax: nil, diagnostics: diagnostics) }
        var designer = false
        var converterCodes: Set<DiagnosticCode> = []
        if DesignerFormat.isDesignerDocument(root) {
            let converted = DesignerFormat.convert(root)
            diagnostics += converted.diagnostics
            converterCodes = Set(converted.diagnostics.map(\.code))
            guard let standard = converted.root else {
                return Result(source: source, syntax: nil, diagnostics: diagnostics)
            }
            root = standard
            designer = true
        }
        var (syntax, lowered) = WorkflowLowering.lower(root)
        // A designer document without a Start edge or without states was already reported in
        // the designer's terms; the lowering would say the same about keys the user never wrote.
        let documentCodes: Set<DiagnosticCode> = [.missingStartState, .noStates]
        if !converterCodes.isDisjoint(with: documentCodes) { lowered.removeAll { documentCodes.contains($0.code) } }
        diagnostics += lowered
        syntax?.isDesignerFormat = designer
        return Result(source: source, syntax: syntax, diagnostics: diagnostics)
    }

    static func failure(_ path: String, _ diagnostic: Diagnostic) -> Result {
        Result(source: nil, syntax: nil, diagnostics: [diagnostic])
    }

    private static func tooLarge(_ message: String) -> Diagnostic {
        Diagnostic(.fileTooLarge, message + "; workflow files are limited to \(mebibytes(maxFileBytes))", at: nil,
                   hint: "split it into several workflows linked by SubStateMachine states")
    }

    /// "8 MiB", "9.5 MiB": one decimal unless whole.
    public static func mebibytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + 512 * 1024) / (1024 * 1024)
        return tenths % 10 == 0 ? "\(tenths / 10) MiB" : "\(tenths / 10).\(tenths % 10) MiB"
    }

    /// The name of the encoding when the bytes are UTF-16 or UTF-32 (by byte-order mark, or by
    /// the zero bytes that ASCII text has in those encodings), rather than binary data.
    private static func utf16Or32(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0xFF, 0xFE, 0, 0]) || bytes.starts(with: [0, 0, 0xFE, 0xFF]) { return "UTF-32" }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) { return "UTF-16" }
        let sample = bytes.prefix(64)
        guard sample.count >= 8, sample.count % 2 == 0 else { return nil }
        let evens = stride(from: 0, to: sample.count, by: 2).map { sample[$0] }
        let odds = stride(from: 1, to: sample.count, by: 2).map { sample[$0] }
        func asciiText(_ part: [UInt8]) -> Bool { part.allSatisfy { (0x09...0x7E).contains($0) } }
        if odds.allSatisfy({ $0 == 0 }) && asciiText(evens) || evens.allSatisfy({ $0 == 0 }) && asciiText(odds) {
            return "UTF-16"
        }
        return nil
    }

    /// The offset of the first byte that does not start a valid UTF-8 sequence (overlong forms,
    /// surrogates and values past U+10FFFF are invalid), or nil when all of it is valid.
    public static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
