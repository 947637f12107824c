/// The name of a failure, as workflows match it in `Retry`, `Catch` and `$Exception{}`.
///
/// Names form a small hierarchy (DESIGN §3.4):
/// `Throwable` ⊃ `NetworkError` ⊃ {`ConnectionRefused`, `Timeout`}; `CircuitOpen`;
/// `ActionError` ⊃ `ActionError.<code>`; `HTTP.4xx`; `HTTP.5xx`. Everything is a `Throwable`.
/// Java class names are accepted as patterns: `java.lang.Throwable`, `java.lang.Exception` and
/// `java.lang.RuntimeException` mean `Throwable`; a few network exceptions map to their
/// counterparts; any other class matches by its simple name (see `docs/decisions/0003`).
public struct ErrorName: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static let throwable = ErrorName("Throwable")
    public static let networkError = ErrorName("NetworkError")
    public static let connectionRefused = ErrorName("ConnectionRefused")
    public static let timeout = ErrorName("Timeout")
    public static let circuitOpen = ErrorName("CircuitOpen")
    public static let http4xx = ErrorName("HTTP.4xx")
    public static let http5xx = ErrorName("HTTP.5xx")

    /// `ActionError.<code>`: an error the service itself reported.
    public static func action(_ code: String) -> ErrorName { ErrorName("ActionError." + code) }

    /// The names this error is an instance of, most specific first.
    public var ancestry: [String] {
        var names = [rawValue]
        switch rawValue {
        case "ConnectionRefused", "Timeout": names.append("NetworkError")
        default:
            if rawValue.hasPrefix("ActionError.") { names.append("ActionError") }
        }
        if rawValue != "Throwable" { names.append("Throwable") }
        return names
    }

    /// Whether this error matches a pattern written in a workflow (`Timeout`,
    /// `java.lang.Exception`, `ActionError.OutOfStock`, `io.example.DemoException`).
    public func matches(_ pattern: String) -> Bool {
        let resolved = ErrorPattern(pattern)
        let names = ancestry
        if names.contains(resolved.canonical) { return true }
        // A Java class outside our taxonomy matches by simple name, also as an action error code.
        if resolved.kind == .javaSimpleName {
            return rawValue == resolved.canonical || rawValue == "ActionError." + resolved.canonical
        }
        return false
    }
}

/// A pattern from `Exceptions` or `$Exception{}` resolved to sagactl's taxonomy.
public struct ErrorPattern: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// One of sagactl's names (`Timeout`, `ActionError.X`, `HTTP.5xx`).
        case native
        /// A Java class name that maps onto a native name (`java.lang.Exception` → `Throwable`).
        case javaAlias
        /// A Java class name matched by its simple name (`io.x.DemoException` → `DemoException`).
        case javaSimpleName
        /// A bare name sagactl does not define; matched literally (errors named by exec actions).
        case other
    }

    public let written: String
    public let canonical: String
    public let kind: Kind

    static let nativeNames: Set<String> = [
        "Throwable", "NetworkError", "ConnectionRefused", "Timeout", "CircuitOpen", "ActionError",
        "HTTP.4xx", "HTTP.5xx",
    ]

    static let javaAliases: [String: String] = [
        "java.lang.Throwable": "Throwable",
        "java.lang.Exception": "Throwable",
        "java.lang.RuntimeException": "Throwable",
        "java.net.ConnectException": "ConnectionRefused",
        "java.net.SocketTimeoutException": "Timeout",
        "java.util.concurrent.TimeoutException": "Timeout",
        "java.io.IOException": "NetworkError",
    ]

    public init(_ written: String) {
        self.written = written
        if ErrorPattern.nativeNames.contains(written) || written.hasPrefix("ActionError.") {
            canonical = written
            kind = .native
        } else if let alias = ErrorPattern.javaAliases[written] {
            canonical = alias
            kind = .javaAlias
        } else if written.contains("."), let simple = written.split(separator: ".").last,
            let first = simple.first, first.isUppercase
        {
            canonical = String(simple)
            kind = .javaSimpleName
        } else {
            canonical = written
            kind = .other
        }
    }
}
