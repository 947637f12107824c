import Foundation
import GRDB
import GRDBSQLite

/// One statement's arguments as plain values, encoded by the caller (on its own task) and bound
/// by the single writer through SQLite's C API.
///
/// The writer is the one serial part of group commit. GRDB's `StatementArguments` keeps each
/// value as an existential `DatabaseValueConvertible` and converts it again on every bind;
/// profiles of `sagactl bench` showed that boxing, copying and binding took about twice as
/// long on the writer as SQLite's own execution of the statements.
struct SQLiteRow: Sendable {
    enum Value: Sendable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
    }

    private(set) var values: [Value] = []

    init(capacity: Int) { values.reserveCapacity(capacity) }

    init(_ values: [Value]) { self.values = values }

    mutating func append(_ text: String?) { values.append(text.map(Value.text) ?? .null) }
    mutating func append(_ integer: Int?) { values.append(integer.map { .integer(Int64($0)) } ?? .null) }
    mutating func append(_ bool: Bool) { values.append(.integer(bool ? 1 : 0)) }
    /// A date as REAL unix seconds (the schema's convention).
    mutating func append(_ date: Date?) { values.append(date.map { .real($0.timeIntervalSince1970) } ?? .null) }
}

/// SQLite's `SQLITE_TRANSIENT`: SQLite copies the bytes before the bind call returns.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

extension Statement {
    /// Binds `row` and steps the statement to completion (it must return no rows), then resets
    /// it. Fails with a `DatabaseError` carrying SQLite's extended result code and message,
    /// as GRDB's own `execute` would.
    ///
    /// Only for statements that neither begin nor end transactions nor change the schema: GRDB
    /// does not see this execution (it tracks those for its own bookkeeping).
    func run(_ row: SQLiteRow, in db: Database) throws {
        let statement = sqliteStatement
        // The previous run reset the statement already; a reset reports the last step's
        // error again, which that run threw.
        _ = sqlite3_reset(statement)
        guard Int(sqlite3_bind_parameter_count(statement)) == row.values.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE,
                                message: "\(row.values.count) arguments for \(sqlite3_bind_parameter_count(statement)) parameters",
                                sql: sql)
        }
        for (offset, value) in row.values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let integer): code = sqlite3_bind_int64(statement, index, integer)
            case .real(let real): code = sqlite3_bind_double(statement, index, real)
            case .text(var text):
                code = text.withUTF8 { bytes in
                    // A NULL pointer would bind SQL NULL: "" gets a pointer to an empty C string.
                    guard let base = bytes.baseAddress, !bytes.isEmpty else {
                        return sqlite3_bind_text(statement, index, "", 0, transient)
                    }
                    return sqlite3_bind_text(statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                                             Int32(bytes.count), transient)
                }
            }
            guard code == SQLITE_OK else { throw lastError(db, code: code) }
        }
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            let error = lastError(db, code: code)
            _ = sqlite3_reset(statement)  // reports the same error, thrown below
            throw error
        }
        _ = sqlite3_reset(statement)  // after SQLITE_DONE, reset returns SQLITE_OK
    }

    private func lastError(_ db: Database, code: Int32) -> DatabaseError {
        let connection = db.sqliteConnection
        let extended = connection.map { sqlite3_extended_errcode($0) } ?? code
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: extended), message: message, sql: sql)
    }
}
