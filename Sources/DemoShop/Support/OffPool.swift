import Dispatch

/// Runs blocking work (opening, migrating and closing SQLite files, each commit an fsync) on a
/// dispatch thread instead of one of the few threads of Swift's cooperative pool, so that a
/// slow disk does not stall the request handlers and other tasks of the process.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
