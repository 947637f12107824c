import Foundation
import Interpreter
import PostgresNIO
import _ConnectionPoolModule

/// SQLSTATE codes the store tells apart (PostgreSQL manual, appendix A).
enum SQLState {
    static let uniqueViolation = "23505"
    static let serializationFailure = "40001"
    static let deadlockDetected = "40P01"
    static let invalidPassword = "28P01"
    static let invalidAuthorization = "28000"
    static let invalidCatalogName = "3D000"
    static let invalidSchemaName = "3F000"
    static let insufficientPrivilege = "42501"
    static let undefinedTable = "42P01"
    static let undefinedColumn = "42703"
    static let tooManyConnections = "53300"
    static let diskFull = "53100"
    static let outOfMemory = "53200"
    static let adminShutdown = "57P01"
    static let crashShutdown = "57P02"
    static let cannotConnectNow = "57P03"
    static let readOnlyTransaction = "25006"

    /// Failures a retry of the same work in a later transaction can get past.
    static let transient: Set<String> = [serializationFailure, deadlockDetected]
}

extension PSQLError {
    /// The server's SQLSTATE, for errors the server reported.
    var sqlState: String? { code == .server ? serverInfo?[.sqlState] : nil }
}

extension StoreError {
    /// Turns what postgres-nio threw into a `StoreError` that names the server (URL without its
    /// password) and what to do. Only the server's own message is kept: never the SQL
    /// bindings (payloads), never the password.
    static func postgres(_ error: any Error, _ configuration: PostgresStore.Configuration) -> StoreError {
        let target = configuration.redactedURL
        switch error {
        case let error as StoreError:
            return error
        case let error as UnreadableRow:
            return .failure(
                "\(target): \(error.message); the database was edited by hand or by another program: "
                    + "restore it from a backup")
        case let error as PostgresDecodingError:
            return .incompatible(
                "\(target): column \(error.columnName) holds \(error.postgresType) where sagactl expects another "
                    + "type; the schema was changed by hand or by another program: restore it from a backup")
        case let error as PSQLError:
            return fromPSQLError(error, configuration)
        case let error as ConnectionPoolError where error == .connectionCreationCircuitBreakerTripped:
            return .failure(
                "cannot reach PostgreSQL at \(configuration.host):\(configuration.port) (every connection attempt "
                    + "failed for a minute); check that the server is running and reachable, then try again")
        case let error as ConnectionPoolError where error == .poolShutdown:
            return .failure("the store at \(target) is closed")
        case is CancellationError:
            return .failure("\(target): the operation was cancelled")
        default:
            return .failure("\(target): \(String(describing: type(of: error))) \(String(describing: error))")
        }
    }

    private static func fromPSQLError(_ error: PSQLError, _ configuration: PostgresStore.Configuration) -> StoreError {
        let target = configuration.redactedURL
        let server = "PostgreSQL at \(configuration.host):\(configuration.port)"
        switch error.code {
        case .server:
            return fromServerError(error, configuration)
        case .connectionError where isTLSFailure(error.underlying):
            return .failure(
                "the TLS handshake with \(server) failed (\(describeConnectionFailure(error.underlying))); "
                    + "give the authority that signed the server's certificate with sslrootcert=PATH, "
                    + "or use sslmode=require to encrypt without checking the certificate")
        case .connectionError:
            return .failure(
                "cannot reach \(server) (\(describeConnectionFailure(error.underlying))); start the server, "
                    + "or check the host and port in the URL")
        case .serverClosedConnection, .uncleanShutdown:
            return .failure(
                "\(server) closed the connection (\(describeConnectionFailure(error.underlying))); "
                    + "the server may have restarted: try again")
        case .sslUnsupported:
            return .failure(
                "\(server) does not accept TLS connections, but the URL says sslmode=\(configuration.tlsMode.rawValue); "
                    + "turn on ssl in the server's postgresql.conf, or use sslmode=prefer or sslmode=disable")
        case .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest:
            return .failure(
                "the TLS handshake with \(server) failed (\(describeConnectionFailure(error.underlying))); "
                    + "check the server's certificate and sslrootcert, or use sslmode=require to skip verification")
        case .authMechanismRequiresPassword:
            return .failure(
                "\(server) asks user \(configuration.username) for a password, and the URL gives none; "
                    + "write it as postgres://\(configuration.username):PASSWORD@\(configuration.host):"
                    + "\(configuration.port)/\(configuration.database)")
        case .unsupportedAuthMechanism:
            return .failure(
                "\(server) asks for an authentication method sagactl does not support (only password, md5 and "
                    + "scram-sha-256 are); change the method for this user in the server's pg_hba.conf")
        case .saslError:
            return .failure(
                "authentication of user \(configuration.username) at \(server) failed (SCRAM exchange); "
                    + "check the user name and password in the URL")
        case .poolClosed, .clientClosedConnection:
            return .failure("the store at \(target) is closed")
        case .queryCancelled:
            return .failure("\(target): the operation was cancelled")
        default:
            return .failure("\(target): PostgreSQL client error (\(error.code))")
        }
    }

    private static func fromServerError(_ error: PSQLError, _ configuration: PostgresStore.Configuration)
        -> StoreError
    {
        let target = configuration.redactedURL
        let server = "PostgreSQL at \(configuration.host):\(configuration.port)"
        let state = error.serverInfo?[.sqlState] ?? "?????"
        let message = error.serverInfo?[.message] ?? "no message"
        let user = configuration.username
        let database = configuration.database
        switch state {
        case SQLState.invalidPassword:
            return .failure(
                "\(server) refused user \(user): wrong password (\(message)); check the user name and password in "
                    + "the URL (percent-encode special characters: @ as %40)")
        case SQLState.invalidAuthorization:
            return .failure(
                "\(server) refused user \(user) (\(message)); allow this user, host and database in the server's "
                    + "pg_hba.conf, or check the user name in the URL")
        case SQLState.invalidCatalogName:
            return .failure(
                "the database \(database) does not exist on \(server); create it with "
                    + "`createdb -h \(configuration.host) -p \(configuration.port) -U \(user) \(database)` "
                    + "(or CREATE DATABASE \(database)), then run `sagactl migrate --db URL`")
        case SQLState.invalidSchemaName:
            return .failure(
                "\(target): \(message); run `sagactl migrate --db URL` to create the schema, or check schema= in the URL")
        case SQLState.insufficientPrivilege:
            return .failure(
                "user \(user) may not do this in \(target) (\(message)); grant it the rights on the database "
                    + "(e.g. GRANT CREATE ON SCHEMA \(configuration.schema ?? "public") TO \(user)), or run "
                    + "`sagactl migrate` as the owner")
        case SQLState.undefinedTable, SQLState.undefinedColumn:
            return .incompatible(
                "\(target) lacks a table or column sagactl needs (\(message)); it was changed by hand or by another "
                    + "program: run `sagactl migrate --db URL` on a database of sagactl's own")
        case SQLState.tooManyConnections:
            return .busy(
                "\(server) has no free connection slots (\(message)); stop some clients, or raise max_connections")
        case SQLState.serializationFailure, SQLState.deadlockDetected:
            return .busy("\(target): \(message); the database is contended by other sagactl processes: try again")
        case SQLState.diskFull:
            return .failure("\(server): the disk is full (\(message)); free some space on the server and try again")
        case SQLState.outOfMemory:
            return .failure("\(server) is out of memory (\(message)); try again, or give the server more memory")
        case SQLState.adminShutdown, SQLState.crashShutdown, SQLState.cannotConnectNow:
            return .failure("\(server) is shutting down or starting up (\(message)); try again when it is up")
        case SQLState.readOnlyTransaction:
            return .failure(
                "\(server) accepts only reads (\(message)); point the URL at the primary server, not a standby")
        default:
            return .failure("\(target): PostgreSQL error \(state) (\(message))")
        }
    }

    private static func isTLSFailure(_ error: (any Error)?) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError
    }

    /// A short reason for a failed or lost connection: the socket error, a time-out, a name
    /// that does not resolve.
    private static func describeConnectionFailure(_ error: (any Error)?) -> String {
        guard let error else { return "no reason given" }
        switch error {
        case let error as NIOSSLError:
            if case .handshakeFailed(let reason) = error, "\(reason)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "the server's certificate is not signed by a trusted authority"
            }
            return "\(error)"
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "the server's certificate does not name this host"
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return "the host name \(error.host) does not resolve"
            }
            let reasons = Set(error.connectionErrors.map { describeConnectionFailure($0.error) })
            return reasons.isEmpty ? "no address to connect to" : reasons.sorted().joined(separator: "; ")
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case let error as ChannelError:
            if case .connectTimeout(let amount) = error {
                return "no answer within \(amount.nanoseconds / 1_000_000_000) s"
            }
            return "\(error)"
        case let error as PSQLError:
            return error.code == .server ? (error.serverInfo?[.message] ?? "server error") : "\(error.code)"
        default:
            return String(describing: error)
        }
    }
}
