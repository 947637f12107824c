/// The text of a workflow file, kept to render snippets under diagnostics.
///
/// Lines are broken where libyaml breaks them (`\n`, `\r\n`, a lone `\r`, and the Unicode
/// breaks NEL, LS and PS), so that a line number in a diagnostic names the line shown.
public struct SourceFile: Sendable {
    /// The path as the user gave it; used as the prefix of every diagnostic.
    public let path: String
    public let text: String
    private let lineStarts: [String.Index]

    public init(path: String, text: String) {
        self.path = path
        self.text = text
        var breaks: [Int] = []  // byte offsets where a line starts, after the first
        func scan(_ bytes: UnsafeBufferPointer<UInt8>) {
            var i = 0
            while i < bytes.count {
                let length = SourceFile.lineBreakLength(at: i, in: bytes)
                if length > 0 {
                    i += length
                    breaks.append(i)
                } else {
                    i += 1
                }
            }
        }
        if text.utf8.withContiguousStorageIfAvailable({ scan($0) }) == nil {
            Array(text.utf8).withUnsafeBufferPointer { scan($0) }
        }
        let utf8 = text.utf8
        self.lineStarts = [text.startIndex] + breaks.map { utf8.index(utf8.startIndex, offsetBy: $0) }
    }

    public var lineCount: Int { lineStarts.count }

    /// The text of a 1-based line, without its line break; nil when out of range.
    public func line(_ number: Int) -> Substring? {
        guard number >= 1, number <= lineStarts.count else { return nil }
        let start = lineStarts[number - 1]
        var end = number < lineStarts.count ? lineStarts[number] : text.endIndex
        let scalars = text.unicodeScalars
        while end > start {
            let previous = scalars.index(before: end)
            if SourceFile.isLineBreak(scalars[previous]) { end = previous } else { break }
        }
        return text[start..<end]
    }

    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": true
        default: false
        }
    }

    /// The line and column (in Unicode scalars) of the byte at `offset` in UTF-8 text, counted
    /// as libyaml counts them. Bytes before `offset` that are not valid UTF-8 count as one
    /// column each.
    public static func position(ofByte offset: Int, in bytes: [UInt8]) -> SourcePosition {
        bytes.withUnsafeBufferPointer { position(ofByte: offset, in: $0) }
    }

    public static func position(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> SourcePosition {
        var line = 1
        var column = 1
        var i = 0
        let end = min(max(offset, 0), bytes.count)
        while i < end {
            // Printable ASCII, nearly every byte, neither breaks a line nor continues a character.
            if bytes[i] >= 0x20 && bytes[i] < 0x80 {
                column += 1
                i += 1
                continue
            }
            let breakLength = lineBreakLength(at: i, in: bytes)
            if breakLength > 0 {
                line += 1
                column = 1
                i += breakLength
            } else {
                if bytes[i] & 0xC0 != 0x80 { column += 1 }
                i += 1
            }
        }
        return SourcePosition(line: line, column: column)
    }

    /// The length in bytes of the line break starting at `i` (2 for CRLF, NEL; 3 for LS, PS),
    /// or 0 when there is none.
    static func lineBreakLength(at i: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        func byte(_ at: Int) -> UInt8? { at < bytes.count ? bytes[at] : nil }
        switch bytes[i] {
        case 0x0A: return 1
        case 0x0D: return byte(i + 1) == 0x0A ? 2 : 1
        case 0xC2 where byte(i + 1) == 0x85: return 2
        case 0xE2 where byte(i + 1) == 0x80 && (byte(i + 2) == 0xA8 || byte(i + 2) == 0xA9): return 3
        default: return 0
        }
    }
}
