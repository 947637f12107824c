import Foundation
import GRDB
import Interpreter

extension StoreError {
    /// Turns what GRDB or SQLite threw into a `StoreError` that names the file and what to do.
    /// Only SQLite's own message is kept: never the SQL arguments (payloads).
    static func sqlite(_ error: any Error, path: String, busyTimeout: TimeInterval) -> StoreError {
        switch error {
        case let error as StoreError:
            return error
        case let error as UnreadableRow:
            return .failure(
                "\(path): \(error.message); the database is damaged or was edited by hand: "
                    + "restore it from a backup")
        case let error as DatabaseError:
            return fromDatabaseError(error, path: path, busyTimeout: busyTimeout)
        default:
            return .failure("\(path): \(error)")
        }
    }

    private static func fromDatabaseError(_ error: DatabaseError, path: String, busyTimeout: TimeInterval)
        -> StoreError
    {
        let sqliteMessage = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_PROTOCOL:
            return .busy(
                "\(path) is locked by another process for more than \(formatSeconds(busyTimeout)); "
                    + "wait for it or stop the other sagactl process using this database")
        case .SQLITE_NOTADB:
            return .incompatible(
                "\(path) is not a sagactl database: SQLite cannot read it (\(sqliteMessage)), so it is another "
                    + "kind of file or a damaged database; pass --db with the path of a sagactl database, or of "
                    + "a new file to create one (restore a damaged database from a backup)")
        case .SQLITE_CORRUPT:
            return .failure(
                "\(path) is damaged (\(sqliteMessage)); restore it from a backup, or move it away "
                    + "to start a new database")
        case .SQLITE_FULL:
            return .failure("\(path): the disk is full (\(sqliteMessage)); free some space and try again")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return .failure(
                "cannot open \(path) for writing (\(sqliteMessage)); check that its folder exists "
                    + "and that this user may write the file and its folder")
        case .SQLITE_IOERR:
            return .failure(
                "\(path): input/output error (\(sqliteMessage)); check the disk, then try again")
        default:
            return .failure("\(path): SQLite error (\(sqliteMessage))")
        }
    }
}

private func formatSeconds(_ seconds: TimeInterval) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
