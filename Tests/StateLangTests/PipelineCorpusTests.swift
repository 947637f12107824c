import Foundation
import Testing
@testable import StateLang

/// The whole front end (read → lower → validate → compile) over every file of the Seata
/// corpus, designer-format files included: what issue "StateLang" calls done.
@Suite("Pipeline over the Seata corpus", TestPaths.corpusTrait)
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

    /// What the front end reports on one file: each error and warning code with how many
    /// diagnostics of it there are (notes are not pinned).
    struct Reported: Equatable, CustomStringConvertible {
        var errors: [String: Int] = [:]
        var warnings: [String: Int] = [:]

        init(errors: [String: Int] = [:], warnings: [String: Int] = [:]) {
            self.errors = errors
            self.warnings = warnings
        }

        init(_ diagnostics: [Diagnostic]) {
            for diagnostic in diagnostics {
                switch diagnostic.severity {
                case .error: errors[diagnostic.code.id, default: 0] += 1
                case .warning: warnings[diagnostic.code.id, default: 0] += 1
                case .note: break
                }
            }
        }

        var description: String {
            func list(_ counts: [String: Int]) -> String {
                counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            }
            return "errors [\(list(errors))], warnings [\(list(warnings))]"
        }
    }

    /// What the go and proposal groups get, code → count: what they do differently from
    /// Seata-Java. The warnings:
    /// - SL0203 unknown key: seata-go's `ForCompensation`, `ForUpdate`, `Catches`, lower-case
    ///   `serviceName`/`serviceMethod`/`serviceType`/`catch`, top-level `Persist` and
    ///   `trans_operation_timeout`; the proposals' `Branches`, `Parallel`, `Timeout`;
    /// - SL0210 Loop not supported; SL0211 designer node whose stateProps are ignored;
    /// - SL0302 unreachable and SL0303 no `Next` (behind the proposals' unsupported states);
    /// - SL0304 compensation state also on the forward path; SL0404 error name no action
    ///   fails with; SL0406 groovy script; SL0503 lower-case `$exception{`.
    static let otherGroups: [String: Reported] = [
        // seata-go's CEL expressions ($CEL.…); Catch on Go error codes ("BALANCE_NOT_ENOUGH").
        "apache__incubator-seata-go-samples__saga__e2e__statelang__reduce_inventory_and_balance.json":
            Reported(errors: ["SL0504": 12], warnings: ["SL0203": 1, "SL0404": 6]),
        "apache__incubator-seata-go-samples__saga__insurance_claim__statelang__insurance_claim_saga.json":
            Reported(errors: ["SL0504": 25], warnings: ["SL0203": 1, "SL0304": 4, "SL0404": 5]),
        // Status values SUCCEEDED / FAILED / UNKNOWN instead of SU / FA / UN, matched with
        // `$exception{…}`; Go's key spellings; Retry on Java-style exception names.
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga.json":
            Reported(errors: ["SL0401": 12], warnings: ["SL0203": 19, "SL0210": 1, "SL0304": 3, "SL0404": 5, "SL0503": 4]),
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga.yaml":
            Reported(errors: ["SL0401": 12], warnings: ["SL0203": 19, "SL0210": 1, "SL0304": 3, "SL0404": 5, "SL0503": 4]),
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga_v2.json":
            Reported(errors: ["SL0401": 15], warnings: ["SL0203": 24, "SL0210": 1, "SL0304": 3, "SL0404": 5, "SL0503": 5]),
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__config__testdata__order_saga_v2.yaml":
            Reported(errors: ["SL0401": 15], warnings: ["SL0203": 24, "SL0210": 1, "SL0304": 3, "SL0404": 5, "SL0503": 5]),
        // The same, with lower-case serviceName / serviceMethod / serviceType on its 7 tasks.
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__core__testdata__order_saga.json":
            Reported(errors: ["SL0401": 12], warnings: ["SL0203": 40, "SL0210": 1, "SL0304": 3, "SL0404": 5, "SL0503": 4]),
        "apache__incubator-seata-go__pkg__saga__statemachine__engine__core__testdata__order_saga.yaml":
            Reported(errors: ["SL0401": 12], warnings: ["SL0203": 40, "SL0210": 1, "SL0304": 3, "SL0404": 5, "SL0503": 4]),
        // Lower-case `catch` and Go expressions the SpEL subset does not parse.
        "apache__incubator-seata-go__testdata__saga__statelang__state_machine_new_designer.json":
            Reported(errors: ["SL0501": 2], warnings: ["SL0203": 1]),
        "apache__incubator-seata-go__testdata__saga__statelang__state_machine_new_designer.yaml":
            Reported(errors: ["SL0501": 2], warnings: ["SL0203": 1]),
        // Ports of Java test files: only what the Java copies get too.
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statelang_with_choice.json":
            Reported(warnings: ["SL0303": 2]),
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statelang_with_choice.yaml":
            Reported(warnings: ["SL0303": 2]),
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statemachine.json":
            Reported(warnings: ["SL0406": 1, "SL0503": 2]),
        "apache__incubator-seata-go__testdata__saga__statelang__simple_statemachine.yaml":
            Reported(warnings: ["SL0406": 1, "SL0503": 2]),
        // Proposals: Fork/Join/Parallel state types (and the edges they leave dangling, the
        // states only they lead to).
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_parallel_statemachine_with_layout.json":
            Reported(errors: ["SL0103": 1, "SL0205": 2], warnings: ["SL0203": 1, "SL0211": 1, "SL0302": 10]),
        "apache__incubator-seata__test__src__test__resources__saga__statelang__designer_simple_parallel_statemachine.json":
            Reported(errors: ["SL0103": 1, "SL0205": 2], warnings: ["SL0203": 1, "SL0211": 1, "SL0302": 10]),
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_fork.json":
            Reported(errors: ["SL0205": 4], warnings: ["SL0203": 5, "SL0302": 16]),
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel.json":
            Reported(errors: ["SL0106": 1, "SL0205": 1], warnings: ["SL0203": 2, "SL0302": 6, "SL0303": 4]),
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel_and_compensation.json":
            Reported(errors: ["SL0205": 1], warnings: ["SL0203": 2, "SL0302": 7, "SL0303": 5]),
        "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_parallel_and_loop.json":
            Reported(errors: ["SL0205": 1], warnings: ["SL0203": 2, "SL0210": 1, "SL0302": 6, "SL0303": 4]),
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
            let reported = Reported(result.diagnostics)
            #expect(reported == Self.otherGroups[file], "\(file)")
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
