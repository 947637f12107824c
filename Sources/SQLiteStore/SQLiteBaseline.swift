import Foundation
import GRDB

/// The raw limits of SQLite on this disk with the store's settings (WAL, the same
/// `synchronous`), measured next to an engine benchmark so its overhead is a ratio, not a
/// guess: single-row commits per second, and rows per second inserted in large batches.
public enum SQLiteBaseline {
    public struct Result: Sendable {
        public var singleRowCommitsPerSecond: Double
        public var batchedRowsPerSecond: Double
    }

    /// Measures in a fresh file under `directory` for about `seconds` per figure.
    public static func measure(directory: String, durability: SQLiteInstanceStore.Durability,
                               seconds: Double = 1.5) throws -> Result {
        let path = directory + "/baseline-\(UUID().uuidString).sqlite"
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        var configuration = Configuration()
        configuration.journalMode = .wal
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            // Shaped like the store's step rows, with a payload of the same size.
            try db.execute(sql: """
                CREATE TABLE rows (instance_id TEXT NOT NULL, seq INTEGER NOT NULL, state_name TEXT NOT NULL,
                  phase TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL, input TEXT, output TEXT,
                  idempotency_key TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL,
                  PRIMARY KEY (instance_id, seq))
                """)
        }
        let payload = "{\"orderId\":\"o-123456\",\"amount\":40}"
        func insert(_ db: Database, _ n: Int) throws {
            let statement = try db.cachedStatement(sql: """
                INSERT INTO rows VALUES (?, ?, 'ReserveStock', 'forward', 1, 'SU', ?, ?, ?, ?, ?)
                """)
            let id = "inst-\(n / 8)"
            try statement.execute(arguments: [id, n, payload, payload, "\(id):\(n)", Date().timeIntervalSince1970,
                                              Date().timeIntervalSince1970])
        }
        var n = 0
        var start = Date()
        var commits = 0
        while Date().timeIntervalSince(start) < seconds {
            try queue.inTransaction(.immediate) { db in
                try insert(db, n)
                n += 1
                return .commit
            }
            commits += 1
        }
        let single = Double(commits) / Date().timeIntervalSince(start)

        start = Date()
        var rows = 0
        while Date().timeIntervalSince(start) < seconds {
            try queue.inTransaction(.immediate) { db in
                for _ in 0..<1000 {
                    try insert(db, n)
                    n += 1
                }
                return .commit
            }
            rows += 1000
        }
        let batched = Double(rows) / Date().timeIntervalSince(start)
        return Result(singleRowCommitsPerSecond: single, batchedRowsPerSecond: batched)
    }
}
