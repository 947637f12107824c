import Foundation
import Testing

/// Runs the built `sagactl` binary, as a user would.
enum CLI {
    /// The repository root (where workflows/ and examples/ are).
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The `sagactl` executable built next to the test bundle.
    static let binary: String = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sagactl"),
            Bundle.main.bundleURL.appendingPathComponent("sagactl"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("sagactl"),
            root.appendingPathComponent(".build/debug/sagactl"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path ?? candidates.last!.path
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `sagactl args` in the repository root with `environment` added; waits at most `timeout`.
    /// Async so that waiting yields the thread: blocking Swift's few cooperative threads in
    /// one test would starve the async tests running beside it.
    @discardableResult
    static func run(_ args: [String], environment: [String: String] = [:], input: String? = nil,
                    timeout: TimeInterval = 120) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        process.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        // The child has its copies: close this process's other ends now. Leaked descriptors
        // pile up over hundreds of runs, and Foundation's Process.run() crashes past ~1,300.
        try inPipe.fileHandleForReading.close()
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        let outData = Locked(Data())
        let errData = Locked(Data())
        let group = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                let data = readToEnd(pipe.fileHandleForReading)
                sink.set(data)
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try await Task.sleep(nanoseconds: 5_000_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("sagactl \(args.joined(separator: " ")) did not finish within \(timeout) s")
        }
        await waitForExit(process)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            group.notify(queue: .global()) { done.resume() }
        }
        // Drained: close now, so that hundreds of runs do not pile up descriptors in the test
        // process (Foundation's Process.run() crashes when there are too many).
        try out.fileHandleForReading.close()
        try err.fileHandleForReading.close()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
                      stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// Waits for a process to end without blocking the calling thread.
    static func waitForExit(_ process: Process, timeout: TimeInterval = 120) async {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try? await Task.sleep(nanoseconds: 5_000_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(nanoseconds: 1_000_000) }
    }

    /// Starts `sagactl args` in the background (for kill -9 tests).
    /// Standard output and standard error go to `stdout` and `stderr` when given, else nowhere.
    static func spawn(_ args: [String], environment: [String: String] = [:], stdout: URL? = nil, stderr: URL? = nil)
        throws -> Process
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        process.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = try file(stdout)
        process.standardError = try file(stderr)
        try process.run()
        return process
    }

    /// A new, empty file to write to, or the null device.
    private static func file(_ url: URL?) throws -> FileHandle {
        guard let url else { return FileHandle.nullDevice }
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        return try FileHandle(forWritingTo: url)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sagactl-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func update(_ body: (inout T) -> Void) { lock.lock(); body(&value); lock.unlock() }
}

/// One line of the stand-in shop's call log.
struct ShopCall: Hashable {
    var key: String
    var state: String
    var method: String
    var phase: String
    var attempt: Int
    var input: String

    var instance: String { String(key.split(separator: ":").first ?? "") }

    static func read(_ url: URL) -> [ShopCall] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 6 else { return nil }
            return ShopCall(key: parts[0], state: parts[1], method: parts[2], phase: parts[3],
                            attempt: Int(parts[4]) ?? 0, input: parts[5])
        }
    }
}

/// Reads `handle` to its end with plain `read(2)`, retrying reads a signal interrupted:
/// Foundation's `readDataToEndOfFile()` traps on EINTR, which the SIGCHLD of any child process
/// the tests start can cause (it crashed a whole test run once).
func readToEnd(_ handle: FileHandle) -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        precondition(count >= 0, "reading a child's pipe failed: \(String(cString: strerror(errno)))")
        if count == 0 { return data }
        data.append(contentsOf: buffer.prefix(count))
    }
}
