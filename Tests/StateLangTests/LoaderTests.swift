import Foundation
import Testing

@testable import StateLang

/// Bad input of every kind ends as one clear diagnostic at the right place, never a crash.
@Suite("Loader: bad input")
struct LoaderTests {
    /// A small valid workflow, for tests that add one problem to it.
    static let valid = """
        Name: ok
        StartState: A
        States:
          A:
            Type: Succeed

        """

    func load(_ text: String) -> WorkflowLoader.Result { WorkflowLoader.load(text: text, path: "test.yaml") }

    func load(bytes: [UInt8]) -> WorkflowLoader.Result { WorkflowLoader.load(data: Data(bytes), path: "test.yaml") }

    /// The one diagnostic of `result`; fails the test when there is not exactly one.
    func single(_ result: WorkflowLoader.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> Diagnostic {
        let rendered = result.diagnostics.map { "\($0.range.map { "\($0.start)" } ?? "file"): \($0.code.id) \($0.message)" }
        try #require(result.diagnostics.count == 1, "expected one diagnostic, got: \(rendered)", sourceLocation: sourceLocation)
        return result.diagnostics[0]
    }

    func at(_ line: Int, _ column: Int) -> SourcePosition { SourcePosition(line: line, column: column) }

    // MARK: Files

    @Test func emptyFile() throws {
        try TestPaths.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("empty.yaml").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            let result = WorkflowLoader.load(path: path)
            let diagnostic = try single(result)
            #expect(diagnostic.code == .emptyDocument)
            #expect(diagnostic.range == nil)
            #expect(result.syntax == nil)
        }
    }

    @Test func whitespaceAndCommentsOnly() throws {
        let diagnostic = try single(load("   \n\n    \n# only a comment\n  \n"))
        #expect(diagnostic.code == .emptyDocument)
        #expect(diagnostic.range == nil)
    }

    @Test func missingFile() throws {
        let diagnostic = try single(WorkflowLoader.load(path: "/nonexistent/sagactl/flow.yaml"))
        #expect(diagnostic.code == .unreadableFile)
        #expect(diagnostic.message == "no such file")
    }

    @Test func directoryInsteadOfFile() throws {
        try TestPaths.withTemporaryDirectory { directory in
            let diagnostic = try single(WorkflowLoader.load(path: directory.path))
            #expect(diagnostic.code == .unreadableFile)
            #expect(diagnostic.message.contains("directory"))
        }
    }

    @Test func tenMegabyteFileIsRefused() throws {
        try TestPaths.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("huge.yaml").path
            let line = Array("Comment: \(String(repeating: "x", count: 90))\n".utf8)  // 100 bytes
            let data = Data((0..<100_000).flatMap { _ in line })
            #expect(data.count == 10_000_000)
            #expect(FileManager.default.createFile(atPath: path, contents: data))
            let diagnostic = try single(WorkflowLoader.load(path: path))
            #expect(diagnostic.code == .fileTooLarge)
            #expect(diagnostic.message == "the file is 9.5 MiB; workflow files are limited to 8 MiB")
        }
    }

    @Test func oversizedDataIsRefused() throws {
        let diagnostic = try single(WorkflowLoader.load(data: Data(count: WorkflowLoader.maxFileBytes + 1), path: "x"))
        #expect(diagnostic.code == .fileTooLarge)
    }

    /// A device reports size 0; reading it must stop at the limit instead of running forever.
    @Test func endlessDeviceIsRefused() throws {
        try #require(FileManager.default.fileExists(atPath: "/dev/zero"))
        let diagnostic = try single(WorkflowLoader.load(path: "/dev/zero"))
        #expect(diagnostic.code == .fileTooLarge)
    }

    @Test func oneMegabyteWorkflowLoads() throws {
        var text = "Name: big\nStartState: S0\nStates:\n"
        var count = 0
        while text.utf8.count < 1_000_000 {
            text += """
                  S\(count):
                    Type: ServiceTask
                    ServiceName: inventory
                    ServiceMethod: reserve
                    Input: [{productId: "$.[productId]", count: "$.[count]"}]
                    Output: {reserved: "$.#root"}
                    Next: S\(count + 1)

                """
            count += 1
        }
        text += "  S\(count):\n    Type: Succeed\n"
        try TestPaths.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("big.yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let result = WorkflowLoader.load(path: path)
            #expect(result.diagnostics.isEmpty)
            #expect(result.syntax?.states.count == count + 1)
            #expect(result.syntax?.states.last?.name.value == "S\(count)")
        }
    }

    // MARK: Not text

    /// A PNG header: the NUL comes after a CRLF and a lone LF, so it is on line 3.
    @Test func binaryWithNulBytes() throws {
        let diagnostic = try single(load(bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D]))
        #expect(diagnostic.code == .notText)
        #expect(diagnostic.range?.start == at(3, 1))
    }

    @Test func randomBytes() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<50 {
            let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let diagnostic = try single(load(bytes: bytes))
            #expect(diagnostic.code == .notText)
        }
    }

    @Test func invalidUTF8WithoutNul() throws {
        // "café" saved as Latin-1: the 0xE9 is the 13th character of line 2.
        let diagnostic = try single(load(bytes: Array("Name: ok\nComment: caf".utf8) + [0xE9] + Array(" au lait\n".utf8)))
        #expect(diagnostic.code == .notText)
        #expect(diagnostic.range?.start == at(2, 13))
        #expect(diagnostic.message.contains("0xE9"))
    }

    @Test(arguments: [
        [0xC0, 0xAF],  // overlong "/"
        [0xED, 0xA0, 0x80],  // an encoded UTF-16 surrogate
        [0xF4, 0x90, 0x80, 0x80],  // past U+10FFFF
        [0xE2, 0x82],  // truncated sequence at the end
    ] as [[UInt8]])
    func malformedUTF8Sequences(sequence: [UInt8]) throws {
        let diagnostic = try single(load(bytes: Array("Name: é".utf8) + sequence))
        #expect(diagnostic.code == .notText)
        #expect(diagnostic.range?.start == at(1, 8))
    }

    @Test func utf16Text() throws {
        let text = "Name: x\nStates: {}\n"
        for bytes in [Array(text.data(using: .utf16LittleEndian)!), [0xFF, 0xFE] + Array(text.data(using: .utf16LittleEndian)!),
                      [0xFE, 0xFF] + Array(text.data(using: .utf16BigEndian)!)] {
            let diagnostic = try single(load(bytes: bytes))
            #expect(diagnostic.code == .notText)
            #expect(diagnostic.message.contains("UTF-16"))
        }
    }

    @Test func controlCharacter() throws {
        let diagnostic = try single(load("Name: ok\nComment: a\u{7}b\n"))
        #expect(diagnostic.code == .syntaxError)
        #expect(diagnostic.range?.start == at(2, 11))
        #expect(diagnostic.message.contains("U+0007"))
    }

    // MARK: Nesting and size

    @Test func deepFlowSequences() throws {
        let diagnostic = try single(load(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)))
        #expect(diagnostic.code == .nestingTooDeep)
        #expect(diagnostic.range?.start == at(1, 201))  // the 201st bracket
    }

    @Test func deepFlowMappings() throws {
        let diagnostic = try single(load(String(repeating: "{a: ", count: 10_000) + String(repeating: "}", count: 10_000)))
        #expect(diagnostic.code == .nestingTooDeep)
        #expect(diagnostic.range?.start == at(1, 801))
    }

    @Test func deepFlowInsideBlock() throws {
        // Quoted brackets and comments do not count towards the depth.
        let text = "Name: \"[[[[\" # {{{{\nStates:\n  A: " + String(repeating: "[", count: 5_000) + "\n"
        let diagnostic = try single(load(text))
        #expect(diagnostic.code == .nestingTooDeep)
        // The root map and States are two levels: the bracket at level 201 is the 199th.
        #expect(diagnostic.range?.start == at(3, 5 + 199))
    }

    @Test func deepBlockSequences() throws {
        let diagnostic = try single(load(String(repeating: "- ", count: 10_000) + "x\n"))
        #expect(diagnostic.code == .nestingTooDeep)
        #expect(diagnostic.range?.start == at(1, 401))
    }

    @Test func deepBlockMappings() throws {
        // 10,000 levels need 50 MB of indentation: past the file limit, so read as text.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(50_100_000)
        for level in 0..<10_000 {
            bytes.append(contentsOf: [UInt8](repeating: 0x20, count: level))
            bytes.append(contentsOf: "k\(level):\n".utf8)
        }
        let diagnostic = try single(load(String(decoding: bytes, as: UTF8.self)))
        #expect(diagnostic.code == .nestingTooDeep)
        #expect(diagnostic.range?.start == at(201, 201))
    }

    @Test func billionLaughs() throws {
        var text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
            previous = name
        }
        let diagnostic = try single(load(text))
        #expect(diagnostic.code == .aliasExpansion)
        // The expansion passes 2,000,000 nodes at the third alias of line 7 (each *f is 597,871).
        #expect(diagnostic.range == SourceRange(at: at(7, 16), length: 2))
    }

    /// Aliases of deep values, nested in one another, would build a tree far deeper than
    /// anything written (and overflow the stack of whatever walks it): the expansion counts.
    @Test func chainedAliasesCountTowardsTheDepth() throws {
        var text = "x0: &x0 " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "\n"
        for i in 1..<140 {
            text += "x\(i): &x\(i) " + String(repeating: "[", count: 100) + "*x\(i - 1)" + String(repeating: "]", count: 100) + "\n"
        }
        let diagnostic = try single(load(text))
        #expect(diagnostic.code == .nestingTooDeep)
        // Line 2: the root map and 100 brackets hold the alias, and x0 is 100 deep.
        #expect(diagnostic.range == SourceRange(at: at(2, 109), length: 3))
    }

    // MARK: YAML syntax

    @Test func badIndentation() throws {
        let diagnostic = try single(load("Name: a\n StartState: b\n"))
        #expect(diagnostic.code == .syntaxError)
        #expect(diagnostic.range?.start == at(2, 12))
    }

    @Test func unclosedQuote() throws {
        let diagnostic = try single(load("Name: ok\nComment: \"never closed\nStartState: A\n"))
        #expect(diagnostic.code == .syntaxError)
        #expect(diagnostic.message == "this quoted string is not closed")
        #expect(diagnostic.range?.start == at(2, 10))
    }

    @Test func unclosedFlowList() throws {
        let diagnostic = try single(load("Name: ok\nInput: [1, 2\nStartState: A\n"))
        #expect(diagnostic.code == .syntaxError)
        #expect(diagnostic.notes.first?.range?.start == at(2, 8))  // the opening bracket
    }

    @Test func tabIndentation() throws {
        let diagnostic = try single(load("States:\n  A:\n\tType: Succeed\n"))
        #expect(diagnostic.code == .syntaxError)
        #expect(diagnostic.range?.start == at(3, 1))
        #expect(diagnostic.hint?.contains("spaces") == true)
    }

    @Test func escapedSurrogatePairInJSON() throws {
        let diagnostic = try single(load(#"{"Name": "ok", "Comment": "smile \ud83d\ude00"}"#))
        #expect(diagnostic.code == .syntaxError)
        #expect(diagnostic.range == SourceRange(at: at(1, 34), length: 12))
        #expect(diagnostic.hint?.contains(#"\U0001F600"#) == true)
    }

    @Test func loneEscapedSurrogate() throws {
        let diagnostic = try single(load("{\n  \"Comment\": \"é \\udc00\"\n}"))
        #expect(diagnostic.code == .syntaxError)
        #expect(diagnostic.range == SourceRange(at: at(2, 17), length: 6))
    }

    @Test func twoDocuments() throws {
        let diagnostic = try single(load(Self.valid + "---\nName: second\n"))
        #expect(diagnostic.code == .multipleDocuments)
        #expect(diagnostic.range?.start == at(6, 1))
    }

    @Test func nonStringKey() throws {
        let diagnostic = try single(load(Self.valid + "? [a, b]\n: value\n"))
        #expect(diagnostic.code == .nonStringKey)
        #expect(diagnostic.range?.start == at(6, 3))
    }

    @Test(arguments: ["- Name: a\n- States: {}\n", "just a sentence\n", "42\n"])
    func rootIsNotAMap(text: String) throws {
        let diagnostic = try single(load(text))
        #expect(diagnostic.code == .wrongType)
        #expect(diagnostic.range?.start == at(1, 1))
    }

    // MARK: Values and keys

    @Test func duplicateKeysKeepTheFirst() throws {
        let result = WorkflowLoader.load(path: TestPaths.fixture("loader/duplicates.yaml").path)
        #expect(result.diagnostics.count == 2)
        let name = try #require(result.diagnostics.first)
        #expect(name.code == .duplicateKey)
        #expect(name.range == SourceRange(at: at(4, 1), length: 4))
        #expect(name.notes.map(\.range) == [SourceRange(at: at(2, 1), length: 4)])
        let state = try #require(result.diagnostics.last)
        #expect(state.code == .duplicateKey)
        #expect(state.range?.start == at(8, 3))
        #expect(state.notes.first?.range?.start == at(6, 3))
        #expect(result.syntax?.name?.value == "first")
        #expect(result.syntax?.states.map(\.name.value) == ["A"])
        #expect(result.syntax?.states.first?.type == .succeed)
    }

    @Test func quotedBooleanHasAHint() throws {
        let result = load(Self.valid.replacingOccurrences(of: "Type: Succeed", with: "Type: ServiceTask\n    IsForUpdate: \"true\""))
        let diagnostic = try single(result)
        #expect(diagnostic.code == .wrongType)
        #expect(diagnostic.range == SourceRange(at: at(6, 18), length: 6))
        #expect(diagnostic.hint == "write true without quotes")
    }

    @Test func stringWhereAListIsExpected() throws {
        let diagnostic = try single(load(Self.valid.replacingOccurrences(of: "Type: Succeed", with: "Type: ServiceTask\n    Input: foo")))
        #expect(diagnostic.code == .wrongType)
        #expect(diagnostic.message == "'Input' must be a list, not a string")
        #expect(diagnostic.range?.start == at(6, 12))
    }

    @Test func wordWhereANumberIsExpected() throws {
        let text = Self.valid.replacingOccurrences(of: "Type: Succeed", with: "Type: ServiceTask\n    Retry:\n      - MaxAttempts: three")
        let diagnostic = try single(load(text))
        #expect(diagnostic.code == .wrongType)
        #expect(diagnostic.message == "'MaxAttempts' must be a whole number, not a string")
        #expect(diagnostic.range?.start == at(7, 22))
    }

    @Test(arguments: [("Nxt", "Next"), ("serviceName", "ServiceName"), ("CompensationState", "CompensateState")])
    func unknownKeySuggestsTheClosest(written: String, meant: String) throws {
        let text = Self.valid.replacingOccurrences(of: "Type: Succeed", with: "Type: ServiceTask\n    \(written): x")
        let diagnostic = try single(load(text))
        #expect(diagnostic.code == .unknownKey)
        #expect(diagnostic.severity == .warning)
        #expect(diagnostic.message == "unknown key '\(written)' in state 'A'; did you mean '\(meant)'?")
        #expect(diagnostic.range == SourceRange(at: at(6, 5), length: written.unicodeScalars.count))
    }

    @Test func unknownTypeSuggestsTheClosest() throws {
        let diagnostic = try single(load(Self.valid.replacingOccurrences(of: "Succeed", with: "Succed")))
        #expect(diagnostic.code == .unknownStateType)
        #expect(diagnostic.message == "unknown state type 'Succed'; did you mean 'Succeed'?")
        #expect(diagnostic.range?.start == at(5, 11))
    }

    @Test(arguments: ["Fork", "Join", "Parallel", "ParallelStart", "ParallelEnd"])
    func proposalTypesAreUnsupported(type: String) throws {
        let diagnostic = try single(load(Self.valid.replacingOccurrences(of: "Succeed", with: type)))
        #expect(diagnostic.code == .unsupportedStateType)
        #expect(diagnostic.range?.start == at(5, 11))
    }

    // MARK: Lines and columns

    /// Columns are 1-based and count Unicode scalars, whatever their UTF-8 or UTF-16 length.
    @Test func columnsCountUnicodeScalars() throws {
        let text = "Name: ok\nStartState: A\nStates:\n  Äpfel: {Comment: \"😀👍\", Type: Succeed, Nxt: B}\n"
        let diagnostic = try single(load(text))
        #expect(diagnostic.code == .unknownKey)
        #expect(diagnostic.range?.start == at(4, 41))
        let source = try #require(load(text).source)
        let line = try #require(source.line(4))
        #expect(Array(line.unicodeScalars)[40...].starts(with: "Nxt".unicodeScalars))
    }

    /// libyaml also breaks lines at a lone CR and at U+2028; the snippet must show that line.
    @Test(arguments: ["\r", "\r\n", "\u{2028}", "\u{85}"])
    func lineBreaksAgreeWithTheSnippet(lineBreak: String) throws {
        let text = ["Name: ok", "StartState: A", "States: {A: {Type: Succed}}", ""].joined(separator: lineBreak)
        let result = load(text)
        let diagnostic = try single(result)
        #expect(diagnostic.range?.start == at(3, 20))
        #expect(result.source?.line(3) == "States: {A: {Type: Succed}}")
    }

    /// A name with a line break (designer stateIds have them) does not break the rendered line.
    @Test func renderedMessagesStayOnOneLine() throws {
        let result = load("StartState: \"A\\nB\"\nStates:\n  \"A\\nB\": {Type: Succeed, Nxt: C}\n")
        let diagnostic = try single(result)
        let rendered = DiagnosticRenderer().render(diagnostic, path: "t.yaml", source: result.source)
        #expect(rendered.split(separator: "\n").first == #"t.yaml:3:27: warning: unknown key 'Nxt' in state 'A\nB'; did you mean 'Next'? [SL0203]"#)
    }

    // MARK: Robustness

    /// Every prefix of a real workflow, and random damage to it: the loader always answers,
    /// never without a diagnostic when it has no tree, and every position is inside the file.
    @Test(TestPaths.corpusTrait) func truncatedAndDamagedInputNeverCrashes() throws {
        let url = TestPaths.corpusFile(
            "apache__incubator-seata__test__src__test__resources__saga__statelang__simple_statelang_with_compensation.json")
        let original = Array(try Data(contentsOf: url))
        var generator = SeededGenerator(seed: 7)
        var inputs = stride(from: 0, through: original.count, by: 7).map { Array(original[..<$0]) }
        for _ in 0..<300 {
            var damaged = original
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let index = Int.random(in: 0..<damaged.count, using: &generator)
                damaged[index] = Array("{}[]:,\"'\\ \n\t-&*!#|>%@`".utf8).randomElement(using: &generator)!
            }
            inputs.append(damaged)
        }
        for bytes in inputs {
            let result = load(bytes: bytes)
            #expect(result.syntax != nil || result.hasErrors)
            for diagnostic in result.diagnostics {
                guard let range = diagnostic.range, let source = result.source else { continue }
                let line = source.line(range.start.line)
                #expect(line != nil, "line \(range.start.line) is not in the file: \(diagnostic.message)")
                if let line {
                    #expect(range.start.column >= 1 && range.start.column <= line.unicodeScalars.count + 1,
                            "column \(range.start.column) is past line \(range.start.line): \(diagnostic.message)")
                }
            }
        }
    }
}

/// A small deterministic random number generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
