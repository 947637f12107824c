import Foundation
import Interpreter
import StateLang

/// Runs a service method as a process (DESIGN §3.5, `Type: exec`): `Command` (an argv list,
/// never a shell string) with `ServiceMethod` appended, the evaluated `Input` as JSON on stdin,
/// `SAGA_INSTANCE`, `SAGA_STATE`, `SAGA_IDEMPOTENCY_KEY` (and `SAGA_ATTEMPT`, `SAGA_PHASE`) in
/// the environment. Standard output is the JSON result (empty means null). A non-zero exit is
/// an error named by the first line of standard error when that line is a name
/// (`ActionError.OutOfStock`), otherwise `ActionError.Exit<code>`. Cancelling the call (a
/// timeout) kills the process and every process it started in its process group.
public struct ExecAction: ActionHandler {
    /// Output beyond this many bytes is an error (`ActionError.OutputTooLarge`).
    public var maxOutputBytes: Int

    public init(maxOutputBytes: Int = 16 * 1024 * 1024) {
        self.maxOutputBytes = maxOutputBytes
    }

    public func invoke(_ invocation: Invocation, binding: ServiceBinding?) async -> ActionOutcome {
        guard let command = binding?.command, let executable = command.first, !executable.isEmpty else {
            return .failure(ActionFailure(ErrorName("ActionError.InvalidBinding"),
                                          "service '\(invocation.serviceName)' has Type: exec but no Command"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.resolve(executable))
        process.arguments = Array(command.dropFirst()) + [invocation.serviceMethod]
        var environment = ProcessInfo.processInfo.environment
        environment["SAGA_INSTANCE"] = invocation.instanceID
        environment["SAGA_STATE"] = invocation.stateName
        environment["SAGA_IDEMPOTENCY_KEY"] = invocation.idempotencyKey
        environment["SAGA_ATTEMPT"] = String(invocation.attempt)
        environment["SAGA_PHASE"] = invocation.phase.rawValue
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr

        let exited = AsyncSignal()
        process.terminationHandler = { _ in exited.fire() }
        do {
            try process.run()
        } catch {
            return .failure(ActionFailure(ErrorName("ActionError.ExecFailed"),
                                          "cannot run \(executable): \(error.localizedDescription)"))
        }
        let pid = process.processIdentifier
        let limit = maxOutputBytes
        return await withTaskCancellationHandler {
            // Readers run on their own threads so a full pipe never blocks the child.
            async let out = Self.readAll(stdout.fileHandleForReading, limit: limit)
            async let err = Self.readAll(stderr.fileHandleForReading, limit: 64 * 1024)
            let payload = Data(invocation.input.jsonString().utf8)
            let writer = stdin.fileHandleForWriting
            let writeFailure = await Self.offload { () -> Int32? in
                // A child that exits without reading stdin closes the pipe: EPIPE, not a signal.
                signal(SIGPIPE, SIG_IGN)
                let failure = Self.writeAll(writer.fileDescriptor, payload)
                try? writer.close()
                return failure
            }
            let (output, errors) = await (out, err)
            // Close the read ends now rather than when Foundation releases the pipes, which it
            // does not do reliably: a long-running worker leaked two descriptors per call, and
            // Foundation's Process.run() crashes once /proc/self/fd lists about 1300 entries
            // (swift-corelibs-foundation#5472). Both pipes are drained, so closing cannot lose data.
            try? stdout.fileHandleForReading.close()
            try? stderr.fileHandleForReading.close()
            await exited.wait()
            if Task.isCancelled {
                return .failure(ActionFailure(.timeout, "\(executable) was stopped: the call ran past its deadline"))
            }
            for (what, failure) in [("writing the input to", writeFailure), ("reading the output of", output.failure),
                                    ("reading the errors of", errors.failure)] {
                if let failure {
                    return .failure(ActionFailure(ErrorName("ActionError.ExecFailed"),
                                                  "\(what) \(executable) failed: \(String(cString: strerror(failure)))"))
                }
            }
            return Self.outcome(status: process.terminationStatus, reason: process.terminationReason,
                                output: (output.data, output.truncated), errors: (errors.data, errors.truncated), limit: limit)
        } onCancel: {
            // Foundation starts the child in a process group of its own (its pid is the group
            // id), so this also stops what it started: a shell script's `sleep` would otherwise
            // keep the output pipes open, and the call would end only when the sleep does.
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
    }

    static func resolve(_ executable: String) -> String {
        if executable.contains("/") { return executable }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return executable
    }

    static func outcome(status: Int32, reason: Process.TerminationReason, output: (Data, Bool),
                        errors: (Data, Bool), limit: Int) -> ActionOutcome {
        let stderrText = String(decoding: errors.0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if reason == .uncaughtSignal {
            return .failure(ActionFailure(ErrorName("ActionError.Signal\(status)"),
                                          "the command was killed by signal \(status)" + (stderrText.isEmpty ? "" : ": \(stderrText)")))
        }
        if status != 0 {
            let firstLine = stderrText.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            let rest = stderrText.split(separator: "\n", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            if Self.isErrorName(firstLine) {
                return .failure(ActionFailure(ErrorName(firstLine), rest.isEmpty ? "exit status \(status)" : rest))
            }
            return .failure(ActionFailure(ErrorName("ActionError.Exit\(status)"),
                                          stderrText.isEmpty ? "exit status \(status)" : String(stderrText.prefix(2000))))
        }
        if output.1 {
            return .failure(ActionFailure(ErrorName("ActionError.OutputTooLarge"), "the command printed more than \(limit) bytes"))
        }
        // Decoding leniently would turn each bad byte into U+FFFD and pass changed data on.
        let bytes = [UInt8](output.0)
        if let bad = WorkflowLoader.firstInvalidUTF8(bytes) {
            return .failure(ActionFailure(ErrorName("ActionError.InvalidOutput"),
                                          "the command's output is not UTF-8 text (byte \(WorkflowLoader.hexByte(bytes[bad])) at offset \(bad))"))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if text.allSatisfy(\.isWhitespace) { return .success(.null) }
        do {
            return .success(try JSONValue(parsing: text))
        } catch {
            return .failure(ActionFailure(ErrorName("ActionError.InvalidOutput"),
                                          "the command's output is not JSON (\(error)): \(text.prefix(200))"))
        }
    }

    /// `ActionError.OutOfStock`, `Timeout`, `HTTP.5xx`: letters, digits, dots, underscores.
    static func isErrorName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter, text.count <= 200 else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// What reading one of the child's pipes gave: its bytes up to `limit`, whether there was
    /// more, and the `errno` of a read that failed (other than an interrupted one).
    struct PipeRead: Sendable {
        var data = Data()
        var truncated = false
        var failure: Int32?
    }

    /// Reads a pipe to its end on a separate thread. Plain `read(2)`, retried when a signal
    /// interrupts it: Foundation's `availableData` and `readDataToEndOfFile()` trap on EINTR,
    /// which a SIGCHLD from any child of this process can cause.
    static func readAll(_ handle: FileHandle, limit: Int) async -> PipeRead {
        let fd = handle.fileDescriptor
        return await offload {
            var result = PipeRead()
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    result.failure = errno
                    break
                }
                if count == 0 { break }
                if result.data.count + count > limit {
                    result.truncated = true
                    result.data.append(contentsOf: buffer.prefix(max(0, limit - result.data.count)))
                } else {
                    result.data.append(contentsOf: buffer.prefix(count))
                }
            }
            return result
        }
    }

    /// Writes all of `data` to `fd`, retrying interrupted and partial writes. Returns the
    /// `errno` of a failed write; EPIPE (the child exited without reading) is not a failure.
    static func writeAll(_ fd: Int32, _ data: Data) -> Int32? {
        data.withUnsafeBytes { bytes -> Int32? in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno == EPIPE ? nil : errno
                }
                offset += written
            }
            return nil
        }
    }

    /// Runs blocking work on a thread outside Swift's cooperative pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
}

/// A one-shot signal that one task fires and another awaits.
final class AsyncSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func fire() {
        lock.lock()
        fired = true
        let toResume = waiters
        waiters = []
        lock.unlock()
        for waiter in toResume { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if fired {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}
