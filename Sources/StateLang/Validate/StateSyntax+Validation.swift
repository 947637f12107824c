extension StateSyntax {
    /// Whether this state's type uses `key`. A key a type does not use was reported as
    /// misplaced (SL0208) and is ignored, so rules skip it. A state whose type is unknown uses
    /// every key: its type was reported, and its other properties are still worth checking.
    func uses(_ key: String) -> Bool {
        guard let type else { return true }
        return StateSyntax.keysByType[type]?.contains(key) ?? false
    }

    /// `StateKeys.allowed(for:)` as sets, built once: rules ask for every state.
    private static let keysByType: [StateType: Set<String>] = Dictionary(
        uniqueKeysWithValues: StateType.allCases.map { ($0, Set(StateKeys.allowed(for: $0))) })

    /// Whether `key` is written on the state, even with a value lowering rejected. Rules test
    /// this before reporting a missing key, so a wrongly typed value (SL0201) does not also
    /// read as an absent one.
    func has(_ key: String) -> Bool { keyRange(key) != nil }

    /// Where to point a diagnostic about the state as a whole: its name.
    var anchor: SourceRange { name.range }
}

/// Names in messages: `'A'`, `'A' and 'B'`, `'A', 'B' and 'C'`, `'A', 'B' and 3 more`.
func quotedList(_ names: [String], limit: Int = 4) -> String {
    let quoted = names.map { "'\($0)'" }
    switch quoted.count {
    case 0: return ""
    case 1: return quoted[0]
    case ...limit: return quoted.dropLast().joined(separator: ", ") + " and " + quoted.last!
    default:
        return quoted.prefix(limit - 1).joined(separator: ", ") + " and \(quoted.count - limit + 1) more"
    }
}

/// " did you mean 'X'?" as a clause to append after a semicolon, or nothing.
func didYouMean(_ suggestion: String?) -> String {
    suggestion.map { "; did you mean '\($0)'?" } ?? ""
}
