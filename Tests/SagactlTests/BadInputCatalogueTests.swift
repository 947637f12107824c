import Foundation
import Testing

/// DESIGN §9: hostile or broken input never crashes `sagactl`; it gets a precise diagnostic
/// (`path:line:col` and a stable id) or a clear error and the documented exit status, and no
/// instance is started from it. Each case goes through the built binary.
///
/// Workflow files are in `Fixtures/bad/` (the large ones are generated here); what
/// `LoaderTests` already covers at the loader level (empty, binary, UTF-16, deep nesting,
/// billion laughs, tabs, two documents, escaped surrogates) is not repeated.
@Suite("Bad input catalogue, end to end")
struct BadInputCatalogueTests {
    static let fixtures = "Tests/SagactlTests/Fixtures/bad/"
    let dir: URL
    /// The case's database: an SQLite file in `dir`, or a fresh PostgreSQL schema (see `TestDatabase`).
    var db: String { TestDatabase.location(in: dir) }

    init() throws { dir = try CLI.temporaryDirectory() }

    // MARK: Support

    /// One diagnostic of `sagactl validate --format json`, as `SL0103@12:11`.
    struct Found {
        var id: String
        var severity: String
        var message: String
        var place: String
    }

    /// Validates `path`; returns the exit status and the diagnostics.
    func validate(_ path: String) async throws -> (status: Int32, diagnostics: [Found]) {
        let result = try await CLI.run(["validate", "--format", "json", path])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                "no JSON from validate: \(result.stderr)")
        let file = try #require((json["files"] as? [[String: Any]])?.first)
        let diagnostics = (file["diagnostics"] as? [[String: Any]] ?? []).map { d in
            Found(id: d["id"] as? String ?? "", severity: d["severity"] as? String ?? "",
                  message: d["message"] as? String ?? "",
                  place: "\(d["id"] as? String ?? "")@\(d["line"] as? Int ?? 0):\(d["column"] as? Int ?? 0)")
        }
        #expect(!result.stderr.contains("internal error"))
        return (result.status, diagnostics)
    }

    /// `errors` are all the errors (as `SLxxxx@line:column`); `present` must be among the rest.
    func expectDiagnostics(_ path: String, status: Int32, errors: [String], present: [String] = [],
                           sourceLocation: SourceLocation = #_sourceLocation) async throws -> [Found] {
        let (actualStatus, found) = try await validate(path)
        #expect(actualStatus == status, "\(path): exit \(actualStatus)", sourceLocation: sourceLocation)
        let actualErrors = found.filter { $0.severity == "error" }.map(\.place)
        #expect(actualErrors.sorted() == errors.sorted(), "\(path)", sourceLocation: sourceLocation)
        for place in present {
            #expect(found.contains { $0.place == place }, "\(path): no \(place) in \(found.map(\.place))",
                    sourceLocation: sourceLocation)
        }
        return found
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// A services file binding `svc` to an executable script with `body` (a `/bin/sh` script).
    func services(script body: String) throws -> String {
        let script = dir.appendingPathComponent("action-\(UUID().uuidString).sh")
        try ("#!/bin/sh\n" + body + "\n").write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return try write("services-\(UUID().uuidString).yaml", "Services:\n  svc: { Type: exec, Command: [\"\(script.path)\"] }\n")
    }

    // MARK: Workflow files

    @Test("A Next that names its own state: SL0301")
    func selfNext() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "self-next.yaml", status: 65, errors: ["SL0301@7:3"])
    }

    @Test("A state name with a Cyrillic lookalike letter: SL0103 suggests the Latin name")
    func confusableNames() async throws {
        let found = try await expectDiagnostics(Self.fixtures + "confusable-names.yaml", status: 65, errors: ["SL0103@11:11"])
        #expect(found.first { $0.id == "SL0103" }?.message == "'Next' of 'Reserve' names 'Рay', which is not a state; did you mean 'Pay'?")
    }

    @Test("CRLF line endings: lines and columns as in the editor")
    func crlfLineEndings() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "crlf-errors.yaml", status: 65, errors: ["SL0103@12:11"],
                                  present: ["SL0203@11:5"])
        // The snippet under the message is the line without its CR.
        let text = try await CLI.run(["validate", Self.fixtures + "crlf-errors.yaml"])
        #expect(text.stdout.contains(" 12 |     Next: Pya\n"))
        #expect(!text.stdout.contains("\r"))
    }

    @Test("A UTF-8 byte-order mark: columns do not count it")
    func byteOrderMark() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "bom-error.yaml", status: 65, errors: ["SL0204@4:20"])
    }

    @Test("A JSON file with trailing commas loads: YAML flow syntax allows them")
    func jsonTrailingComma() async throws {
        let found = try await expectDiagnostics(Self.fixtures + "trailing-comma.json", status: 0, errors: [])
        #expect(found.isEmpty)
    }

    @Test("An anchor reused as a second state copies its Next: SL0301 at the alias")
    func anchorsAcrossStates() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "anchors-across-states.yaml", status: 65, errors: ["SL0301@12:3"])
    }

    @Test("A YAML merge key '<<' is an unknown key with a hint, and the state has no Type")
    func mergeKey() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "merge-key.yaml", status: 65, errors: ["SL0202@10:3"],
                                  present: ["SL0203@11:5"])
        let text = try await CLI.run(["validate", Self.fixtures + "merge-key.yaml"])
        #expect(text.stdout.contains("YAML merge keys are not supported"))
    }

    @Test("Numbers beyond a double (1e400, .nan, 20 digits): SL0201 naming what was written")
    func hugeNumbers() async throws {
        let found = try await expectDiagnostics(
            Self.fixtures + "huge-numbers.yaml", status: 65,
            errors: ["SL0201@10:21", "SL0201@11:19", "SL0201@14:26", "SL0201@15:22", "SL0201@16:22"])
        let messages = found.map(\.message)
        #expect(messages.contains("'TimeoutSeconds' must be a finite number, not 1e400"))
        #expect(messages.contains("'1e400' is not a finite number, so it cannot be passed as JSON"))
        #expect(messages.contains("'MaxAttempts' must be a whole number, not 99999999999999999999"))
        #expect(messages.contains("'BackoffRate' must be a finite number, not .nan"))
    }

    @Test("Two Type keys in one state: SL0005 at the second")
    func duplicateTypeKeys() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "duplicate-type.yaml", status: 65, errors: ["SL0005@6:5"])
    }

    @Test("A NUL byte inside a quoted string: SL0002 at that byte")
    func nulInString() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "nul-in-string.yaml", status: 65, errors: ["SL0002@2:12"])
    }

    @Test("A Latin-1 byte in a comment: SL0002 naming the byte")
    func latin1Comment() async throws {
        let found = try await expectDiagnostics(Self.fixtures + "latin1-comment.yaml", status: 65, errors: ["SL0002@2:6"])
        #expect(found.first?.message.contains("0xE9") == true)
    }

    @Test("An empty Type: SL0201")
    func nullType() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "null-type.yaml", status: 65, errors: ["SL0201@5:10"])
    }

    @Test("A state written as a list: SL0201")
    func stateIsAList() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "state-is-list.yaml", status: 65, errors: ["SL0201@4:6"])
    }

    @Test("An expression nested 300 parentheses deep: SL0501 at the 201st")
    func expressionTooDeep() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "expression-too-deep.yaml", status: 65, errors: ["SL0501@7:222"])
    }

    @Test("An unterminated string in an expression with non-ASCII text: SL0501 at the quote")
    func unterminatedExpressionString() async throws {
        _ = try await expectDiagnostics(Self.fixtures + "unterminated-expression.yaml", status: 65, errors: ["SL0501@7:32"])
    }

    @Test("200 aliases of a 100 KB string: SL0010, the expansion counts bytes too")
    func longStringAliases() async throws {
        let found = try await expectDiagnostics(Self.fixtures + "long-string-aliases.yaml", status: 65, errors: ["SL0010@6:1172"])
        #expect(found.first?.message == "aliases expand to more than 16 MiB of text")
    }

    @Test("A CompensateState naming no state is a warning, and the workflow runs", arguments: TestDatabase.underTest)
    func unknownCompensateStateRuns(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            _ = try await expectDiagnostics(Self.fixtures + "unknown-compensate-state.yaml", status: 0, errors: [],
                                      present: ["SL0104@9:22"])
            let run = try await CLI.run(["run", Self.fixtures + "unknown-compensate-state.yaml", "--services",
                                   try services(script: "cat > /dev/null; echo '{}'"), "--db", db])
            #expect(run.status == 0, "\(run.stderr)")
        }
    }

    @Test("A state named with 10 KB of text: SL0004 saying how to write so long a key; written so, SL0103 without a suggestion")
    func tenKilobyteStateName() async throws {
        let name = String(repeating: "Reserve", count: 1_500)  // 10,500 characters
        // YAML allows 1024 characters in a key written without `?`.
        let implicit = try write("long-name.yaml", """
            Name: long-name
            StartState: \(name)
            States:
              \(name):
                Type: Succeed

            """)
        let found = try await expectDiagnostics(implicit, status: 65, errors: ["SL0004@4:3"])
        #expect(found.first?.message == "a key longer than 1024 characters must be written as an explicit key")
        let explicit = try write("long-name-explicit.yaml", """
            Name: long-name
            StartState: \(name)
            States:
              ? \(name)
              : Type: ServiceTask
                ServiceName: svc
                Next: \(name)x

            """)
        let unknown = try await expectDiagnostics(explicit, status: 65, errors: ["SL0103@7:11"])
        // Comparing two 10,000-character names costs 10^8 steps: past the suggestion budget.
        #expect(unknown.first { $0.id == "SL0103" }.map { !$0.message.contains("did you mean") } == true)
    }

    @Test("5,000 Choices: valid, and an error in the last one is at its line")
    func fiveThousandChoices() async throws {
        func workflow(last: String) -> String {
            var text = "Name: choices\nStartState: Route\nStates:\n  Route:\n    Type: Choice\n    Choices:\n"
            for i in 0..<4_999 { text += "      - Expression: \"[n] == \(i)\"\n        Next: Done\n" }
            text += "      - Expression: \"\(last)\"\n        Next: Done\n"
            return text + "    Default: Done\n  Done:\n    Type: Succeed\n"
        }
        _ = try await expectDiagnostics(try write("choices.yaml", workflow(last: "[n] == 4999")), status: 0, errors: [])
        // Line 7 + 2 × 4,999 holds the last Expression; '>' lacks its right side, which would
        // start at column 28 (the text starts at 22).
        _ = try await expectDiagnostics(try write("choices-broken.yaml", workflow(last: "[n] > ")), status: 65,
                                  errors: ["SL0501@\(7 + 2 * 4_999):28"])
    }

    @Test("An error after a 1 MB line: the line and column are still right")
    func afterAMegabyteLine() async throws {
        let path = try write("long-line.yaml", "Name: e\nComment: \(String(repeating: "x", count: 1_000_000))\nStartState: A\nStates: {A: {Type: Succed}}\n")
        _ = try await expectDiagnostics(path, status: 65, errors: ["SL0204@4:20"])
    }

    @Test("5,000 states whose Next names no state: 5,000 diagnostics, suggestions bounded")
    func fiveThousandUnknownNames() async throws {
        var text = "Name: typos\nStartState: S0\nServices:\n  svc: { Type: local }\nStates:\n"
        for i in 0..<5_000 { text += "  S\(i): {Type: ServiceTask, ServiceName: svc, Next: T\(i + 1)}\n" }
        text += "  S5000: {Type: Succeed}\n"
        let (status, found) = try await validate(try write("typos.yaml", text))
        #expect(status == 65)
        #expect(found.filter { $0.id == "SL0103" }.count == 5_000)
        #expect(found.first { $0.id == "SL0103" }?.place == "SL0103@6:51")
    }

    @Test("Standard output closed by its reader (`| head -c 10`): no crash, the command's own status")
    func standardOutputClosedEarly() throws {
        var text = "Name: typos\nStartState: S0\nStates:\n"
        for i in 0..<2_000 { text += "  S\(i): {Type: Succeed, Nxt: S\(i + 1)}\n" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["validate", "--format", "json", try write("many-warnings.yaml", text)]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read a little, then go away: later writes (hundreds of KB) meet a closed pipe.
        _ = try out.fileHandleForReading.read(upToCount: 10)
        try out.fileHandleForReading.close()
        let errors = readToEnd(err.fileHandleForReading)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0, "warnings only")
        #expect(!String(decoding: errors, as: UTF8.self).contains("Fatal error"))
    }

    // MARK: --input documents

    /// Runs the one-call workflow with `input`; the service answers `{}`.
    func runWithInput(_ input: String, stdin: String? = nil) async throws -> CLI.Result {
        try await CLI.run(["run", Self.fixtures + "one-call.yaml", "--services", try services(script: "cat > /dev/null; echo '{}'"),
                     "--db", db, "--input", input], input: stdin)
    }

    /// A refused input starts nothing: the database is not even created.
    func expectRefusedInput(_ result: CLI.Result, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 64, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: db), sourceLocation: sourceLocation)
    }

    @Test("--input that is not JSON: 64 with the column")
    func inputNotJSON() async throws {
        expectRefusedInput(try await runWithInput("{orderId: 1}"), "--input:1:2: the input is not valid JSON")
    }

    @Test("--input that is a JSON array: 64, it must be an object")
    func inputArray() async throws {
        expectRefusedInput(try await runWithInput("[1, 2]"), "the input must be a JSON object")
    }

    @Test("--input with a trailing comma: 64 (JSON input is strict JSON)")
    func inputTrailingComma() async throws {
        expectRefusedInput(try await runWithInput(#"{"a": 1,}"#), "--input:1:9: the input is not valid JSON")
    }

    @Test("--input with 1e400: 64, it would silently become null")
    func inputHugeNumber() async throws {
        expectRefusedInput(try await runWithInput(#"{"amount": 1e400}"#), "--input:1:12: the input is not valid JSON: the number is too large")
    }

    @Test("--input nested 10,000 levels deep: 64")
    func inputDeeplyNested() async throws {
        let path = try write("deep.json", String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000))
        expectRefusedInput(try await runWithInput("@" + path), "nesting deeper than 512 levels")
    }

    @Test("--input @file with a Latin-1 byte: 64 with the byte's place, not a silent U+FFFD")
    func inputInvalidUTF8() async throws {
        let path = try write("latin1.json", bytes: Array(#"{"name": "caf"#.utf8) + [0xE9] + Array(#""}"#.utf8))
        expectRefusedInput(try await runWithInput("@" + path), "latin1.json:1:14: the input is not UTF-8 text (byte 0xE9 at offset 13)")
    }

    @Test("--input @ a missing file: 64")
    func inputMissingFile() async throws {
        expectRefusedInput(try await runWithInput("@" + dir.appendingPathComponent("nope.json").path), "nope.json: no such file")
    }

    @Test("--input @ a directory: 64")
    func inputDirectory() async throws {
        expectRefusedInput(try await runWithInput("@" + dir.path), "it is a directory")
    }

    @Test("--input @- reads standard input; bad JSON there is reported as <stdin>")
    func inputFromStandardInput() async throws {
        let good = try await runWithInput("@-", stdin: #"{"orderId": "o-1"}"#)
        #expect(good.status == 0, "\(good.stderr)")
        let id = good.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = try await CLI.run(["status", id, "--db", db, "--json"])
        let record = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect((record["input"] as? [String: Any])?["orderId"] as? String == "o-1")
        try FileManager.default.removeItem(atPath: db)
        expectRefusedInput(try await runWithInput("@-", stdin: "{\n  \"a\": tru\n}"), "<stdin>:2:8: the input is not valid JSON")
    }

    @Test("--input of 10 MB of JSON runs, and the input is stored whole", arguments: TestDatabase.underTest)
    func inputTenMegabytes(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let item = "\"" + String(repeating: "x", count: 98) + "\""
            let json = "{\"items\": [" + Array(repeating: item, count: 100_000).joined(separator: ",") + "]}"
            #expect(json.utf8.count > 10_000_000)
            let result = try await runWithInput("@" + (try write("big.json", json)))
            #expect(result.status == 0, "\(result.stderr)")
            let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let status = try await CLI.run(["status", id, "--db", db, "--json"])
            let record = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            #expect(((record["input"] as? [String: Any])?["items"] as? [Any])?.count == 100_000)
        }
    }

    // MARK: --services files

    /// Runs the one-call workflow with the services file at `path`.
    func runWithServices(_ path: String) async throws -> CLI.Result {
        try await CLI.run(["run", Self.fixtures + "one-call.yaml", "--services", path, "--db", db])
    }

    func expectRefusedServices(_ result: CLI.Result, status: Int32, _ fragments: [String],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "\(result.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!FileManager.default.fileExists(atPath: db), "an instance was started", sourceLocation: sourceLocation)
    }

    @Test("A service with an unknown Type: 65, SL0408 with a suggestion")
    func servicesUnknownType() async throws {
        expectRefusedServices(try await runWithServices(try write("s.yaml", "Services:\n  svc: { Type: exce, Command: [x] }\n")),
                              status: 65, ["s.yaml:2:16: error: 'exce' is not a service type; did you mean 'exec'? [SL0408]"])
    }

    @Test("An exec service with an empty Command: 65 before any instance starts")
    func servicesEmptyCommand() async throws {
        expectRefusedServices(try await runWithServices(try write("s.yaml", "Services:\n  svc: { Type: exec, Command: [] }\n")),
                              status: 65, ["s.yaml:2:31: error: the 'Command' of service 'svc' names no program [SL0408]"])
    }

    @Test("An http service without URL: 65")
    func servicesHTTPWithoutURL() async throws {
        expectRefusedServices(try await runWithServices(try write("s.yaml", "Services:\n  svc: { Type: http }\n")),
                              status: 65, ["s.yaml:2:16: error: http service 'svc' has no 'URL' [SL0408]"])
    }

    @Test("A list instead of a map: 65, SL0201")
    func servicesList() async throws {
        expectRefusedServices(try await runWithServices(try write("s.yaml", "- svc\n- other\n")),
                              status: 65, ["s.yaml:1:1: error: 'Services' must be a map, not a list [SL0201]"])
    }

    @Test("An empty services file: 65, it holds no bindings")
    func servicesEmpty() async throws {
        expectRefusedServices(try await runWithServices(try write("s.yaml", "# nothing yet\n")),
                              status: 65, ["the services file holds no bindings [SL0003]"])
    }

    @Test("A binary services file: 65, SL0002")
    func servicesBinary() async throws {
        expectRefusedServices(try await runWithServices(try write("s.yaml", bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00])),
                              status: 65, ["[SL0002]", "the services file"])
    }

    @Test("A missing services file: 64, naming the path")
    func servicesMissing() async throws {
        expectRefusedServices(try await runWithServices(dir.appendingPathComponent("nope.yaml").path),
                              status: 64, ["cannot read the services file", "nope.yaml: no such file"])
    }

    @Test("A directory as services file: 64")
    func servicesDirectory() async throws {
        expectRefusedServices(try await runWithServices(dir.path), status: 64, ["it is a directory"])
    }

    // MARK: Action results

    /// Runs the one-call workflow (TimeoutSeconds 2) with `script` as the service; returns the
    /// run and its one step from `sagactl history --json`.
    /// `workflow` replaces the fixture (e.g. one with a longer TimeoutSeconds).
    func runAction(_ script: String, timeout: TimeInterval = 120, workflow: String? = nil)
        async throws -> (run: CLI.Result, step: [String: Any]) {
        let run = try await CLI.run(["run", workflow ?? Self.fixtures + "one-call.yaml", "--services", try services(script: script),
                                     "--db", db], timeout: timeout)
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let history = try await CLI.run(["history", id, "--db", db, "--json"])
        let steps = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]],
                                 "no history: \(run.stderr) \(history.stderr)")
        return (run, try #require(steps.first))
    }

    func error(of step: [String: Any]) -> (name: String, message: String)? {
        guard let error = step["error"] as? [String: Any] else { return nil }
        return (error["name"] as? String ?? "", error["message"] as? String ?? "")
    }

    @Test("Output that is not JSON: ActionError.InvalidOutput", arguments: TestDatabase.underTest)
    func actionOutputNotJSON(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let (run, step) = try await runAction("echo 'not json'")
            #expect(run.status == 1)
            #expect(error(of: step)?.name == "ActionError.InvalidOutput")
        }
    }

    @Test("Output larger than the 16 MiB limit: ActionError.OutputTooLarge", arguments: TestDatabase.underTest)
    func actionOutputTooLarge(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            // Writing 17 MB takes seconds on a loaded machine: not the fixture's 2-second timeout.
            let fixture = try String(contentsOfFile: CLI.root.appendingPathComponent(Self.fixtures + "one-call.yaml").path, encoding: .utf8)
            let patient = try write("one-call-60s.yaml", fixture.replacingOccurrences(of: "TimeoutSeconds: 2", with: "TimeoutSeconds: 60"))
            #expect(fixture.contains("TimeoutSeconds: 2"))
            let (run, step) = try await runAction("head -c 17000000 /dev/zero | tr '\\0' a", workflow: patient)
            #expect(run.status == 1)
            #expect(error(of: step)?.name == "ActionError.OutputTooLarge")
        }
    }

    @Test("Output that is a JSON scalar is the result", arguments: TestDatabase.underTest)
    func actionOutputScalar(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let (run, step) = try await runAction("echo 42")
            #expect(run.status == 0, "\(run.stderr)")
            #expect(step["output"] as? Int == 42)
        }
    }

    @Test("Output with a Latin-1 byte: ActionError.InvalidOutput, not a silent U+FFFD", arguments: TestDatabase.underTest)
    func actionOutputNotUTF8(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let (run, step) = try await runAction(#"printf '{"name": "caf\351"}'"#)
            #expect(run.status == 1)
            #expect(error(of: step)?.name == "ActionError.InvalidOutput")
            #expect(error(of: step)?.message.contains("not UTF-8 text (byte 0xE9 at offset 13)") == true)
        }
    }

    @Test("Output with 1e400: ActionError.InvalidOutput", arguments: TestDatabase.underTest)
    func actionOutputHugeNumber(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let (run, step) = try await runAction(#"echo '{"amount": 1e400}'"#)
            #expect(run.status == 1)
            #expect(error(of: step)?.name == "ActionError.InvalidOutput")
        }
    }

    @Test("A failure whose first stderr line is not a name: ActionError.Exit<code> with the text", arguments: TestDatabase.underTest)
    func actionFailureWithoutName(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let (run, step) = try await runAction("echo 'oops: the disk is on fire' >&2; exit 3")
            #expect(run.status == 1)
            #expect(error(of: step)?.name == "ActionError.Exit3")
            #expect(error(of: step)?.message == "oops: the disk is on fire")
        }
    }

    @Test("A failure whose first stderr line is a name: that name, the rest is the message", arguments: TestDatabase.underTest)
    func actionFailureWithName(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let (run, step) = try await runAction("echo ActionError.OutOfStock >&2; echo 'none left' >&2; exit 1")
            #expect(run.status == 1)
            #expect(error(of: step)?.name == "ActionError.OutOfStock")
            #expect(error(of: step)?.message == "none left")
        }
    }

    @Test("A NUL byte in the failure message: stored as U+FFFD on every store, not a database error",
          arguments: TestDatabase.underTest)
    func actionFailureWithNUL(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let (run, step) = try await runAction(#"printf 'ActionError.Bad\nbad\000byte\n' >&2; exit 1"#)
            #expect(run.status == 1, "\(run.stderr)")
            #expect(error(of: step)?.name == "ActionError.Bad")
            #expect(error(of: step)?.message == "bad\u{FFFD}byte")
        }
    }

    @Test("A command killed by a signal: ActionError.Signal9", arguments: TestDatabase.underTest)
    func actionKilledBySignal(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let (run, step) = try await runAction("kill -9 $$")
            #expect(run.status == 1)
            #expect(error(of: step)?.name == "ActionError.Signal9")
        }
    }

    @Test("A command that sleeps past TimeoutSeconds is killed with what it started; the step gets Timeout", arguments: TestDatabase.underTest)
    func actionTimeout(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let pidFile = dir.appendingPathComponent("sleep.pid").path
            // The sleep is a child of the script: it holds the output pipe open after the script dies.
            let (run, step) = try await runAction("sleep 60 &\necho $! > '\(pidFile)'\nwait $!\necho '{}'", timeout: 90)
            // Judged from the step's own times (the 2 s TimeoutSeconds against the 60 s sleep), not
            // from the wall clock around two process launches, which a loaded machine stretches.
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let started = try #require((step["started_at"] as? String).flatMap(format.date(from:)), "\(step)")
            let ended = try #require((step["ended_at"] as? String).flatMap(format.date(from:)), "\(step)")
            #expect(ended.timeIntervalSince(started) < 30, "the call was not stopped at its deadline: \(step)")
            #expect(run.status == 1)
            #expect(error(of: step)?.name == "Timeout")
            let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            // Killed, then reaped by whoever adopted it: gone, or a zombie, within a few seconds.
            let deadline = Date().addingTimeInterval(10)
            func alive() -> Bool {
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
                let state = stat.split(separator: ")").last?.split(separator: " ").first
                return state != "Z"
            }
            while alive(), Date() < deadline { usleep(20_000) }
            #expect(!alive(), "the sleep started by the timed-out command is still running")
        }
    }
}
