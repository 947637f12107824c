import Foundation

/// A value behind a lock, for small state shared by request handlers (fault decisions,
/// per-key attempt counts) where an actor hop would cost more than the work.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
