import Foundation
import StateLang

/// `sagactl start --inputs FILE`: newline-delimited JSON, one instance's start parameters (a
/// JSON object) per line; blank lines are skipped. Every line is checked before anything is
/// created, and every bad line is reported, so a file with a mistake starts nothing.
struct InputLines {
    struct Line {
        /// 1-based line number in the file.
        var number: Int
        var input: JSONValue
        var businessKey: String?
    }

    var lines: [Line]

    /// A file of inputs is read whole, at most this much.
    static let maxBytes = 256 * 1024 * 1024

    /// Parses `bytes` read from `origin` (a path, or `<stdin>`). With `businessKeyField`, each
    /// line's business key is that field of its input (a non-empty string or an integer), and
    /// a key used by two lines is an error. Throws a usage failure listing every bad line.
    init(bytes: [UInt8], origin: String, businessKeyField: String?) throws {
        if let bad = WorkflowLoader.firstInvalidUTF8(bytes) {
            let position = SourceFile.position(ofByte: bad, in: bytes)
            throw CommandFailure(
                "\(origin):\(position.line):\(position.column): the inputs are not UTF-8 text "
                    + "(byte \(WorkflowLoader.hexByte(bytes[bad])) at offset \(bad))",
                hint: "JSON must be UTF-8; convert the file, e.g. with iconv -t UTF-8", code: SagaExit.usage)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines: [Line] = []
        var errors: [String] = []
        var firstLineOfKey: [String: Int] = [:]
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let lineText = raw.hasSuffix("\r") ? raw.dropLast() : raw
            guard !lineText.allSatisfy(\.isWhitespace) else { continue }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: String(lineText))
            } catch {
                errors.append("\(origin):\(number):\(error.position.column): not valid JSON: \(error.message)")
                continue
            }
            guard case .object(let fields) = value else {
                errors.append("\(origin):\(number): the input must be a JSON object, not \(value.kindDescription)")
                continue
            }
            var key: String?
            if let field = businessKeyField {
                switch fields[field] {
                case .string(let s) where !s.isEmpty: key = s
                case .int(let n): key = String(n)
                case nil:
                    errors.append("\(origin):\(number): no field '\(field)' for the business key")
                    continue
                case let other?:
                    errors.append("\(origin):\(number): the business key field '\(field)' must be a non-empty string or an integer, not \(other.kindDescription)")
                    continue
                }
                if let key, key.contains("\u{0}") {
                    errors.append("\(origin):\(number): the business key contains U+0000, which no store can keep as text")
                    continue
                }
                if let key, let first = firstLineOfKey[key] {
                    errors.append("\(origin):\(number): business key '\(key)' is also on line \(first)")
                    continue
                }
                if let key { firstLineOfKey[key] = number }
            }
            lines.append(Line(number: number, input: value, businessKey: key))
        }
        if !errors.isEmpty {
            let shown = errors.prefix(20).joined(separator: "\n  ")
            let more = errors.count > 20 ? "\n  … and \(errors.count - 20) more" : ""
            throw CommandFailure(
                "\(errors.count) bad line\(errors.count == 1 ? "" : "s") in \(origin); no instance was started:\n  \(shown)\(more)",
                hint: "one JSON object per line, e.g. {\"productId\": 1, \"amount\": 20}", code: SagaExit.usage)
        }
        guard !lines.isEmpty else {
            throw CommandFailure("\(origin) has no inputs; no instance was started",
                                 hint: "one JSON object per line", code: SagaExit.usage)
        }
        self.lines = lines
    }

    /// Reads `path` ('-' is standard input) whole and parses it.
    static func read(path: String, businessKeyField: String?) throws -> InputLines {
        let (data, origin) = try readFile(path, limit: maxBytes, what: "inputs file", pathHint: "check the path given to --inputs",
                                          tooLarge: ("", "split it and start the parts one after another"))
        return try InputLines(bytes: [UInt8](data), origin: origin, businessKeyField: businessKeyField)
    }
}
