import Foundation
import Testing

@testable import StateLang

/// The compiler-style rendering of diagnostics, with colour on (a terminal) and off.
@Suite("Renderer: diagnostics")
struct DiagnosticRendererTests {
    static let source = SourceFile(path: "a.yaml", text: "StartState: A\nStates:\n  A: { Type: Succeed, Next: Pya }\n")

    static let diagnostics = [
        Diagnostic(.unknownNextState, "'Next' of 'A' names 'Pya', which is not a state", at: SourceRange(at: SourcePosition(line: 3, column: 30), length: 3),
                   notes: [DiagnosticNote("a note")], hint: "add a state"),
        Diagnostic(.unreachableState, "state 'A' is never run", at: SourceRange(at: SourcePosition(line: 3, column: 3), length: 1)),
    ]

    static func render(colour: Bool) -> String {
        let renderer = DiagnosticRenderer(colour: colour)
        return diagnostics.map { renderer.render($0, path: "a.yaml", source: source) }.joined()
    }

    /// `ESC [ <parameters> m` … `ESC [ 0 m` around `word`.
    static func painted(_ word: String, in text: String) -> Bool {
        text.contains(try! Regex("\u{1B}\\[[0-9;]+m\(word)\u{1B}\\[0m"))
    }

    @Test func withColourTheSeverityIsPainted() {
        let text = Self.render(colour: true)
        #expect(Self.painted("error", in: text))
        #expect(Self.painted("warning", in: text))
        #expect(Self.painted("note", in: text))
        #expect(Self.painted("hint:", in: text))
        // Error and warning have different colours.
        let error = text.firstMatch(of: /\u{1B}\[([0-9;]+)merror/)?.output.1
        let warning = text.firstMatch(of: /\u{1B}\[([0-9;]+)mwarning/)?.output.1
        #expect(error != nil && warning != nil && error != warning)
    }

    @Test func withoutColourThereIsNoEscapeAtAll() {
        let text = Self.render(colour: false)
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("a.yaml:3:30: error: 'Next' of 'A' names 'Pya', which is not a state [SL0103]\n"))
        #expect(text.contains("a.yaml:3:3: warning: state 'A' is never run [SL0302]\n"))
    }

    /// Colour only adds escapes: with them removed, the text is the plain rendering.
    @Test func colourChangesNothingButTheEscapes() {
        let coloured = Self.render(colour: true)
        #expect(coloured != Self.render(colour: false))
        #expect(coloured.replacing(/\u{1B}\[[0-9;]*m/, with: "") == Self.render(colour: false))
    }
}
