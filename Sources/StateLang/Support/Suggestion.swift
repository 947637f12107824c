/// "Did you mean" suggestions by edit distance.
public enum Suggestion {
    /// The candidate closest to `word`, when it is close enough to be a plausible typo
    /// (case-insensitive; at most a third of the longer name's length in edits, and at least 1).
    /// For many words against one list, use a `Suggester`.
    public static func closest<S: Sequence>(to word: String, in candidates: S) -> String?
    where S.Element == String {
        var suggester = Suggester(candidates)
        return suggester.closest(to: word)
    }

    /// A " did you mean 'X'?" suffix, or an empty string.
    public static func didYouMean<S: Sequence>(_ word: String, in candidates: S) -> String
    where S.Element == String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// Levenshtein distance over Unicode scalars, with adjacent transpositions counted as one.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        editDistance(Array(a.unicodeScalars), Array(b.unicodeScalars))
    }

    static func editDistance(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar]) -> Int {
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}

/// Answers "did you mean" for many words against one list of candidates, such as every unknown
/// `Next` of a file against its state names, with bounded work.
///
/// Each answer compares the word with every candidate, so a file with thousands of unknown
/// names among thousands of states would cost millions of comparisons (minutes in a debug
/// build). A suggester therefore spends at most `budget` units of work: one per candidate
/// looked at, plus the edit-distance cells computed (characters of the word times characters
/// of the candidate). A comparison that no longer fits is skipped, and once a whole pass over
/// the candidates does not fit the answers are nil. Ordinary files never come near it.
public struct Suggester {
    /// Enough for a hundred typos among a hundred 20-character state names, or a dozen among
    /// a thousand; a debug build spends about a second on it.
    public static let defaultBudget = 5_000_000

    private struct Candidate {
        var name: String
        /// Lower-cased, as compared.
        var scalars: [Unicode.Scalar]
        /// In characters, as the closeness limit counts.
        var length: Int
    }

    private let candidates: [Candidate]
    /// Work left to spend.
    public private(set) var remainingWork: Int

    public init<S: Sequence>(_ candidates: S, budget: Int = Suggester.defaultBudget) where S.Element == String {
        self.candidates = candidates.map { Candidate(name: $0, scalars: Array($0.lowercased().unicodeScalars), length: $0.count) }
        remainingWork = budget
    }

    /// The candidate closest to `word` among those close enough to be a plausible typo (at
    /// most a third of the longer name's length in edits, and at least 1); the first one on a
    /// tie. Nil when none is, or when the budget does not allow the comparisons.
    public mutating func closest(to word: String) -> String? {
        guard candidates.count <= remainingWork else { return nil }
        remainingWork -= candidates.count
        let scalars = Array(word.lowercased().unicodeScalars)
        let length = word.count
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let limit = max(1, max(length, candidate.length) / 3)
            // The distance is at least the difference in length: skip what cannot be close
            // enough, or cannot beat the best so far, without computing it.
            let floor = abs(scalars.count - candidate.scalars.count)
            if floor > limit { continue }
            if let best, floor >= best.distance { continue }
            let cells = max(1, scalars.count) * max(1, candidate.scalars.count)
            guard cells <= remainingWork else { continue }
            remainingWork -= cells
            let distance = Suggestion.editDistance(scalars, candidate.scalars)
            if distance <= limit, best == nil || distance < best!.distance {
                best = (candidate.name, distance)
            }
        }
        return best?.name
    }
}
