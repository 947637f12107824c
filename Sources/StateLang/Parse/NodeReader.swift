/// Typed access to syntax nodes that reports a `wrong-type` diagnostic instead of failing.
struct NodeReader {
    var bag = DiagnosticBag()

    mutating func wrongType(_ node: SyntaxNode, key: String, expected: String, hint: String? = nil) {
        bag.add(.wrongType, "'\(key)' must be \(expected), not \(node.kindDescription)",
                at: node.range, hint: hint)
    }

    mutating func string(_ node: SyntaxNode, key: String) -> Located<String>? {
        guard let scalar = node.scalar else {
            wrongType(node, key: key, expected: "a string")
            return nil
        }
        switch scalar.value {
        case .string(let s): return Located(s, node.range)
        case .null:
            wrongType(node, key: key, expected: "a string", hint: "give it a value, or remove the key")
            return nil
        default:
            // A plain `Version: 1.0` or `Name: 42`: keep the text as written.
            return Located(scalar.text, node.range)
        }
    }

    mutating func bool(_ node: SyntaxNode, key: String) -> Located<Bool>? {
        if case .bool(let b)? = node.scalar?.value { return Located(b, node.range) }
        var hint: String? = nil
        if let text = node.scalar?.text, ["true", "false"].contains(text.lowercased()) {
            hint = "write \(text.lowercased()) without quotes"
        }
        wrongType(node, key: key, expected: "true or false", hint: hint)
        return nil
    }

    mutating func integer(_ node: SyntaxNode, key: String) -> Located<Int>? {
        switch node.scalar?.value {
        case .int(let i)?: return Located(i, node.range)
        case .double(let d)? where d == d.rounded() && abs(d) < 1e15: return Located(Int(d), node.range)
        case .double?:
            // "must be a whole number, not a number" says nothing: name what was written.
            bag.add(.wrongType, "'\(key)' must be a whole number, not \(node.scalar?.text ?? "")", at: node.range,
                    hint: "write a whole number between -999999999999999 and 999999999999999")
            return nil
        default:
            var hint: String? = nil
            if let scalar = node.scalar, scalar.style.isQuoted, Int(scalar.text) != nil {
                hint = "write the number without quotes"
            }
            wrongType(node, key: key, expected: "a whole number", hint: hint)
            return nil
        }
    }

    mutating func number(_ node: SyntaxNode, key: String) -> Located<Double>? {
        switch node.scalar?.value {
        case .int(let i)?: return Located(Double(i), node.range)
        case .double(let d)? where d.isFinite: return Located(d, node.range)
        case .double?:
            bag.add(.wrongType, "'\(key)' must be a finite number, not \(node.scalar?.text ?? "")", at: node.range,
                    hint: "numbers beyond ±1.8e308, .inf and .nan cannot be used")
            return nil
        default:
            var hint: String? = nil
            if let scalar = node.scalar, scalar.style.isQuoted, Double(scalar.text) != nil {
                hint = "write the number without quotes"
            }
            wrongType(node, key: key, expected: "a number", hint: hint)
            return nil
        }
    }

    mutating func mapping(_ node: SyntaxNode, key: String) -> [SyntaxEntry]? {
        if case .mapping(let entries) = node.kind { return entries }
        wrongType(node, key: key, expected: "a map")
        return nil
    }

    mutating func sequence(_ node: SyntaxNode, key: String, hint: String? = nil) -> [SyntaxNode]? {
        if case .sequence(let items) = node.kind { return items }
        wrongType(node, key: key, expected: "a list", hint: hint)
        return nil
    }

    mutating func stringList(_ node: SyntaxNode, key: String) -> Located<[Located<String>]>? {
        guard let items = sequence(node, key: key, hint: node.scalar != nil ? "write it as a list: [\(node.scalar!.text)]" : nil)
        else { return nil }
        return Located(items.compactMap { string($0, key: key) }, node.range)
    }

    /// Reports keys outside `known` as warnings with the closest valid key; returns them.
    mutating func unknownKeys(_ entries: [SyntaxEntry], known: [String], context: String) -> [Located<String>] {
        var unknown: [Located<String>] = []
        for entry in entries where !known.contains(entry.key) {
            unknown.append(Located(entry.key, entry.keyRange))
            let suggestion = Suggestion.closest(to: entry.key, in: known)
            let message = "unknown key '\(entry.key)' in \(context)"
                + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
            // libyaml implements YAML 1.2, which has no merge keys: `<<: *defaults` is a key.
            let hint = entry.key == "<<"
                ? "YAML merge keys are not supported; write the keys out, or repeat the whole value with an alias"
                : suggestion == nil ? "it is ignored; keys are case-sensitive" : nil
            bag.add(.unknownKey, message, at: entry.keyRange, hint: hint)
        }
        return unknown
    }
}
