import Foundation

/// Recognising and redacting PostgreSQL connection URLs as text, before (or without) parsing
/// them, so that even a URL too broken to parse is printed without its password.
public enum PostgresURL {
    /// The schemes `PostgresStore` accepts, lower-case.
    public static let schemes = ["postgres", "postgresql"]

    /// Whether `text` starts with `postgres://` or `postgresql://` (any case): it is meant as a
    /// PostgreSQL URL, not a file path.
    public static func isPostgres(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return schemes.contains { lowered.hasPrefix($0 + "://") }
    }

    /// `text` with every password replaced by `***`: the one in the user information
    /// (`user:secret@host`, taken up to the last `@`, so an unescaped `@` or `/` in a password
    /// is covered too) and any `password=` query parameter. When in doubt it hides more than
    /// the password, never less. Text that is not a URL is returned unchanged.
    public static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        var result = String(text[..<schemeEnd.upperBound])
        let rest = text[schemeEnd.upperBound...]
        var tail = Substring(rest)
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                result += userInfo[..<colon] + ":***"
            } else {
                result += userInfo
            }
            tail = rest[at...]
        }
        result += redactingPasswordParameters(tail)
        return result
    }

    /// Replaces the value of every `password=` parameter (any case) with `***`.
    private static func redactingPasswordParameters(_ text: Substring) -> String {
        var output = ""
        var remaining = text
        let marker = "password="
        while let range = remaining.range(of: marker, options: .caseInsensitive) {
            let before = remaining[..<range.lowerBound]
            // Only a parameter name: preceded by `?` or `&` (else e.g. "xpassword=" in a value).
            guard let last = before.last, last == "?" || last == "&" else {
                output += remaining[..<range.upperBound]
                remaining = remaining[range.upperBound...]
                continue
            }
            output += remaining[..<range.upperBound] + "***"
            let valueEnd = remaining[range.upperBound...].firstIndex { $0 == "&" || $0 == "#" } ?? remaining.endIndex
            remaining = remaining[valueEnd...]
        }
        return output + remaining
    }
}

/// A PostgreSQL URL that cannot be used, with what is wrong and how to write it. The message
/// shows the URL with its password redacted.
public struct PostgresURLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
