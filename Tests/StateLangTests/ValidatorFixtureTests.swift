import Foundation
import StateLang
import Testing

/// Every file under `Fixtures/validator/` goes through the whole front end (load, validate,
/// compile: what `sagactl validate` reports, expression errors included); the diagnostics found
/// must be exactly the ones annotated next to the lines they are about (a missing or an extra
/// one fails). Files named `valid-*` carry no annotation and must produce nothing above a note.
@Suite struct ValidatorFixtureTests {
    static let fixtureNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: ValidatorTestSupport.fixtureDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    static func text(of name: String) throws -> String {
        try String(contentsOf: ValidatorTestSupport.fixtureDirectory.appendingPathComponent(name), encoding: .utf8)
    }

    @Test(arguments: fixtureNames)
    func fixture(_ name: String) throws {
        let text = try Self.text(of: name)
        let annotations = FixtureAnnotations(text)
        #expect(annotations.problems.isEmpty, "\(name): \(annotations.problems.joined(separator: "; "))")
        let diagnostics = ValidatorTestSupport.diagnose(text: text, path: name, options: annotations.options)
        let rendered = ValidatorTestSupport.render(diagnostics, path: name, text: text)

        if name.hasPrefix("valid-") {
            #expect(annotations.expected.isEmpty, "\(name) is a valid fixture and must not carry annotations")
            let serious = diagnostics.filter { $0.severity > .note }
            #expect(serious.isEmpty, "\(name) must produce nothing above a note:\n\(rendered)")
            return
        }
        #expect(!annotations.expected.isEmpty, "\(name) annotates no diagnostic; name it valid-* or annotate it")
        let found = Set(diagnostics.map(ExpectedDiagnostic.init))
        let missing = annotations.expected.subtracting(found).sorted()
        let extra = found.subtracting(annotations.expected).sorted()
        #expect(missing.isEmpty, "\(name): annotated but not reported: \(missing)\n\(rendered)")
        #expect(extra.isEmpty, "\(name): reported but not annotated: \(extra)\n\(rendered)")
    }

    /// Codes that cannot come out of `WorkflowPipeline.compile(text:path:)`, and why.
    static let notReachableFromFixtures: [String: String] = [
        "SL0001": "needs a path that cannot be read (tested through load(path:) below)",
        "SL0009": "needs a file over 8 MiB (tested through load(data:) below)",
        "SL0209": "designer-format conversion is owned by the designer module",
        "SL0107": "needs several files checked together (SubMachineCycleTests)",
        "SL0002": "invalid UTF-8 and NUL bytes cannot be written in a text fixture; LoaderTests covers them",
    ]

    @Test func fixturesCoverEveryReachableCode() throws {
        var annotated = Set<String>()
        var invalid = 0
        var valid = 0
        for name in Self.fixtureNames {
            let annotations = FixtureAnnotations(try Self.text(of: name))
            annotated.formUnion(annotations.expected.map(\.code))
            if name.hasPrefix("valid-") { valid += 1 } else { invalid += 1 }
        }
        let required = Set(DiagnosticCode.all.map(\.id)).subtracting(Self.notReachableFromFixtures.keys)
        let uncovered = required.subtracting(annotated).sorted()
        #expect(uncovered.isEmpty, "no fixture annotates \(uncovered)")
        #expect(invalid >= 30, "\(invalid) invalid fixtures")
        #expect(valid >= 3, "\(valid) valid fixtures")
    }

    @Test func unreadablePathsAndHugeFilesAreDiagnosedWithoutAPosition() {
        let missing = WorkflowLoader.load(path: "/nonexistent/sagactl/workflow.yaml")
        #expect(missing.diagnostics.map(\.code) == [.unreadableFile])
        let directory = WorkflowLoader.load(path: ValidatorTestSupport.fixtureDirectory.path)
        #expect(directory.diagnostics.map(\.code) == [.unreadableFile])
        let huge = WorkflowLoader.load(data: Data(count: WorkflowLoader.maxFileBytes + 1), path: "huge.yaml")
        #expect(huge.diagnostics.map(\.code) == [.fileTooLarge])
    }

    // MARK: The harness itself

    @Test func annotationsAreReadFromTheEndOfTheLineTheyAreAbout() {
        let annotations = FixtureAnnotations("""
            # file: error SL0003
            # options: for-execution services=a,b
            Next: Pay   # error SL0103
            Name: "a # not a comment"   # warning SL0302, note SL0305
            # an ordinary comment
            """)
        #expect(annotations.problems.isEmpty)
        #expect(annotations.expected == [
            ExpectedDiagnostic(line: 0, severity: .error, code: "SL0003"),
            ExpectedDiagnostic(line: 3, severity: .error, code: "SL0103"),
            ExpectedDiagnostic(line: 4, severity: .warning, code: "SL0302"),
            ExpectedDiagnostic(line: 4, severity: .note, code: "SL0305"),
        ])
        #expect(annotations.options.forExecution)
        #expect(annotations.options.externalServices == ["a", "b"])
    }

    @Test func aMalformedAnnotationIsAProblemNotAnOrdinaryComment() {
        #expect(FixtureAnnotations("Next: Pay  # eror SL0103").problems.count == 1)
        #expect(FixtureAnnotations("Next: Pay  # error SL013").problems.count == 1)
        #expect(FixtureAnnotations("Next: Pay  # error SL0103, error SL0103").problems.count == 1)
        #expect(FixtureAnnotations("# options: strict").problems.count == 1)
    }
}
