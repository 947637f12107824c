import Foundation
import GRDB

/// SQLite's "locking protocol" error (`SQLITE_PROTOCOL`) as the transient condition it is in WAL
/// mode: a connection that starts a read or write transaction retries for about a second while
/// another connection holds the write-ahead log's index locks (starting up, checkpointing, or
/// recovering the log after a process was killed), then gives up with this error, having done
/// nothing. On a loaded machine that second is not enough; `sagactl list` failed with it in a
/// chaos run right after a worker was killed. The store tries such an operation again, with a
/// growing pause, until its busy timeout has passed, as it waits for an ordinary lock.
enum LockRace {
    static func isRace(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.resultCode == .SQLITE_PROTOCOL
    }

    /// Pause before try `attempt` (1 = the first retry): 1 ms, doubling, at most 100 ms.
    static func pause(before attempt: Int) -> TimeInterval {
        min(0.001 * pow(2, Double(min(attempt - 1, 10))), 0.1)
    }

    /// `body`, tried again while it fails with a lock race and `timeout` seconds have not passed.
    static func retrying<T>(for timeout: TimeInterval, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var attempt = 0
        while true {
            do {
                return try body()
            } catch where isRace(error) && Date() < deadline {
                attempt += 1
                Thread.sleep(forTimeInterval: pause(before: attempt))
            }
        }
    }

    /// The same for an async operation; the pauses do not block a thread.
    static func retrying<T>(for timeout: TimeInterval, _ body: () async throws -> T) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch where isRace(error) && Date() < deadline {
                attempt += 1
                try await Task.sleep(nanoseconds: UInt64(pause(before: attempt) * 1_000_000_000))
            }
        }
    }
}
