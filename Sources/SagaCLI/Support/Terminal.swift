import Foundation
import Interpreter

/// Where output goes and whether it can be coloured.
enum Terminal {
    static let stdoutIsTTY = isatty(STDOUT_FILENO) == 1
    static let stderrIsTTY = isatty(STDERR_FILENO) == 1

    /// Colour only on a terminal, and never when NO_COLOR is set.
    static var colourOut: Bool { stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
    static var colourErr: Bool { stderrIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    static func out(_ text: String) {
        if let failure = write(text, to: STDOUT_FILENO), reportedFailure.withLock({ reported in
            defer { reported = true }
            return !reported
        }) {
            _ = write("sagactl: cannot write to standard output (\(failure)); the rest of the output is lost\n", to: STDERR_FILENO)
        }
    }

    static func err(_ text: String) {
        // Nowhere is left to report a failure to write standard error.
        _ = write(text, to: STDERR_FILENO)
    }

    /// Whether a failure to write standard output was reported already (once is enough).
    private static let reportedFailure = Locked(false)

    /// Writes all of `text`; returns why not, or nil. A reader that went away
    /// (`sagactl list | head`) is not a failure: SIGPIPE is ignored (exec actions write to
    /// their children's pipes), so the write fails with EPIPE, and the rest of the output is
    /// dropped while the command finishes its work and exits with its own status. Foundation's
    /// `FileHandle.write(_:)` would crash there instead.
    private static func write(_ text: String, to descriptor: Int32) -> String? {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written >= 0 {
                bytes = bytes.dropFirst(written)
                continue
            }
            switch errno {
            case EINTR, EAGAIN: continue
            case EPIPE: return nil
            case let code: return String(cString: strerror(code))
            }
        }
        return nil
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
