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
    ///
    /// Started with `posix_spawn`, not Foundation's `Process`: `Process.run()` walks the
    /// parent's open descriptors and overflows a buffer once there are about 1,300 of them
    /// (swift-corelibs-foundation#5472), which hundreds of tests running side by side reach.
    @discardableResult
    static func run(_ args: [String], environment: [String: String] = [:], input: String? = nil,
                    timeout: TimeInterval = 120) async throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        let child = try Spawned(binary, args, environment: env, directory: root.path)
        if let input { child.send(Data(input.utf8)) }
        close(child.stdin)
        let outData = Locked(Data())
        let errData = Locked(Data())
        let group = DispatchGroup()
        for (fd, sink) in [(child.stdout, outData), (child.stderr, errData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.set(readToEnd(fd))
                close(fd)
                group.leave()
            }
        }
        let process = Background(pid: child.pid)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try await Task.sleep(nanoseconds: 5_000_000) }
        if process.isRunning {
            Issue.record("sagactl \(args.joined(separator: " ")) did not finish within \(timeout) s")
            await waitForExit(process, timeout: 0)
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            group.notify(queue: .global()) { done.resume() }
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
                      stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// Waits for a background process to end without blocking the calling thread; kills it
    /// after `timeout`.
    static func waitForExit(_ process: Background, timeout: TimeInterval = 120) async {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try? await Task.sleep(nanoseconds: 5_000_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(nanoseconds: 1_000_000) }
    }

    /// Starts `sagactl args` in the background (for kill -9 tests), with `posix_spawn` as `run`.
    /// Standard output and standard error go to `stdout` and `stderr` when given (created or
    /// truncated by the child), else to the null device; standard input is the null device.
    static func spawn(_ args: [String], environment: [String: String] = [:], stdout: URL? = nil, stderr: URL? = nil)
        throws -> Background
    {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let child = try Spawned(binary, args, environment: env, directory: root.path,
                                stdin: .file("/dev/null"), stdout: .file(stdout?.path ?? "/dev/null"),
                                stderr: .file(stderr?.path ?? "/dev/null"))
        return Background(pid: child.pid)
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

/// Reads `fd` to its end with plain `read(2)`, retrying reads a signal interrupted:
/// Foundation's `readDataToEndOfFile()` traps on EINTR, which the SIGCHLD of any child process
/// the tests start can cause (it crashed a whole test run once).
func readToEnd(_ fd: Int32) -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        precondition(count >= 0, "reading a child's pipe failed: \(String(cString: strerror(errno)))")
        if count == 0 { return data }
        data.append(contentsOf: buffer.prefix(count))
    }
}

func readToEnd(_ handle: FileHandle) -> Data { readToEnd(handle.fileDescriptor) }

/// A child process started with `posix_spawn`, its standard streams on pipes whose parent ends
/// are `stdin`, `stdout` and `stderr`; every other descriptor is closed in the child.
struct Spawned {
    let pid: pid_t
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    /// glibc 2.29+ / 2.34+ extensions that Swift's Glibc module does not declare.
    private static let addChdir = unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np"), to: AddChdir?.self)
    private static let addCloseFrom = unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np"), to: AddCloseFrom?.self)

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Where one of the child's standard streams goes.
    enum Stream {
        /// A pipe whose parent end is the matching property.
        case pipe
        /// A file the child opens (an output is created or truncated); the property is -1.
        case file(String)
    }

    init(_ path: String, _ args: [String], environment: [String: String], directory: String,
         stdin: Stream = .pipe, stdout: Stream = .pipe, stderr: Stream = .pipe) throws {
        guard let addChdir = Self.addChdir, let addCloseFrom = Self.addCloseFrom else {
            throw Failure(description: "this libc lacks posix_spawn_file_actions_addchdir_np/addclosefrom_np (glibc 2.34+)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Per stream: (child's end, parent's end) of a pipe, or nil for a file.
        var pipes: [(child: Int32, parent: Int32)?] = []
        func closePipes() {
            for case let (child, parent)? in pipes {
                close(child)
                close(parent)
            }
        }
        for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .pipe:
                var fds: [Int32] = [0, 0]
                guard pipe(&fds) == 0 else {
                    closePipes()
                    throw Failure(description: "pipe: \(String(cString: strerror(errno)))")
                }
                // fds[0] reads, fds[1] writes: the child reads its input and writes its outputs.
                let ends = fd == 0 ? (child: fds[0], parent: fds[1]) : (child: fds[1], parent: fds[0])
                pipes.append(ends)
                posix_spawn_file_actions_adddup2(&actions, ends.child, fd)
            case .file(let file):
                pipes.append(nil)
                let flags = fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC
                posix_spawn_file_actions_addopen(&actions, fd, file, flags, 0o644)
            }
        }
        _ = addCloseFrom(&actions, 3)
        _ = directory.withCString { addChdir(&actions, $0) }
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        // Signals at their defaults and none blocked in the child, whatever this process set.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        // The child has its copies (or was never made): close this process's other ends.
        for case let (child, _)? in pipes { close(child) }
        guard spawned == 0 else {
            for case let (_, parent)? in pipes { close(parent) }
            throw Failure(description: "posix_spawn \(path): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
        self.stdin = pipes[0]?.parent ?? -1
        self.stdout = pipes[1]?.parent ?? -1
        self.stderr = pipes[2]?.parent ?? -1
    }

    /// Writes `data` to the child's standard input; a child that exits without reading it
    /// closes the pipe, which ends the write (EPIPE; SIGPIPE is ignored here).
    func send(_ data: Data) {
        signal(SIGPIPE, SIG_IGN)
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(stdin, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// A process started by `CLI.spawn` or `CLI.run`, with the parts of Foundation's `Process` the tests use.
/// Its status is reaped once (by whichever accessor first sees it ended) and kept.
final class Background: @unchecked Sendable {
    // @unchecked: `ended` is read and written only while holding `lock`.
    enum TerminationReason: Int { case exit = 1, uncaughtSignal = 2 }  // Foundation's raw values

    let processIdentifier: pid_t
    private let lock = NSLock()
    private var ended: (reason: TerminationReason, status: Int32)?

    init(pid: pid_t) { processIdentifier = pid }

    var isRunning: Bool { reap() == nil }

    /// The exit code, or the signal that ended it; the process must have ended.
    var terminationStatus: Int32 {
        guard let ended = reap() else { preconditionFailure("process \(processIdentifier) is still running") }
        return ended.status
    }

    var terminationReason: TerminationReason {
        guard let ended = reap() else { preconditionFailure("process \(processIdentifier) is still running") }
        return ended.reason
    }

    private func reap() -> (reason: TerminationReason, status: Int32)? {
        lock.lock()
        defer { lock.unlock() }
        if let ended { return ended }
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(processIdentifier, &status, WNOHANG) } while reaped < 0 && errno == EINTR
        guard reaped == processIdentifier else {
            precondition(reaped == 0, "waitpid \(processIdentifier): \(String(cString: strerror(errno)))")
            return nil
        }
        let signal = status & 0x7f
        ended = signal == 0 ? (.exit, (status >> 8) & 0xff) : (.uncaughtSignal, signal)
        return ended
    }
}
