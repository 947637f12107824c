import Foundation
import Testing

@testable import StateLang

/// Every YAML fixture under `Fixtures/loader` and `Fixtures/designer` is loaded, and its
/// diagnostics must be exactly the ones its comments announce (see `LoaderExpectation`).
/// A fixture without such comments must load without any diagnostic.
@Suite("Loader: fixtures with expected diagnostics")
struct FixtureExpectationTests {
    static let fixtureNames: [String] = ["loader", "designer"].flatMap { folder in
        let directory = TestPaths.fixture(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { "\(folder)/\($0)" }
    }

    @Test func fixturesExist() {
        #expect(Self.fixtureNames.filter { $0.hasPrefix("loader/") }.count >= 3)
        #expect(Self.fixtureNames.filter { $0.hasPrefix("designer/") }.count >= 7)
    }

    @Test(arguments: fixtureNames)
    func diagnosticsMatchTheComments(fixture: String) throws {
        let result = WorkflowLoader.load(path: TestPaths.fixture(fixture).path)
        let source = try #require(result.source, "\(fixture) was not read as text")
        let mismatches = LoaderExpectation.mismatches(expected: source.text, actual: result.diagnostics)
        #expect(mismatches.isEmpty, "\(fixture):\n\(mismatches.joined(separator: "\n"))")
    }
}
