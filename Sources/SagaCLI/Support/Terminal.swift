import Foundation

/// Where output goes and whether it can be coloured.
enum Terminal {
    static let stdoutIsTTY = isatty(STDOUT_FILENO) == 1
    static let stderrIsTTY = isatty(STDERR_FILENO) == 1

    /// Colour only on a terminal, and never when NO_COLOR is set.
    static var colourOut: Bool { stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
    static var colourErr: Bool { stderrIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func err(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func paint(_ text: String, _ code: String, enabled: Bool) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// A fatal error of a command: printed as `sagactl: error: ...` with a hint, then exit.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var hint: String?
    var code: Int32

    init(_ message: String, hint: String? = nil, code: Int32) {
        self.message = message
        self.hint = hint
        self.code = code
    }

    var description: String { message }
}
