import Foundation
import Testing
@testable import StateLang

/// `SyntaxNode.canonicalText` is the input of definition fingerprints, which name the
/// definitions stored in every database: it must give the same text as the first, plain
/// implementation (kept here as the reference) for every document.
@Suite("Canonical text of fingerprints")
struct CanonicalTextTests {
    /// The text as it was first defined: each scalar's typed value as JSON, containers in order.
    static func reference(_ node: SyntaxNode) -> String {
        switch node.kind {
        case .scalar(let scalar): scalar.value.jsonString()
        case .sequence(let items): "[" + items.map(reference).joined(separator: ",") + "]"
        case .mapping(let entries):
            "{" + entries.map { entry in
                var key = ""
                JSONValue.writeString(entry.key, to: &key)
                return key + ":" + reference(entry.value)
            }.joined(separator: ",") + "}"
        }
    }

    @Test("Every corpus file and workflow of the project has the reference text", TestPaths.corpusTrait)
    func corpusAndWorkflows() throws {
        var files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.corpus.path)
            .filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .map { TestPaths.corpusFile($0) }
        let workflows = TestPaths.repositoryRoot.appendingPathComponent("workflows")
        files += try FileManager.default.contentsOfDirectory(atPath: workflows.path).map { workflows.appendingPathComponent($0) }
        #expect(files.count > 100)
        var compared = 0
        for file in files {
            guard let text = try? String(contentsOf: file, encoding: .utf8), let root = YAMLReader().read(text).root else { continue }
            #expect(root.canonicalText == Self.reference(root), "\(file.lastPathComponent)")
            compared += 1
        }
        #expect(compared > 100)
    }

    @Test("Scalars of every kind, tags, quoting, nesting and empty containers")
    func edgeCases() throws {
        let text = """
            a: [1, -2, +3, 0x1F, 0o7, 1.5, .5, 1e3, .inf, -.Inf, .nan, true, False, null, ~, '', "", x, "42", '7']
            b: { c: [], d: {}, e: [[], [{}]], "q\\"uote": "line\\nbreak\\t", ü: ünï }
            f: !!str 12
            g: !!int "12"
            h: !!float "1.5"
            i: !!bool "true"
            j: !!null ""
            k: $.[amount] > 0 && [x] != null
            """
        let root = try #require(YAMLReader().read(text).root)
        #expect(root.canonicalText == Self.reference(root))
        let scalar = try #require(YAMLReader().read("plain").root)
        #expect(scalar.canonicalText == #""plain""#)
    }

    @Test("Nesting ten times deeper than the reader allows is walked without recursion")
    func deep() throws {
        let at = SourceRange(at: SourcePosition(line: 1, column: 1))
        var node = SyntaxNode(.scalar(ScalarSyntax(text: "1", style: .plain)), range: at)
        for _ in 0..<(YAMLReader().maxDepth * 10) { node = SyntaxNode(.sequence([node]), range: at) }
        let text = node.canonicalText
        #expect(text == Self.reference(node))
        let levels = YAMLReader().maxDepth * 10
        #expect(text == String(repeating: "[", count: levels) + "1" + String(repeating: "]", count: levels))
    }

    @Test("SHA-256 gives the FIPS 180-4 digests, across block boundaries")
    func sha256KnownAnswers() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // 56 bytes: the padding needs a second block.
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("The fingerprint of a project workflow is the one stored databases know it by")
    func pinnedFingerprint() throws {
        // Computed by the first implementation; a change here would orphan stored definitions.
        let file = TestPaths.repositoryRoot.appendingPathComponent("workflows/order-payment.yaml")
        let fingerprint = try #require(WorkflowLoader.load(path: file.path).syntax?.fingerprint)
        #expect(fingerprint == "86eb0a53c32c33166950156eefa102e23cb74498ee375cb74a53b259e111b171")
    }
}
