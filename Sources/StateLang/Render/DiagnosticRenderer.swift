/// Renders diagnostics like a compiler:
///
///     workflows/a.yaml:12:11: error: 'Next' names 'Pay', which is not a state; did you mean 'pay'? [SL0103]
///        12 |     Next: Pay
///           |           ^~~
///     workflows/a.yaml:4:3: note: ...
///
/// Colour (ANSI) only when asked, i.e. when writing to a terminal.
public struct DiagnosticRenderer: Sendable {
    public var colour: Bool

    public init(colour: Bool = false) { self.colour = colour }

    public func render(_ diagnostic: Diagnostic, path: String, source: SourceFile?) -> String {
        var out = ""
        let location = diagnostic.range.map { "\(path):\($0.start.line):\($0.start.column)" } ?? path
        out += bold("\(location): ") + severityLabel(diagnostic.severity) + bold(": \(oneLine(diagnostic.message))")
        out += " [\(diagnostic.code.id)]\n"
        if let range = diagnostic.range, let source { out += snippet(range, source: source) }
        for note in diagnostic.notes {
            let noteLocation = note.range.map { "\(path):\($0.start.line):\($0.start.column): " } ?? "\(path): "
            out += bold(noteLocation) + severityLabel(.note) + ": \(oneLine(note.message))\n"
            if let range = note.range, let source { out += snippet(range, source: source) }
        }
        if let hint = diagnostic.hint { out += "  " + paint("hint:", "36") + " \(hint)\n" }
        return out
    }

    /// The source line and a caret (with tildes under the rest of a one-line range). A line
    /// longer than `maxLineWidth` is cut to a window around the caret, marked with `...`.
    public func snippet(_ range: SourceRange, source: SourceFile) -> String {
        guard let line = source.line(range.start.line) else { return "" }
        let number = String(range.start.line)
        let gutter = String(repeating: " ", count: number.count)
        var scalars = Array(line.unicodeScalars)
        // Tabs keep their width so the caret lines up.
        var column = max(1, min(range.start.column, scalars.count + 1))
        var width = 1
        if range.end.line == range.start.line, range.end.column > range.start.column {
            width = min(range.end.column - range.start.column, max(1, scalars.count - column + 1))
        }
        var prefix = ""
        var suffix = ""
        if scalars.count > DiagnosticRenderer.maxLineWidth {
            let context = DiagnosticRenderer.maxLineWidth / 2
            let first = max(0, min(column - 1 - context, scalars.count - DiagnosticRenderer.maxLineWidth))
            let last = min(scalars.count, first + DiagnosticRenderer.maxLineWidth)
            if first > 0 { prefix = "..." }
            if last < scalars.count { suffix = "..." }
            scalars = Array(scalars[first..<last])
            column -= first
            width = min(width, max(1, scalars.count - column + 1))
        }
        var pad = String(repeating: " ", count: prefix.count)
        for scalar in scalars.prefix(column - 1) { pad += scalar == "\t" ? "\t" : " " }
        let marker = "^" + String(repeating: "~", count: max(0, width - 1))
        let text = prefix + String(String.UnicodeScalarView(scalars)) + suffix
        return " \(number) | \(text)\n \(gutter) | \(pad)\(paint(marker, "32"))\n"
    }

    /// The longest source line shown whole under a diagnostic, in Unicode scalars.
    public static let maxLineWidth = 160

    public func summary(errors: Int, warnings: Int, files: Int) -> String {
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "\(plural(errors, "error")) and \(plural(warnings, "warning")) in \(plural(files, "file"))"
    }

    private func severityLabel(_ severity: Severity) -> String {
        switch severity {
        case .error: paint("error", "1;31")
        case .warning: paint("warning", "1;35")
        case .note: paint("note", "1;36")
        }
    }

    /// Messages quote names from the file, which may hold line breaks (a designer `stateId`
    /// such as "Parallel\nStart1"); escaped, so that one diagnostic stays one line.
    private func oneLine(_ message: String) -> String {
        var result = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where SourceFile.isLineBreak(scalar): result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private func bold(_ text: String) -> String { paint(text, "1") }

    private func paint(_ text: String, _ code: String) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
