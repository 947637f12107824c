import Testing
@testable import Actions

@Suite("${VAR} expansion in URLs and headers")
struct EnvironmentTemplateTests {
    let env: [String: String] = ["HOST": "10.0.0.5", "TOKEN": "abc123", "EMPTY": "", "PORT": "8081"]

    func expand(_ text: String) throws -> EnvironmentTemplate.Expansion {
        try EnvironmentTemplate(parsing: text).expand { env[$0] }
    }

    func error(_ text: String) -> EnvironmentTemplateError? {
        do {
            _ = try expand(text)
            return nil
        } catch let error as EnvironmentTemplateError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("Plain text is unchanged and has no references")
    func plain() throws {
        let template = try EnvironmentTemplate(parsing: "http://127.0.0.1:8081/api")
        #expect(!template.hasReferences)
        #expect(try template.expand { _ in nil } == .init(value: "http://127.0.0.1:8081/api", environmentValues: []))
    }

    @Test("${NAME} is replaced by the variable and reported as coming from the environment")
    func variable() throws {
        #expect(try expand("Bearer ${TOKEN}") == .init(value: "Bearer abc123", environmentValues: ["abc123"]))
        #expect(try expand("http://${HOST}:${PORT}/x").value == "http://10.0.0.5:8081/x")
    }

    @Test("${NAME:-default} uses the default when the variable is unset or empty, and the value when set")
    func defaults() throws {
        #expect(try expand("${MISSING:-http://127.0.0.1:8081}") == .init(value: "http://127.0.0.1:8081", environmentValues: []))
        #expect(try expand("${EMPTY:-fallback}").value == "fallback")
        #expect(try expand("${HOST:-127.0.0.1}") == .init(value: "10.0.0.5", environmentValues: ["10.0.0.5"]))
        #expect(try expand("${MISSING:-}").value == "")
        // A default may itself refer to variables.
        #expect(try expand("${MISSING:-${HOST}:${PORT}}") == .init(value: "10.0.0.5:8081", environmentValues: ["10.0.0.5", "8081"]))
        #expect(try expand("${MISSING:-${ALSO_MISSING:-x}y}").value == "xy")
    }

    @Test("$$ is a literal dollar; a $ not followed by { is literal")
    func dollars() throws {
        #expect(try expand("price $$5 and $${HOST}").value == "price $5 and ${HOST}")
        #expect(try expand("cost $5, end $").value == "cost $5, end $")
    }

    @Test("A set but empty ${NAME} is empty, not an error")
    func setButEmpty() throws {
        #expect(try expand("a${EMPTY}b").value == "ab")
    }

    @Test("Errors say what is wrong and where, 1-based, and never print values",
          arguments: [
              ("${HOST", EnvironmentTemplateError(.unterminated, column: 1)),
              ("http://${HOST:-x", EnvironmentTemplateError(.unterminated, column: 8)),
              ("ab${", EnvironmentTemplateError(.unterminated, column: 3)),
              ("${MISSING:-${HOST}", EnvironmentTemplateError(.unterminated, column: 1)),
              ("x${}", EnvironmentTemplateError(.emptyName, column: 2)),
              ("${ HOST}", EnvironmentTemplateError(.invalidName(" "), column: 3)),
              ("${9LIVES}", EnvironmentTemplateError(.invalidName("9LIVES"), column: 3)),
              ("${HOST-x}", EnvironmentTemplateError(.unexpectedCharacter("-", after: "HOST"), column: 7)),
              ("${HOST:x}", EnvironmentTemplateError(.unexpectedCharacter(":", after: "HOST"), column: 7)),
              ("Bearer ${SECRET_TOKEN}", EnvironmentTemplateError(.unsetVariable("SECRET_TOKEN"), column: 8)),
          ])
    func errors(text: String, expected: EnvironmentTemplateError) {
        #expect(error(text) == expected)
    }

    @Test("Messages name the problem precisely")
    func messages() {
        #expect(error("http://${HOST:-x")?.description == "'${' at column 8 is not closed; add '}' after the variable name")
        #expect(error("${TOKEN_X}")?.description
                == "environment variable TOKEN_X (column 1) is not set; set it, or write ${TOKEN_X:-default}")
        #expect(error("${HOST-x}")?.description == "'-' at column 7 after '${HOST': expected '}' or ':-default}'")
    }

    @Test("The environment is read at expansion time, not when parsing")
    func lateLookup() throws {
        let template = try EnvironmentTemplate(parsing: "${X:-none}")
        #expect(try template.expand { _ in nil }.value == "none")
        #expect(try template.expand { $0 == "X" ? "now" : nil }.value == "now")
    }
}
