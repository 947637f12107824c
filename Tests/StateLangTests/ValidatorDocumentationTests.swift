import Foundation
import StateLang
import Testing

/// `docs/diagnostics.md` documents every code of the catalog once, in catalog order, with the
/// catalog's slug and severity, an explanation and a fix.
@Suite struct ValidatorDocumentationTests {
    struct Section {
        var id: String
        var slug: String
        var body: [Substring]
    }

    static func sections() throws -> [Section] {
        let url = TestPaths.repositoryRoot.appendingPathComponent("docs/diagnostics.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        var sections: [Section] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") {
                let words = line.dropFirst(3).split(separator: " ")
                sections.append(Section(id: words.first.map(String.init) ?? "", slug: words.dropFirst().joined(separator: " "), body: []))
            } else if !sections.isEmpty {
                sections[sections.count - 1].body.append(line)
            }
        }
        return sections
    }

    @Test func everyCatalogCodeHasOneSectionInCatalogOrder() throws {
        let documented = try Self.sections().map(\.id)
        let catalog = DiagnosticCode.all.map(\.id)
        let missing = Set(catalog).subtracting(documented).sorted()
        let unknown = Set(documented).subtracting(catalog).sorted()
        #expect(missing.isEmpty, "codes without a section in docs/diagnostics.md: \(missing)")
        #expect(unknown.isEmpty, "sections for ids that are not in the catalog: \(unknown)")
        #expect(documented == catalog, "sections must be in DiagnosticCode.all order, once each")
    }

    @Test func everySectionMatchesTheCatalogAndSaysHowToFix() throws {
        for section in try Self.sections() {
            guard let code = DiagnosticCode.lookup(section.id) else { continue }
            #expect(section.slug == code.slug, "\(section.id): heading says '\(section.slug)', catalog says '\(code.slug)'")
            let severity = section.body.first { $0.hasPrefix("**Severity:**") }
            #expect(severity?.hasPrefix("**Severity:** \(code.severity.rawValue)") == true,
                    "\(section.id): severity line '\(severity ?? "none")' does not start with the catalog's '\(code.severity.rawValue)'")
            #expect(section.body.contains { $0.hasPrefix("**Fix:**") }, "\(section.id) has no **Fix:**")
            let prose = section.body.filter { !$0.isEmpty && !$0.hasPrefix("**") && !$0.hasPrefix("```") }
            #expect(prose.count >= 1, "\(section.id) does not say what the code means")
        }
    }
}
