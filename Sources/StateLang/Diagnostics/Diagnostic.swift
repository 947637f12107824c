/// How bad a diagnostic is.
public enum Severity: String, Sendable, Codable, Comparable {
    case note
    case warning
    case error

    private var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// A stable identifier for one kind of diagnostic, documented in `docs/diagnostics.md`.
public struct DiagnosticCode: Hashable, Sendable, CustomStringConvertible {
    /// `SL` + four digits, never reused.
    public let id: String
    /// A short kebab-case name (`unknown-next-state`).
    public let slug: String
    /// The severity a diagnostic of this code has unless a rule says otherwise.
    public let severity: Severity
    /// One sentence for the documentation.
    public let summary: String

    public init(_ id: String, _ slug: String, _ severity: Severity, _ summary: String) {
        self.id = id
        self.slug = slug
        self.severity = severity
        self.summary = summary
    }

    public var description: String { id }
}

/// A secondary message attached to a diagnostic, optionally pointing elsewhere in the file.
public struct DiagnosticNote: Sendable, Equatable {
    public var message: String
    public var range: SourceRange?

    public init(_ message: String, at range: SourceRange? = nil) {
        self.message = message
        self.range = range
    }
}

/// One finding about a workflow file: what is wrong, where, and what to do about it.
public struct Diagnostic: Sendable, Equatable {
    public var code: DiagnosticCode
    public var severity: Severity
    public var message: String
    /// Where the problem is; nil only for problems with the file as a whole (unreadable, empty).
    public var range: SourceRange?
    public var notes: [DiagnosticNote]
    /// What to do next, when there is something better to say than the message.
    public var hint: String?

    public init(
        _ code: DiagnosticCode, _ message: String, at range: SourceRange?,
        severity: Severity? = nil, notes: [DiagnosticNote] = [], hint: String? = nil
    ) {
        self.code = code
        self.severity = severity ?? code.severity
        self.message = message
        self.range = range
        self.notes = notes
        self.hint = hint
    }

    public static func == (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        lhs.code == rhs.code && lhs.severity == rhs.severity && lhs.message == rhs.message
            && lhs.range == rhs.range && lhs.notes == rhs.notes && lhs.hint == rhs.hint
    }
}

/// Diagnostics collected by one phase, in the order they were found.
public struct DiagnosticBag: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    public mutating func add(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    public mutating func add(
        _ code: DiagnosticCode, _ message: String, at range: SourceRange?,
        severity: Severity? = nil, notes: [DiagnosticNote] = [], hint: String? = nil
    ) {
        diagnostics.append(
            Diagnostic(code, message, at: range, severity: severity, notes: notes, hint: hint))
    }

    public mutating func append(contentsOf other: [Diagnostic]) { diagnostics += other }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Diagnostics ordered by position (file-level ones first), stable for equal positions.
    public var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let pa = a.element.range?.start ?? SourcePosition(line: 0, column: 0)
            let pb = b.element.range?.start ?? SourcePosition(line: 0, column: 0)
            return pa == pb ? a.offset < b.offset : pa < pb
        }.map(\.element)
    }
}
