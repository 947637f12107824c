import Foundation
import Testing

@testable import StateLang

/// The rendered diagnostics (no colour) of some bad files, compared with golden files in
/// `Fixtures/loader/golden/`. Run with `SAGACTL_RECORD=1` to re-record them; a recording run
/// fails, so that a recorded file is looked at before it is committed.
@Suite("Loader: golden rendered diagnostics")
struct LoaderGoldenTests {
    /// Input fixture (relative to `Fixtures/`) → golden file name.
    static let cases: [(input: String, golden: String)] = [
        ("loader/wrong-types.yaml", "wrong-types.txt"),
        ("loader/duplicates.yaml", "duplicates.txt"),
        ("loader/unicode-columns.yaml", "unicode-columns.txt"),
        ("loader/tab-indentation.yaml", "tab-indentation.txt"),
        ("loader/unclosed-quote.yaml", "unclosed-quote.txt"),
        ("loader/surrogate.json", "surrogate.txt"),
        ("loader/deep-nesting.json", "deep-nesting.txt"),
        ("designer/malformed-edges.yaml", "designer-malformed-edges.txt"),
        ("designer/malformed-nodes.yaml", "designer-malformed-nodes.txt"),
    ]

    static var recording: Bool { ProcessInfo.processInfo.environment["SAGACTL_RECORD"] == "1" }

    /// Every diagnostic in file order, then the summary line, as `sagactl validate` prints them.
    static func render(_ input: String) -> String {
        let result = WorkflowLoader.load(path: TestPaths.fixture(input).path)
        var bag = DiagnosticBag()
        bag.append(contentsOf: result.diagnostics)
        let renderer = DiagnosticRenderer(colour: false)
        var output = bag.sorted.map { renderer.render($0, path: input, source: result.source) }.joined()
        output += renderer.summary(
            errors: result.diagnostics.filter { $0.severity == .error }.count,
            warnings: result.diagnostics.filter { $0.severity == .warning }.count, files: 1) + "\n"
        return output
    }

    @Test(arguments: cases.map(\.input))
    func renderedDiagnosticsMatchTheGoldenFile(input: String) throws {
        let golden = try #require(Self.cases.first { $0.input == input }?.golden)
        let url = TestPaths.fixture("loader/golden/" + golden)
        let actual = Self.render(input)
        if Self.recording {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("recorded \(url.path); check it and run again without SAGACTL_RECORD")
            return
        }
        let expected = try #require(
            try? String(contentsOf: url, encoding: .utf8),
            "no golden file \(url.path); run with SAGACTL_RECORD=1 to record it")
        #expect(actual == expected, "rendered diagnostics differ from \(golden):\n\(actual)")
    }

    @Test func everyGoldenFileHasACase() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("loader/golden").path)
        #expect(Set(files.filter { $0.hasSuffix(".txt") }) == Set(Self.cases.map(\.golden)))
    }
}
