import Foundation
import Interpreter
import StateLang
import Testing
@testable import Actions

@Suite("HTTP action: headers, environment and secrets")
struct HTTPActionHeaderTests {
    static let token = "tok-5f1c9a7e2b"

    @Test("Content-Type, Idempotency-Key, Saga-Instance, Saga-State and the binding's headers are sent")
    func headers() async throws {
        try await TestHTTPServer.with({ _ in .json(200, "{}") }) { server in
            let binding = HTTPTest.binding(server.baseURL, headers: ["X-Tenant": "shop-1", "Accept": "application/json"])
            let invocation = HTTPTest.invocation(key: "inst-1/ReserveStock/1")
            _ = try await HTTPTest.withAction { await $0.invoke(invocation, binding: binding) }
            let request = try #require(server.requests.first)
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.header("Idempotency-Key") == "inst-1/ReserveStock/1")
            #expect(request.header("Saga-Instance") == "inst-1")
            #expect(request.header("Saga-State") == "ReserveStock")
            #expect(request.header("X-Tenant") == "shop-1")
            #expect(request.header("Accept") == "application/json")
            #expect(request.headers[canonicalForm: "Idempotency-Key"].count == 1)
        }
    }

    @Test("A binding may set Content-Type, but not the saga headers")
    func reservedHeaders() async throws {
        try await TestHTTPServer.with({ _ in .json(200, "{}") }) { server in
            try await HTTPTest.withAction { action in
                let custom = HTTPTest.binding(server.baseURL, headers: ["content-type": "application/vnd.shop+json"])
                _ = await action.invoke(HTTPTest.invocation(), binding: custom)
                #expect(server.requests.first?.headers[canonicalForm: "Content-Type"] == ["application/vnd.shop+json"])
                let clash = HTTPTest.binding(server.baseURL, headers: ["Idempotency-Key": "fixed"])
                let failure = try #require(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: clash)))
                #expect(failure == ActionFailure(ErrorName("ActionError.InvalidBinding"),
                                                 "header 'Idempotency-Key' of service 'inventory' is set by sagactl; remove it from Headers"))
                #expect(server.requestCount == 1)
            }
        }
    }

    @Test("${VAR} and ${VAR:-default} are expanded in the URL and in headers at call time")
    func expansion() async throws {
        try await TestHTTPServer.with({ _ in .json(200, "{}") }) { server in
            let environment = ["SHOP_URL": server.baseURL, "TENANT": "t-9", "TOKEN": Self.token]
            try await HTTPTest.withAction(HTTPTest.configuration(environment: environment)) { action in
                let binding = HTTPTest.binding("${SHOP_URL:-http://127.0.0.1:1}/v1",
                                               headers: ["Authorization": "Bearer ${TOKEN}", "X-Tenant": "${TENANT}",
                                                         "X-Region": "${REGION:-eu}"])
                #expect(await action.invoke(HTTPTest.invocation(), binding: binding) == .success([:]))
                // The default is used when the variable is unset.
                let byDefault = HTTPTest.binding("${UNSET_URL:-\(server.baseURL)}")
                #expect(await action.invoke(HTTPTest.invocation("release"), binding: byDefault) == .success([:]))
            }
            #expect(server.requests.map(\.path) == ["/v1/reserve", "/release"])
            let request = try #require(server.requests.first)
            #expect(request.header("Authorization") == "Bearer \(Self.token)")
            #expect(request.header("X-Tenant") == "t-9")
            #expect(request.header("X-Region") == "eu")
        }
    }

    @Test("A header's problem names the header and the variable, not the value")
    func headerProblems() async throws {
        let environment = ["MULTILINE": "\(Self.token)\r\nX-Injected: 1"]
        try await HTTPTest.withAction(HTTPTest.configuration(environment: environment)) { action in
            let unset = HTTPTest.binding("http://127.0.0.1:1", headers: ["Authorization": "Bearer ${TOKEN}"])
            #expect(await action.invoke(HTTPTest.invocation(), binding: unset) == .failure(ActionFailure(
                ErrorName("ActionError.InvalidBinding"),
                "header 'Authorization' of service 'inventory': environment variable TOKEN (column 8) is not set; set it, or write ${TOKEN:-default}")))
            let injected = HTTPTest.binding("http://127.0.0.1:1", headers: ["Authorization": "${MULTILINE}"])
            let failure = try #require(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: injected)))
            #expect(failure.message == "header 'Authorization' of service 'inventory' has a line break or NUL in its value after expanding environment variables")
            let badName = HTTPTest.binding("http://127.0.0.1:1", headers: ["X Bad": "1"])
            #expect(HTTPTest.failure(await action.invoke(HTTPTest.invocation(), binding: badName))?.message
                    == "service 'inventory' has a header named 'X Bad', which is not a valid header name")
        }
    }

    @Test("A secret from the environment never appears in a failure, even when the server echoes it",
          arguments: [
              TestHTTPServer.Reply.respond(status: 401, body: "invalid credentials: Bearer \(token)"),
              .json(403, #"{"error": "Forbidden", "message": "token \#(token) is revoked"}"#),
              .respond(status: 500, body: "crashed while checking \(token)"),
              .respond(status: 200, body: "not json but \(token)"),
              .reset,
          ])
    func secretsDoNotLeak(reply: TestHTTPServer.Reply) async throws {
        try await TestHTTPServer.with({ _ in reply }) { server in
            let configuration = HTTPTest.configuration(environment: ["SHOP_TOKEN": Self.token])
            let binding = HTTPTest.binding(server.baseURL, headers: ["Authorization": "Bearer ${SHOP_TOKEN}"])
            let outcome = try await HTTPTest.withAction(configuration) { await $0.invoke(HTTPTest.invocation(), binding: binding) }
            let failure = try #require(HTTPTest.failure(outcome))
            #expect(server.requests.first?.header("Authorization") == "Bearer \(Self.token)")
            for text in [failure.message, failure.description, String(describing: outcome), String(reflecting: failure)] {
                #expect(!text.contains(Self.token), "the secret leaked into: \(text)")
            }
            if case .respond(_, let body, _) = reply, body.contains("Bearer") {
                #expect(failure.message.contains("Bearer [redacted]"))
            }
        }
    }

    @Test("Refused and timed-out calls do not print header values either")
    func secretsInTransportFailures() async throws {
        let port = try await TestHTTPServer.closedPort()
        let configuration = HTTPTest.configuration(environment: ["SHOP_TOKEN": Self.token])
        let headers = ["Authorization": "Bearer ${SHOP_TOKEN}", "X-Api-Key": "${SHOP_TOKEN}"]
        try await TestHTTPServer.with({ _ in .hold }) { server in
            try await HTTPTest.withAction(configuration) { action in
                let refused = await action.invoke(HTTPTest.invocation(), binding: HTTPTest.binding("http://127.0.0.1:\(port)", headers: headers))
                let timedOut = await action.invoke(HTTPTest.invocation(), binding: HTTPTest.binding(server.baseURL, timeout: 0.2, headers: headers))
                #expect(HTTPTest.failure(refused)?.name == .connectionRefused)
                #expect(HTTPTest.failure(timedOut)?.name == .timeout)
                // Credentials in the URL are not printed either: messages show the URL without them.
                let withCredentials = HTTPTest.binding("http://shop:${SHOP_TOKEN}@127.0.0.1:\(port)/v1?key=${SHOP_TOKEN}")
                let refusedWithCredentials = await action.invoke(HTTPTest.invocation(), binding: withCredentials)
                #expect(refusedWithCredentials == .failure(ActionFailure(.connectionRefused,
                                                                         "nothing accepts connections at http://127.0.0.1:\(port)/v1/reserve")))
                for outcome in [refused, timedOut, refusedWithCredentials] {
                    #expect(!String(describing: outcome).contains(Self.token))
                }
            }
        }
    }

    @Test("The redactor removes secrets in plain and escaped spellings, and ignores values too short to be secrets")
    func redactor() {
        let redact = Redactor(secrets: ["tok\r\nen-1", "1", "abcd"])
        #expect(redact("a tok\r\nen-1 b abcd") == "a [redacted] b [redacted]")
        #expect(redact(String(describing: ["tok\r\nen-1"])) == #"["[redacted]"]"#)
        #expect(redact("HTTP 401") == "HTTP 401")
    }
}
