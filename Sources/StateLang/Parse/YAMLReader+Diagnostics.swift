import CYaml

/// Turns libyaml's errors into diagnostics that say what is wrong in the user's terms, at the
/// place where it is wrong.
extension YAMLReader {
    /// `depth` is how many collections were open when libyaml failed.
    func diagnostic(for parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>, text: String, depth: Int) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        if parser.error == YAML_READER_ERROR {
            return readerDiagnostic(problem: problem, value: Int(parser.problem_value),
                                    at: SourceFile.position(ofByte: Int(parser.problem_offset), in: bytes))
        }
        var marks = MarkPlacer(bytes: bytes)
        func place(_ mark: yaml_mark_t) -> SourcePosition { marks.place(mark) }
        let mark = place(parser.problem_mark)
        if problem.hasPrefix("Maximum nesting level") {
            // libyaml's scanner runs ahead through flow collections (`[[[[...`), so its own
            // limit can stop the parser before an event reaches the depth check in `read`.
            // Report it as ours, at the bracket that goes past our depth: libyaml stopped at
            // the collection that would have been at `depth + 1`.
            let from = YAMLReader.byteOffset(ofScalar: Int(parser.problem_mark.index), in: bytes)
            let at = YAMLReader.flowNestingPosition(in: bytes, from: from, depth: depth, limit: maxDepth) ?? mark
            return nestingDiagnostic(at: at)
        }
        let source = SourceFile(path: "", text: text)
        let line = source.line(mark.line).map { Array($0.unicodeScalars) } ?? []
        var notes: [DiagnosticNote] = []
        if let context = parser.context, place(parser.context_mark) != mark {
            notes.append(DiagnosticNote(String(cString: context), at: SourceRange(at: place(parser.context_mark))))
        }
        if problem.contains("Unicode character escape"), let escape = YAMLReader.escapeDiagnostic(line: line, mark: mark) {
            return escape
        }
        if problem == "found unexpected end of stream", let context = parser.context,
            String(cString: context) == "while scanning a quoted scalar" {
            // libyaml points at the end of the file; the quote that was never closed is the news.
            return Diagnostic(.syntaxError, "this quoted string is not closed",
                              at: SourceRange(at: place(parser.context_mark)),
                              hint: "add the closing quote; the string runs to the end of the file")
        }
        if problem == "mapping values are not allowed in this context" || problem == "could not find expected ':'",
            let keyStart = line.firstIndex(where: { $0 != " " && $0 != "-" }), mark.column - 1 - keyStart > 1024 {
            // YAML limits a key written without `?` to 1024 characters; libyaml then stops at
            // the colon with a message that does not say so.
            return Diagnostic(.syntaxError, "a key longer than 1024 characters must be written as an explicit key",
                              at: SourceRange(at: SourcePosition(line: mark.line, column: keyStart + 1)),
                              hint: "write `? <the key>` on one line and `: <its value>` on the next, or use a shorter name")
        }
        if problem.contains("tab") || (mark.column >= 1 && mark.column <= line.count && line[mark.column - 1] == "\t") {
            return Diagnostic(.syntaxError, "a tab character is used for indentation here", at: SourceRange(at: mark),
                              hint: "indent with spaces; YAML does not allow tabs for indentation")
        }
        return Diagnostic(.syntaxError, problem, at: SourceRange(at: mark), notes: notes)
    }

    func nestingDiagnostic(at position: SourcePosition) -> Diagnostic {
        Diagnostic(.nestingTooDeep, "values are nested more than \(maxDepth) levels deep", at: SourceRange(at: position),
                   hint: "a workflow never needs this much nesting; check that the file is what you meant")
    }

    static func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    /// Positions of libyaml's marks. At the end of a file without a final line break, libyaml
    /// can put a mark (the value of a lone `?`, or where it failed) on a line that does not
    /// exist; the end of the last line is where the file ends.
    struct MarkPlacer {
        private let bytes: UnsafeBufferPointer<UInt8>
        /// Marks count Unicode scalars: the bytes that do not continue one (libyaml reads
        /// only valid UTF-8).
        private let scalarCount: Int
        /// Found at the first mark past the end: a scan of the whole file.
        private var endOfFile: SourcePosition?

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            scalarCount = bytes.reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) }
        }

        mutating func place(_ mark: yaml_mark_t) -> SourcePosition {
            guard Int(mark.index) >= scalarCount else { return YAMLReader.position(mark) }
            let end = endOfFile ?? SourceFile.position(ofByte: bytes.count, in: bytes)
            endOfFile = end
            return end
        }
    }

    /// libyaml's reader rejects invalid UTF-8 (already caught by `WorkflowLoader.load(data:)`
    /// for files) and characters YAML does not allow, such as most C0 control characters.
    private func readerDiagnostic(problem: String, value: Int, at position: SourcePosition) -> Diagnostic {
        if problem.contains("control characters") {
            let code = String(value, radix: 16, uppercase: true)
            let name = "U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
            return Diagnostic(.syntaxError, "the file contains the control character \(name), which YAML does not allow",
                              at: SourceRange(at: position),
                              hint: "remove it; inside a double-quoted string it can be written as an escape such as \\x01")
        }
        return Diagnostic(.notText, "the file is not valid UTF-8 text (\(problem))", at: SourceRange(at: position),
                          hint: "save the file as UTF-8; binary files cannot be workflows")
    }

    /// A `\uXXXX` escape that libyaml rejects: a UTF-16 surrogate (JSON encodes characters
    /// outside the Basic Multilingual Plane as a pair of them) or a value past U+10FFFF.
    /// `mark` is the first hex digit, as libyaml reports it.
    private static func escapeDiagnostic(line: [Unicode.Scalar], mark: SourcePosition) -> Diagnostic? {
        let start = mark.column - 3  // 0-based index of the backslash
        func escape(at index: Int) -> (text: String, value: UInt32)? {
            guard index >= 0, index + 1 < line.count, line[index] == "\\" else { return nil }
            let digits = line[index + 1] == "u" ? 4 : line[index + 1] == "U" ? 8 : 0
            guard digits > 0, index + 2 + digits <= line.count else { return nil }
            let hex = String(String.UnicodeScalarView(line[(index + 2)..<(index + 2 + digits)]))
            guard let value = UInt32(hex, radix: 16) else { return nil }
            return (String(String.UnicodeScalarView(line[index..<(index + 2 + digits)])), value)
        }
        guard let first = escape(at: start) else { return nil }
        let range = { (length: Int) in SourceRange(at: SourcePosition(line: mark.line, column: start + 1), length: length) }
        if (0xD800...0xDBFF).contains(first.value), let second = escape(at: start + first.text.unicodeScalars.count),
            (0xDC00...0xDFFF).contains(second.value) {
            let combined = 0x10000 + ((first.value - 0xD800) << 10) + (second.value - 0xDC00)
            let hex = String(combined, radix: 16, uppercase: true)
            let character = Unicode.Scalar(combined).map { " (\(Character($0)))" } ?? ""
            return Diagnostic(
                .syntaxError, "'\(first.text)\(second.text)' is an escaped UTF-16 surrogate pair, which YAML does not accept",
                at: range(first.text.unicodeScalars.count + second.text.unicodeScalars.count),
                hint: "write the character itself\(character), or the 8-digit escape \\U" + String(repeating: "0", count: 8 - hex.count) + hex)
        }
        if (0xD800...0xDFFF).contains(first.value) {
            return Diagnostic(.syntaxError, "'\(first.text)' is half of a UTF-16 surrogate pair, which YAML does not accept",
                              at: range(first.text.unicodeScalars.count),
                              hint: "write the character itself, or its 8-digit escape \\UXXXXXXXX")
        }
        return Diagnostic(.syntaxError, "'\(first.text)' is not a Unicode character", at: range(first.text.unicodeScalars.count),
                          hint: "Unicode ends at \\U0010FFFF")
    }

    /// Where flow collections (`[`, `{`) opened from byte `start` on, inside `depth` open
    /// collections, first nest deeper than `limit`; quoted strings and comments are skipped.
    /// Nil when they never do.
    static func flowNestingPosition(
        in bytes: UnsafeBufferPointer<UInt8>, from start: Int, depth startDepth: Int, limit: Int
    ) -> SourcePosition? {
        var depth = startDepth
        var quote: UInt8? = nil
        var inComment = false
        var previous: UInt8 = 0x20
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            defer { previous = b; i += 1 }
            if inComment {
                if b == 0x0A || b == 0x0D { inComment = false }
                continue
            }
            if let open = quote {
                if open == 0x22, b == 0x5C { i += 1 }  // skip the escaped character in "..."
                else if b == open { quote = nil }  // '' inside '...' closes and reopens: same depth
                continue
            }
            let atTokenStart = [0x20, 0x09, 0x0A, 0x0D, 0x5B, 0x7B, 0x2C, 0x3A].contains(previous)
            switch b {
            case 0x23 where atTokenStart: inComment = true  // #
            case 0x22 where atTokenStart, 0x27 where atTokenStart: quote = b  // " '
            case 0x5B, 0x7B:  // [ {
                depth += 1
                if depth > limit { return SourceFile.position(ofByte: i, in: bytes) }
            case 0x5D, 0x7D:  // ] }
                depth -= 1
                if depth < startDepth { return nil }  // the collection libyaml stopped at is closed
            default: break
            }
        }
        return nil
    }

    /// The byte offset of the `index`-th Unicode scalar (libyaml's `mark.index`) in UTF-8 text.
    static func byteOffset(ofScalar index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        for (offset, byte) in bytes.enumerated() where byte & 0xC0 != 0x80 {
            if count == index { return offset }
            count += 1
        }
        return bytes.count
    }
}
