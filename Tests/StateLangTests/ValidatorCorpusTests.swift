import Foundation
import StateLang
import Testing

/// The Java group of `../shared/corpus/seata` (definitions the reference engine accepts, plus
/// four that its validator rejects) through the whole front end (load, validate, compile).
@Suite(TestPaths.corpusTrait) struct ValidatorCorpusTests {
    /// The deliberately invalid files of Seata's validator tests, and the code each must get.
    static let rejected: [(fragment: String, code: DiagnosticCode)] = [
        ("infinite_loop", .cycleWithoutExit),
        ("non_existed_name", .unknownNextState),
        ("recursive_sub_machine", .subMachineSelfReference),
        // The Seata 1.4.x copy of the parser fixture, from before Seata had a validator: its
        // `SecondMatchState` runs `simpleTestStateMachine`, the machine itself. The 2.x copy
        // (`apache__incubator-seata__...simple_statemachine.json`) differs from it in exactly
        // that line (`simpleTestSubStateMachine`), because Seata 2.x rejects it too.
        ("seata__seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine.json",
         .subMachineSelfReference),
    ]

    /// File names of the `java` group, from the table in the corpus's `SOURCES.md`.
    static func javaGroup() throws -> [String] {
        let sources = ValidatorTestSupport.seataCorpus.appendingPathComponent("SOURCES.md")
        let table = try String(contentsOf: sources, encoding: .utf8)
        var names: [String] = []
        for line in table.split(separator: "\n") where line.hasPrefix("|") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            // | # | file | group | ...
            guard cells.count > 3, cells[3] == "java" else { continue }
            names.append(cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`")))
        }
        return names
    }

    /// Whether the file is in the designer's `nodes`/`edges` format (converted elsewhere).
    static func isDesignerFormat(_ text: String) -> Bool {
        guard let root = YAMLReader().read(text).root else { return false }
        return DesignerFormat.isDesignerDocument(root)
    }

    @Test func javaGroupValidatesWithoutErrorExceptTheRejectedFiles() throws {
        let names = try Self.javaGroup()
        #expect(names.count >= 70, "SOURCES.md lists \(names.count) java files; the table format may have changed")
        var checked = 0
        var rejectedSeen = 0
        for name in names {
            let path = ValidatorTestSupport.seataCorpus.appendingPathComponent(name).path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            if Self.isDesignerFormat(text) { continue }
            checked += 1
            let diagnostics = ValidatorTestSupport.diagnose(path: path)
            let errors = diagnostics.filter { $0.severity == .error }
            let rendered = ValidatorTestSupport.render(diagnostics, path: name, text: text)
            if let expected = Self.rejected.first(where: { name.contains($0.fragment) }) {
                rejectedSeen += 1
                #expect(Set(errors.map(\.code)) == [expected.code], "\(name) must be rejected with \(expected.code) only:\n\(rendered)")
            } else {
                #expect(errors.isEmpty, "\(name) must validate without error:\n\(rendered)")
            }
        }
        #expect(checked >= 60)
        #expect(rejectedSeen == 5, "expected the four deliberately invalid files and the 1.4.x self-reference, saw \(rejectedSeen)")
    }

    @Test(arguments: ["single", "multiple"])
    func infiniteLoopIsReportedOnAStateOfTheCycleWithTheCycleListed(_ kind: String) throws {
        let name = "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine_with_\(kind)_infinite_loop.json"
        let path = ValidatorTestSupport.seataCorpus.appendingPathComponent(name).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let cycle = ValidatorTestSupport.diagnose(path: path).filter { $0.code == .cycleWithoutExit }
        try #require(cycle.count == 1)
        let line = try #require(cycle[0].range?.start.line)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // The diagnostic points at the name of a state of the cycle.
        #expect(lines[line - 1].contains("\"FirstState\""))
        #expect(cycle[0].notes.contains { $0.message.hasPrefix("the cycle: FirstState → ") && $0.message.hasSuffix(" → FirstState") })
        if kind == "multiple" {
            #expect(cycle[0].notes.contains { $0.message.contains("'ChoiceState' has no 'Default'") })
        }
    }
}
