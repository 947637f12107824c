import Foundation
@testable import StateLang

/// The diagnostics a fixture expects, written as comments next to the line they point at:
///
///     Input: foo   # error:12 SL0201
///     Nxt: B       # warning SL0203
///
/// `severity[:column] code`, several per comment allowed. Comparing the whole list both ways
/// (nothing missing, nothing extra) makes every fixture a test of what is *not* reported too.
struct LoaderExpectation: Hashable, CustomStringConvertible {
    var line: Int
    var column: Int?
    var severity: Severity
    var code: String

    var description: String { "\(line)\(column.map { ":\($0)" } ?? ""): \(severity.rawValue) \(code)" }

    /// Every expectation written in `text`.
    static func parse(_ text: String) -> [LoaderExpectation] {
        let pattern = /(error|warning|note)(?::(\d+))? (SL\d{4})/
        var result: [LoaderExpectation] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let hash = line.firstIndex(of: "#") else { continue }
            for match in line[hash...].matches(of: pattern) {
                result.append(LoaderExpectation(
                    line: index + 1, column: match.2.flatMap { Int($0) },
                    severity: Severity(rawValue: String(match.1))!, code: String(match.3)))
            }
        }
        return result
    }

    /// The mismatches between what `text` expects and what was reported, as readable lines;
    /// empty when they agree.
    static func mismatches(expected text: String, actual diagnostics: [Diagnostic]) -> [String] {
        let expected = parse(text)
        var unmatched = diagnostics
        var problems: [String] = []
        for expectation in expected {
            if let index = unmatched.firstIndex(where: { expectation.matches($0) }) {
                unmatched.remove(at: index)
            } else {
                problems.append("expected but not reported: \(expectation)")
            }
        }
        for diagnostic in unmatched {
            let place = diagnostic.range.map { "\($0.start)" } ?? "file"
            problems.append("reported but not expected: \(place): \(diagnostic.severity.rawValue) \(diagnostic.code.id) \(diagnostic.message)")
        }
        return problems
    }

    func matches(_ diagnostic: Diagnostic) -> Bool {
        guard let range = diagnostic.range else { return false }
        return range.start.line == line && (column == nil || range.start.column == column)
            && diagnostic.severity == severity && diagnostic.code.id == code
    }
}
