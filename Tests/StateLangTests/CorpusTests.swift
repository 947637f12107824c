import Foundation
import Testing

@testable import StateLang

/// The 100 Seata definitions in `shared/corpus/seata` all load without crashing. The Java
/// group (what the reference engine accepts) loads without a loader error; the Go and proposal
/// groups give exactly the errors recorded here.
@Suite("Loader: the Seata corpus", TestPaths.corpusTrait)
struct CorpusTests {
    /// File name → group (`java`, `go`, `proposal`), from the table in `SOURCES.md`.
    static let groups: [String: String] = {
        guard let text = try? String(contentsOf: TestPaths.corpusFile("SOURCES.md"), encoding: .utf8) else { return [:] }
        var groups: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 3, Int(cells[1]) != nil, cells[2].hasPrefix("`"), cells[2].hasSuffix("`") else { continue }
            groups[String(cells[2].dropFirst().dropLast())] = cells[3]
        }
        return groups
    }()

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.corpus.path)) ?? []
        return names.filter { $0 != "SOURCES.md" }.sorted()
    }()

    /// The loader errors of the files outside the Java group, by code, in the order reported.
    /// The Go files use keys Seata-Java does not read (`serviceName`, `Catches`, ...): warnings,
    /// not errors (`PipelineCorpusTests.otherGroups` counts them with everything else the front
    /// end reports). The proposals use state types the released engine rejects.
    static let expectedErrors: [String: [String]] = [
        "apache__incubator-seata-go-samples__saga__e2e__statelang__reduce_inventory_and_balance.json": [],
        "apache__incubator-seata-go-samples__saga__insurance_claim__statelang__insurance_claim_saga.json": [],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga.json": [],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga.yaml": [],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga_v2.json": [],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga_v2.yaml": [],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__core__testdata__order_saga.json": [],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__core__testdata__order_saga.yaml": [],
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statelang_with_choice.json": [],
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statelang_with_choice.yaml": [],
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statemachine.json": [],
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statemachine.yaml": [],
        "apache__incubator-seata-go__testdata__saga__statelang__state_machine_new_designer.json": [],
        "apache__incubator-seata-go__testdata__saga__statelang__state_machine_new_designer.yaml": [],
        // ParallelStart and ParallelEnd nodes of the Parallel proposal's designer files.
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_parallel_statemachine_with_layout.json":
            ["SL0205", "SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__designer_simple_parallel_statemachine.json":
            ["SL0205", "SL0205"],
        // Two Fork and two Join states.
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_fork.json":
            ["SL0205", "SL0205", "SL0205", "SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel.json": ["SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel_and_compensation.json":
            ["SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel_and_loop.json": ["SL0205"],
    ]

    @Test func theCorpusIsThere() {
        if let missing = TestPaths.corpusMissing { Issue.record(Comment(rawValue: missing)); return }
        #expect(Self.files.count == 100)
        #expect(Set(Self.files) == Set(Self.groups.keys), "SOURCES.md and the directory list different files")
        #expect(Self.files.filter { Self.groups[$0] == "java" }.count == 80)
    }

    @Test func expectationsCoverExactlyTheNonJavaFiles() {
        #expect(Set(Self.expectedErrors.keys) == Set(Self.files.filter { Self.groups[$0] != "java" }))
    }

    @Test(arguments: files)
    func loads(file: String) throws {
        let result = WorkflowLoader.load(path: TestPaths.corpusFile(file).path)
        #expect(result.source != nil)
        #expect(result.syntax != nil)
        #expect(result.syntax?.states.isEmpty == false)
        let errors = result.diagnostics.filter { $0.severity == .error }
        let described = errors.map { "\($0.range.map { "\($0.start)" } ?? "file"): \($0.code.id) \($0.message)" }
        switch Self.groups[file] {
        case "java":
            #expect(errors.isEmpty, "\(file):\n\(described.joined(separator: "\n"))")
        case "go", "proposal":
            #expect(errors.map(\.code.id) == Self.expectedErrors[file], "\(file):\n\(described.joined(separator: "\n"))")
        default:
            Issue.record("\(file) has no group in SOURCES.md")
        }
    }
}
