import Foundation
import Interpreter

/// What a command opened that must be closed when it ends, however it ends (the HTTP client's
/// connections and event loop thread). `SagaCommand.runMain` binds one per command run as a
/// task-local value and closes it after the command; `EngineSetup.make` registers into it. A
/// task-local (not a global) keeps commands run side by side in one process (the tests) apart.
final class CommandResources: Sendable {
    @TaskLocal static var current: CommandResources?

    private let closers = Locked<[@Sendable () async throws -> Void]>([])

    /// Runs `body` when the command ends; the last registered runs first.
    func onClose(_ body: @escaping @Sendable () async throws -> Void) {
        closers.withLock { $0.append(body) }
    }

    /// Closers registered and not yet run.
    var pendingCount: Int { closers.withLock { $0.count } }

    /// Runs every registered closer once, and returns the errors they threw.
    func close() async -> [any Error] {
        let pending = closers.withLock { list in
            defer { list.removeAll() }
            return list
        }
        var errors: [any Error] = []
        for closer in pending.reversed() {
            do { try await closer() } catch { errors.append(error) }
        }
        return errors
    }
}
