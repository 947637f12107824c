import Foundation

/// A value protected by a lock (named apart from `Synchronization.Mutex`), for state shared across tasks where an actor hop would cost
/// more than the work (the engine's caches and handler tables).
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
