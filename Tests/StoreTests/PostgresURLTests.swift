import Foundation
import Interpreter
import PostgresStore
import Testing

/// URL parsing and password redaction: no server needed.
@Suite("PostgreSQL URLs")
struct PostgresURLTests {
    static let secret = "s3cr#t@pw/x"
    static let encodedSecret = "s3cr%23t%40pw%2Fx"

    @Test func parsesEveryPart() throws {
        let c = try PostgresStore.Configuration.parse(
            url: "postgresql://ops%20user:\(Self.encodedSecret)@db.example.com:6543/sagas%2Dprod"
                + "?sslmode=verify-full&schema=sagactl_v1&application_name=worker%201&connect_timeout=3"
                + "&sslrootcert=/etc/ca.pem")
        #expect(c.host == "db.example.com")
        #expect(c.port == 6543)
        #expect(c.username == "ops user")
        #expect(c.password == Self.secret)
        #expect(c.database == "sagas-prod")
        #expect(c.tlsMode == .verifyFull)
        #expect(c.schema == "sagactl_v1")
        #expect(c.applicationName == "worker 1")
        #expect(c.connectTimeout == .seconds(3))
        #expect(c.rootCertificatePath == "/etc/ca.pem")
    }

    @Test func defaultsAreLibpqs() throws {
        let c = try PostgresStore.Configuration.parse(url: "postgres://alice@localhost/shop")
        #expect(c.port == 5432)
        #expect(c.password == nil)
        #expect(c.tlsMode == .prefer)
        #expect(c.schema == nil)
        #expect(c.applicationName == "sagactl")
        #expect(c.connectTimeout == .seconds(10))
        #expect(c.rootCertificatePath == nil)
        let upper = try PostgresStore.Configuration.parse(url: "POSTGRES://alice@[::1]:5433/shop?sslmode=disable")
        #expect(upper.host == "::1")
        #expect(upper.port == 5433)
        #expect(upper.tlsMode == .disable)
    }

    @Test func theURLOfAConfigurationParsesBackToIt() throws {
        let original = try PostgresStore.Configuration.parse(
            url: "postgres://ops%20user:\(Self.encodedSecret)@[::1]:6543/sagas%2Fprod?sslmode=require&schema=s1"
                + "&application_name=a%26b&connect_timeout=4&sslrootcert=/tmp/ca%20file.pem")
        let again = try PostgresStore.Configuration.parse(url: original.url)
        #expect(again.url == original.url)
        #expect(again.password == Self.secret)
        #expect(again.database == "sagas/prod")
        #expect(again.host == "::1")
        #expect(again.applicationName == "a&b")
        #expect(again.rootCertificatePath == "/tmp/ca file.pem")
        #expect(!original.redactedURL.contains("s3cr"))
        #expect(original.redactedURL.hasPrefix("postgres://ops%20user:***@[::1]:6543/sagas%2Fprod?sslmode=require"))
    }

    /// Each malformed URL, the words its error must contain; none may show the password.
    static let malformed: [(url: String, says: String)] = [
        ("mysql://u:\(encodedSecret)@h/db", "must start with postgres:// or postgresql://"),
        ("/var/lib/sagactl.sqlite", "must start with postgres://"),
        ("postgres://u:\(encodedSecret)@/db", "names no host"),
        ("postgres://u:\(encodedSecret)@h:0/db", "not between 1 and 65535"),
        ("postgres://u:\(encodedSecret)@h:70000/db", "not between 1 and 65535"),
        ("postgres://:\(encodedSecret)@h/db", "names no user"),
        ("postgres://h/db", "names no user"),
        ("postgres://u:\(encodedSecret)@h", "names no database"),
        ("postgres://u:\(encodedSecret)@h/", "names no database"),
        ("postgres://u:\(encodedSecret)@h/db/more", "more than a database name"),
        ("postgres://u:\(encodedSecret)@h/db?sslmode=sometimes", "use one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("postgres://u:\(encodedSecret)@h/db?sslmode=", "gives no value for 'sslmode'"),
        ("postgres://u:\(encodedSecret)@h/db?schema=Public", "has schema=Public"),
        ("postgres://u:\(encodedSecret)@h/db?schema=1st", "has schema=1st"),
        ("postgres://u:\(encodedSecret)@h/db?schema=a;drop", "has schema="),
        ("postgres://u:\(encodedSecret)@h/db?connect_timeout=0", "whole number of seconds"),
        ("postgres://u:\(encodedSecret)@h/db?connect_timeout=soon", "whole number of seconds"),
        ("postgres://u:\(encodedSecret)@h/db?pool=9", "unknown parameter 'pool'"),
        ("postgres://u:\(encodedSecret)@h/db?sslmode=disable&sslmode=require", "gives the parameter 'sslmode' twice"),
        ("postgres://u:\(encodedSecret)@h/db#frag", "has a fragment"),
        ("postgres://u:\(secret)@h/db", "percent-encode special characters"),  // unencoded: never shown
    ]

    @Test(arguments: malformed)
    func malformedURLsSayWhatIsWrongWithoutThePassword(url: String, says: String) throws {
        let error = try #require(throws: PostgresURLError.self) { try PostgresStore.Configuration.parse(url: url) }
        #expect(error.message.contains(says), "\(error.message)")
        #expect(!error.message.contains("s3cr"), "\(error.message)")
    }

    /// Input, redacted output.
    static let redactions: [(String, String)] = [
        ("postgres://alice:hunter2@db:5432/shop", "postgres://alice:***@db:5432/shop"),
        ("postgresql://alice:p%40ss@db/shop?sslmode=require", "postgresql://alice:***@db/shop?sslmode=require"),
        ("postgres://alice@db/shop", "postgres://alice@db/shop"),
        ("postgres://db/shop", "postgres://db/shop"),
        // An unescaped @ or / in the password: everything up to the last @ is hidden.
        ("postgres://alice:p@ss/w@rd@db/shop", "postgres://alice:***@db/shop"),
        ("postgres://alice:a:b:c@db/shop", "postgres://alice:***@db/shop"),
        ("postgres://alice@db/shop?password=hunter2&sslmode=disable", "postgres://alice@db/shop?password=***&sslmode=disable"),
        ("postgres://db/shop?sslmode=disable&PASSWORD=hunter2", "postgres://db/shop?sslmode=disable&PASSWORD=***"),
        ("./sagactl.sqlite", "./sagactl.sqlite"),
    ]

    @Test(arguments: redactions)
    func redactionHidesEveryPassword(input: String, expected: String) {
        let redacted = PostgresURL.redacted(input)
        #expect(redacted == expected)
        for secret in ["hunter2", "p%40ss", "p@ss", "b:c"] {
            #expect(!redacted.contains(secret))
        }
    }

    @Test func configurationDescriptionsNeverShowThePassword() throws {
        let c = try PostgresStore.Configuration.parse(url: "postgres://alice:\(Self.encodedSecret)@db/shop")
        var dumped = ""
        dump(c, to: &dumped)
        for text in [c.description, c.debugDescription, String(describing: c), String(reflecting: c), "\(c)", dumped,
                     c.redactedURL] {
            #expect(!text.contains("s3cr"), "\(text)")
            #expect(text.contains("alice"), "\(text)")
        }
        #expect(c.url.contains(Self.encodedSecret))  // the one form meant for another process
    }

    @Test func recognisesPostgresURLsOnly() {
        #expect(PostgresURL.isPostgres("postgres://h/db"))
        #expect(PostgresURL.isPostgres("PostgreSQL://h/db"))
        #expect(!PostgresURL.isPostgres("./postgres://x"))
        #expect(!PostgresURL.isPostgres("sagactl.sqlite"))
        #expect(!PostgresURL.isPostgres("postgres:/h/db"))
    }

    /// Nothing listens on port 1: the error says so, names the server, and hides the password.
    @Test func anUnreachableServerIsReportedWithWhatToDo() async throws {
        let error = try await #require(throws: StoreError.self) {
            _ = try await PostgresStore(url: "postgres://alice:\(Self.encodedSecret)@127.0.0.1:1/shop?sslmode=disable")
        }
        guard case .failure(let message) = error else {
            Issue.record("expected .failure, got \(error)")
            return
        }
        #expect(message.contains("cannot reach PostgreSQL at 127.0.0.1:1"), "\(message)")
        #expect(message.contains("refused"), "\(message)")
        #expect(message.contains("start the server"), "\(message)")
        #expect(!message.contains("s3cr"))
    }

    @Test func aMalformedURLIsAStoreFailureFromTheInitialiser() async throws {
        let error = try await #require(throws: StoreError.self) {
            _ = try await PostgresStore(url: "postgres://alice:\(Self.encodedSecret)@db/shop?sslmode=maybe")
        }
        #expect(error.description.contains("sslmode=maybe"))
        #expect(!error.description.contains("s3cr"))
    }
}
