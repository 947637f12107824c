import Foundation
import Testing
@testable import StateLang

/// The whole front end (read → lower → validate → compile) over every file of the Seata
/// corpus, designer-format files included: what issue "StateLang" calls done.
@Suite("Pipeline over the Seata corpus")
struct PipelineCorpusTests {
    /// Java-group files Seata's own validator rejects, with the error that says why.
    static let rejectedJava: [String: String] = [
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine_with_multiple_infinite_loop.json": "SL0301",
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine_with_single_infinite_loop.json": "SL0301",
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine_with_non_existed_name.json": "SL0103",
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine_with_recursive_sub_machine.json": "SL0106",
        // The 1.4.x copy of simple_statemachine.json runs its own machine in SecondMatchState
        // (the 2.x copy fixed that line).
        "seata__seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine.json": "SL0106",
    ]

    /// The error codes of the go and proposal groups: what they do differently from Seata-Java.
    static let otherGroups: [String: Set<String>] = [
        // seata-go's CEL expressions ($CEL.…).
        "apache__incubator-seata-go-samples__saga__e2e__statelang__reduce_inventory_and_balance.json": ["SL0504"],
        "apache__incubator-seata-go-samples__saga__insurance_claim__statelang__insurance_claim_saga.json": ["SL0504"],
        // Status values SUCCEEDED / FAILED / UNKNOWN instead of SU / FA / UN.
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga.json": ["SL0401"],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga.yaml": ["SL0401"],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga_v2.json": ["SL0401"],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga_v2.yaml": ["SL0401"],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__core__testdata__order_saga.json": ["SL0401"],
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__core__testdata__order_saga.yaml": ["SL0401"],
        // Lower-case keys and Go expressions the SpEL subset does not parse.
        "apache__incubator-seata-go__testdata__saga__statelang__state_machine_new_designer.json": ["SL0501"],
        "apache__incubator-seata-go__testdata__saga__statelang__state_machine_new_designer.yaml": ["SL0501"],
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statelang_with_choice.json": [],
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statelang_with_choice.yaml": [],
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statemachine.json": [],
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statemachine.yaml": [],
        // Proposals: Fork/Join/Parallel state types (and the edges they leave dangling).
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_parallel_statemachine_with_layout.json": ["SL0103", "SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__designer_simple_parallel_statemachine.json": ["SL0103", "SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_fork.json": ["SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel.json": ["SL0106", "SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel_and_compensation.json": ["SL0205"],
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel_and_loop.json": ["SL0205"],
    ]

    static let files: [String] = CorpusTests.files

    @Test("The corpus is complete and every non-Java file has an expectation")
    func coverage() {
        #expect(Self.files.count == 100)
        let nonJava = Set(Self.files.filter { CorpusTests.groups[$0] != "java" })
        #expect(nonJava == Set(Self.otherGroups.keys))
    }

    @Test("Every file goes through the whole front end with the expected outcome", arguments: files)
    func compiles(file: String) throws {
        let result = WorkflowPipeline.compile(path: TestPaths.corpusFile(file).path)
        let errors = Set(result.diagnostics.filter { $0.severity == .error }.map(\.code.id))
        if CorpusTests.groups[file] == "java" {
            if let code = Self.rejectedJava[file] {
                #expect(errors == [code], "\(file)")
                #expect(result.workflow == nil)
            } else {
                #expect(errors.isEmpty, "\(file): \(result.diagnostics.filter { $0.severity == .error }.map(\.message))")
                let workflow = try #require(result.workflow, "\(file) did not compile")
                #expect(!workflow.fingerprint.isEmpty)
                #expect(workflow.dot().hasPrefix("digraph"))
            }
        } else {
            #expect(errors == Self.otherGroups[file], "\(file)")
        }
    }

    @Test("A YAML twin and its JSON original compile to the same fingerprint")
    func twinsShareAFingerprint() throws {
        let base = "apache__incubator-seata-go__testdata__saga__statelang__simple_statelang_with_choice"
        let json = WorkflowPipeline.compile(path: TestPaths.corpusFile(base + ".json").path)
        let yaml = WorkflowPipeline.compile(path: TestPaths.corpusFile(base + ".yaml").path)
        let a = try #require(json.syntax?.fingerprint)
        let b = try #require(yaml.syntax?.fingerprint)
        #expect(a == b)
        #expect(a.count == 64)
    }
}
