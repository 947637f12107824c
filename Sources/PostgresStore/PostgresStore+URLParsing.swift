import Foundation

extension PostgresStore.Configuration {
    /// The query parameters `parse(url:)` understands. `schema` is sagactl's own; the others
    /// mean what they mean to libpq.
    public static let urlParameters = ["sslmode", "sslrootcert", "schema", "application_name", "connect_timeout"]

    /// Reads `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMETERS]` (or
    /// `postgresql://`), checking every part.
    ///
    /// - Throws: `PostgresURLError` naming the part that is wrong and how to write it; the
    ///   message shows the URL with its password redacted.
    public static func parse(url text: String) throws(PostgresURLError) -> Self {
        let shown = PostgresURL.redacted(text)
        func fail(_ problem: String, _ hint: String) -> PostgresURLError {
            PostgresURLError("\(shown) \(problem); \(hint)")
        }
        let example = "write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        guard PostgresURL.isPostgres(text) else {
            throw fail("is not a PostgreSQL URL: it must start with postgres:// or postgresql://", example)
        }
        guard let components = URLComponents(string: text) else {
            throw fail(
                "is not a valid URL",
                "percent-encode special characters in the user name, password and database name "
                    + "(@ as %40, / as %2F, : as %3A, # as %23, ? as %3F, space as %20)")
        }
        guard let rawHost = components.host, !rawHost.isEmpty else {
            throw fail("names no host", example + " (use 127.0.0.1 for this machine)")
        }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw fail("has the port \(port), which is not between 1 and 65535", example + " (PostgreSQL's default port is 5432)")
        }
        guard let username = components.user, !username.isEmpty else {
            throw fail("names no user", example)
        }
        let path = components.percentEncodedPath
        guard path.count > 1, path.hasPrefix("/") else {
            throw fail("names no database", example + " (create the database first with createdb)")
        }
        guard !path.dropFirst().contains("/") else {
            throw fail("has more than a database name in its path", example + " (encode a / in the name as %2F)")
        }
        guard let database = String(path.dropFirst()).removingPercentEncoding, !database.isEmpty else {
            throw fail("has a database name that is not valid percent-encoding", example)
        }
        guard components.fragment == nil else {
            throw fail("has a fragment (#…)", "remove it, or encode a # in the password as %23")
        }
        var configuration = Self(
            host: host, port: port, username: username, password: components.password, database: database)
        try configuration.apply(parameters: components.queryItems ?? [], fail: fail)
        return configuration
    }

    private mutating func apply(
        parameters: [URLQueryItem], fail: (String, String) -> PostgresURLError
    ) throws(PostgresURLError) {
        var seen: Set<String> = []
        for item in parameters {
            let name = item.name
            guard Self.urlParameters.contains(name) else {
                throw fail(
                    "has the unknown parameter '\(name)'",
                    "the parameters sagactl understands are " + Self.urlParameters.joined(separator: ", "))
            }
            guard seen.insert(name).inserted else {
                throw fail("gives the parameter '\(name)' twice", "keep one")
            }
            guard let value = item.value, !value.isEmpty else {
                throw fail("gives no value for '\(name)'", "write \(name)=VALUE or leave the parameter out")
            }
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw fail(
                        "has sslmode=\(value)",
                        "use one of " + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                tlsMode = mode
            case "sslrootcert":
                rootCertificatePath = value
            case "schema":
                guard Self.isPlainIdentifier(value) else {
                    throw fail(
                        "has schema=\(value)",
                        "a schema name here is 1 to 63 lower-case letters, digits and underscores, not starting with a digit")
                }
                schema = value
            case "application_name":
                applicationName = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else {
                    throw fail("has connect_timeout=\(value)", "give a whole number of seconds, at least 1")
                }
                connectTimeout = .seconds(seconds)
            default:
                preconditionFailure("urlParameters lists '\(name)' but apply(parameters:) does not handle it")
            }
        }
    }

    /// A name PostgreSQL keeps as written without quotes: `[a-z_][a-z0-9_]*`, at most 63 bytes.
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
        let isLetter: (UInt8) -> Bool = { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") }
        let isDigit: (UInt8) -> Bool = { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return isLetter(first) && name.utf8.allSatisfy { isLetter($0) || isDigit($0) }
    }
}
