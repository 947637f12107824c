/// The text of a workflow file, kept to render snippets under diagnostics.
public struct SourceFile: Sendable {
    /// The path as the user gave it; used as the prefix of every diagnostic.
    public let path: String
    public let text: String
    private let lineStarts: [String.Index]

    public init(path: String, text: String) {
        self.path = path
        self.text = text
        var starts = [text.startIndex]
        var index = text.startIndex
        while index < text.endIndex {
            let character = text.unicodeScalars[index]
            let next = text.unicodeScalars.index(after: index)
            if character == "\n" { starts.append(next) }
            index = next
        }
        self.lineStarts = starts
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
            if scalars[previous] == "\n" || scalars[previous] == "\r" { end = previous } else { break }
        }
        return text[start..<end]
    }
}
