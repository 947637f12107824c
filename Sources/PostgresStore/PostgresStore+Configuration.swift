import Foundation
import Interpreter
import PostgresNIO

extension PostgresStore {
    /// Where the store's PostgreSQL database is and how to reach it, usually parsed from a URL:
    ///
    ///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&schema=NAME]
    ///
    /// `postgresql://` works too. Special characters in the user name, password or database
    /// are percent-encoded (`@` is `%40`). `description`, `debugDescription` and `dump` never
    /// show the password.
    public struct Configuration: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        /// libpq's `sslmode` values.
        public enum TLSMode: String, Sendable, CaseIterable {
            /// Never encrypt.
            case disable
            /// As `prefer` (postgres-nio asks for TLS first rather than second).
            case allow
            /// Encrypt when the server supports it; no certificate check. The default, as in libpq.
            case prefer
            /// Always encrypt; fail when the server does not support TLS. No certificate check.
            case require
            /// Always encrypt, and check that a trusted authority signed the server's certificate.
            case verifyCA = "verify-ca"
            /// As `verify-ca`, and check that the certificate names the host.
            case verifyFull = "verify-full"
        }

        public var host: String
        /// The TCP port; 5432 by default.
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var tlsMode: TLSMode
        /// A PEM file of the authorities to trust for `verify-ca`/`verify-full` (`sslrootcert`);
        /// nil trusts the system's.
        public var rootCertificatePath: String?
        /// The schema holding sagactl's tables (`schema=` in the URL, created when missing). Nil
        /// uses the server's default search path (normally `public`). Lower-case letters,
        /// digits and underscores, starting with a letter or underscore.
        public var schema: String?
        /// Shown in `pg_stat_activity`.
        public var applicationName: String
        /// How long to wait for the server to accept a connection; 10 s by default.
        public var connectTimeout: Duration
        /// Connections the store opens at most: `writerConnections` of them write group-commit
        /// batches, the others serve reads, claims and lease renewals. 8 by default; at least
        /// `writerConnections + 1`.
        public var maximumConnections: Int
        /// Group-commit batches written at once, each in its own transaction on its own
        /// connection: while one waits for its commit, the next is sent. 4 by default; at least 1.
        public var writerConnections: Int
        /// At most this many transitions per group-commit transaction; 512 by default.
        public var maximumBatch: Int

        public init(
            host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
            tlsMode: TLSMode = .prefer, schema: String? = nil
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tlsMode = tlsMode
            self.rootCertificatePath = nil
            self.schema = schema
            self.applicationName = "sagactl"
            self.connectTimeout = .seconds(10)
            self.maximumConnections = 8
            self.writerConnections = 4
            self.maximumBatch = 512
        }

        /// The URL with the password replaced by `***`, for messages.
        public var redactedURL: String { url(password: password == nil ? nil : "***") }

        /// The URL these settings parse from, password included: for handing to another
        /// process, never for printing.
        public var url: String { url(password: password) }

        public var description: String { redactedURL }
        public var debugDescription: String { "PostgresStore.Configuration(\(redactedURL))" }
        public var customMirror: Mirror {
            Mirror(self, children: ["url": redactedURL], displayStyle: .struct)
        }

        private func url(password: String?) -> String {
            var text = "postgres://" + Self.encode(username, allowed: .urlUserAllowed)
            if let password { text += ":" + Self.encode(password, allowed: .urlPasswordAllowed) }
            let shownHost = host.contains(":") ? "[\(host)]" : host
            text += "@\(shownHost):\(port)/" + Self.encode(database, allowed: .urlPathAllowed.subtracting(["/"]))
            var query = ["sslmode=\(tlsMode.rawValue)"]
            if let schema { query.append("schema=\(schema)") }
            if let rootCertificatePath {
                query.append("sslrootcert=" + Self.encode(rootCertificatePath, allowed: .urlQueryAllowed.subtracting(["&", "="])))
            }
            if applicationName != "sagactl" {
                query.append("application_name=" + Self.encode(applicationName, allowed: .urlQueryAllowed.subtracting(["&", "="])))
            }
            if connectTimeout != .seconds(10) { query.append("connect_timeout=\(connectTimeout.components.seconds)") }
            return text + "?" + query.joined(separator: "&")
        }

        private static func encode(_ text: String, allowed: CharacterSet) -> String {
            text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
        }

        /// The connection settings for postgres-nio's pool.
        func clientConfiguration() throws(StoreError) -> PostgresClient.Configuration {
            let tls: PostgresClient.Configuration.TLS
            switch try tlsConfiguration() {
            case nil: tls = .disable
            case (let configuration, true)?: tls = .require(configuration)
            case (let configuration, false)?: tls = .prefer(configuration)
            }
            var client = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
            client.options.connectTimeout = connectTimeout
            client.options.additionalStartupParameters = startupParameters
            client.options.maximumConnections = max(maximumConnections, max(writerConnections, 1) + 1)
            return client
        }

        /// The settings for one connection outside the pool (opening checks and migrations).
        func connectionConfiguration() throws(StoreError) -> PostgresConnection.Configuration {
            let tls: PostgresConnection.Configuration.TLS
            do {
                switch try tlsConfiguration() {
                case nil: tls = .disable
                case (let configuration, true)?: tls = .require(try NIOSSLContext(configuration: configuration))
                case (let configuration, false)?: tls = .prefer(try NIOSSLContext(configuration: configuration))
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError.failure(
                    "cannot set up TLS for \(redactedURL) (\(error)); check sslrootcert, or use sslmode=disable "
                        + "for a server on this machine")
            }
            var connection = PostgresConnection.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
            connection.options.connectTimeout = TimeAmount(connectTimeout)
            connection.options.additionalStartupParameters = startupParameters
            return connection
        }

        private var startupParameters: [(String, String)] {
            var parameters = [("application_name", applicationName)]
            if let schema { parameters.append(("search_path", schema)) }
            return parameters
        }

        /// The TLS settings for the mode, and whether TLS is required; nil for `disable`.
        private func tlsConfiguration() throws(StoreError) -> (TLSConfiguration, required: Bool)? {
            var tls = TLSConfiguration.makeClientConfiguration()
            switch tlsMode {
            case .disable: return nil
            case .allow, .prefer, .require: tls.certificateVerification = .none
            case .verifyCA: tls.certificateVerification = .noHostnameVerification
            case .verifyFull: tls.certificateVerification = .fullVerification
            }
            if let rootCertificatePath {
                guard FileManager.default.isReadableFile(atPath: rootCertificatePath) else {
                    throw StoreError.failure(
                        "cannot read the sslrootcert file \(rootCertificatePath) given in \(redactedURL); "
                            + "check the path and its permissions")
                }
                tls.trustRoots = .file(rootCertificatePath)
            }
            return (tls, required: [.require, .verifyCA, .verifyFull].contains(tlsMode))
        }
    }
}
