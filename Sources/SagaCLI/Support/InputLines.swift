import Foundation
import StateLang

/// `--inputs FILE`: start parameters one JSON object a line (NDJSON); blank lines are skipped.
enum InputLines {
    /// A file of inputs may hold many sagas' parameters: larger than one `--input`.
    static let maxBytes = 1 << 30

    /// Every line's object, in order; the first bad line fails the whole file (`FILE:LINE:COL`).
    static func load(_ path: String) throws -> [JSONValue] {
        let (text, origin) = try StartOptions.readText(path, limit: maxBytes, option: "given to --inputs")
        var inputs: [JSONValue] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let content = line.hasSuffix("\r") ? line.dropLast() : line
            guard content.contains(where: { !$0.isWhitespace }) else { continue }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: String(content))
            } catch {
                throw CommandFailure(
                    "\(origin):\(lineNumber):\(error.position.column): line \(lineNumber) is not valid JSON: \(error.message)",
                    hint: "--inputs takes one JSON object per line (NDJSON), e.g. {\"productId\": 1}", code: SagaExit.usage)
            }
            guard case .object = value else {
                throw CommandFailure(
                    "\(origin):\(lineNumber):1: line \(lineNumber) is \(value.kindDescription), not a JSON object (a saga's start parameters)",
                    hint: "--inputs takes one JSON object per line (NDJSON)", code: SagaExit.usage)
            }
            inputs.append(value)
        }
        guard !inputs.isEmpty else {
            throw CommandFailure("\(origin) holds no input: every line is blank", hint: "one JSON object per line", code: SagaExit.usage)
        }
        return inputs
    }
}
