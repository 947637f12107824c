import Foundation
import StateLang

/// One expected diagnostic, as written in a fixture: `# error SL0103` on the line it is about.
struct ExpectedDiagnostic: Hashable, Comparable, CustomStringConvertible {
    /// 1-based line; 0 for a diagnostic about the whole file (written `# file: error SL0003`).
    var line: Int
    var severity: Severity
    var code: String

    init(line: Int, severity: Severity, code: String) {
        self.line = line
        self.severity = severity
        self.code = code
    }

    init(_ diagnostic: Diagnostic) {
        self.init(line: diagnostic.range?.start.line ?? 0, severity: diagnostic.severity, code: diagnostic.code.id)
    }

    static func < (a: Self, b: Self) -> Bool { (a.line, a.code, a.severity) < (b.line, b.code, b.severity) }

    var description: String { "line \(line): \(severity.rawValue) \(code)" }
}

/// The annotations of a fixture file.
///
/// - `# error SL0103` (several: `# error SL0103, note SL0305`) at the end of a line: these
///   diagnostics start on that line;
/// - `# file: error SL0003`: a diagnostic with no position;
/// - `# options: for-execution` and `# options: services=a,b`: validation options.
///
/// A comment that mentions a code but does not parse is a problem, so a typo in an annotation
/// cannot silently drop an expectation.
struct FixtureAnnotations {
    var expected: Set<ExpectedDiagnostic> = []
    var options = ValidationOptions()
    var problems: [String] = []

    init(_ text: String) {
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            guard let comment = FixtureAnnotations.comment(in: line) else { continue }
            if comment.hasPrefix("options:") {
                parseOptions(comment.dropFirst("options:".count), line: number)
            } else if comment.hasPrefix("file:") {
                parseList(comment.dropFirst("file:".count), line: 0, written: number)
            } else if FixtureAnnotations.looksLikeAnnotation(comment) {
                parseList(comment[...], line: number, written: number)
            }
        }
    }

    /// The text after the `#` that starts a comment on this line (at the start of the line or
    /// after a blank), trimmed; nil when there is no comment.
    static func comment(in line: Substring) -> String? {
        var previous: Character = " "
        var inSingle = false
        var inDouble = false
        for index in line.indices {
            let character = line[index]
            if character == "'" && !inDouble { inSingle.toggle() }
            if character == "\"" && !inSingle && previous != "\\" { inDouble.toggle() }
            if character == "#" && !inSingle && !inDouble && (previous == " " || previous == "\t" || index == line.startIndex) {
                return line[line.index(after: index)...].trimmingCharacters(in: .whitespaces)
            }
            previous = character
        }
        return nil
    }

    static func looksLikeAnnotation(_ comment: String) -> Bool {
        comment.contains("SL0") || comment.hasPrefix("error") || comment.hasPrefix("warning") || comment.hasPrefix("note")
    }

    mutating func parseList(_ list: Substring, line: Int, written: Int) {
        for item in list.split(separator: ",") {
            let words = item.split(separator: " ")
            guard words.count == 2, let severity = Severity(rawValue: String(words[0])),
                  words[1].count == 6, words[1].hasPrefix("SL"), words[1].dropFirst(2).allSatisfy(\.isNumber)
            else {
                problems.append("line \(written): cannot read annotation '\(item.trimmingCharacters(in: .whitespaces))'; write `# error SL0103`")
                continue
            }
            let expectation = ExpectedDiagnostic(line: line, severity: severity, code: String(words[1]))
            if !expected.insert(expectation).inserted {
                problems.append("line \(written): '\(expectation)' is annotated twice")
            }
        }
    }

    mutating func parseOptions(_ list: Substring, line: Int) {
        for item in list.split(separator: " ") {
            if item == "for-execution" {
                options.forExecution = true
            } else if item.hasPrefix("services=") {
                options.externalServices = Set(item.dropFirst("services=".count).split(separator: ",").map(String.init))
            } else {
                problems.append("line \(line): unknown option '\(item)'")
            }
        }
    }
}
