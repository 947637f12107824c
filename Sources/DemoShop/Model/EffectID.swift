/// The public ids of effect rows: a prefix and the row's sequence number (`r-12` is
/// reservation 12). Readable in checker reports and stable across restarts.
enum EffectID {
    static let reservation = "r"
    static let order = "o"
    static let payment = "p"
    static let deduction = "d"
    static let message = "m"

    static func format(_ prefix: String, _ seq: Int64) -> String { "\(prefix)-\(seq)" }

    /// The sequence number of `text` when it has this prefix; nil for any other text.
    static func parse(_ prefix: String, _ text: String) -> Int64? {
        guard text.hasPrefix(prefix + "-"), let seq = Int64(text.dropFirst(prefix.count + 1)), seq > 0 else {
            return nil
        }
        return seq
    }
}
