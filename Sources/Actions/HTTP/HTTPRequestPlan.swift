import Foundation
import Interpreter
import StateLang

/// One HTTP call worked out from an invocation and its binding, before anything is sent: the
/// expanded URL, the headers, the body and the deadline. Building it checks the binding; a
/// problem is a `PlanError` that names the field or header, never a header's value.
struct HTTPRequestPlan: Sendable {
    /// `{URL}/{ServiceMethod}`, expanded.
    var url: String
    /// The URL without user information, query or fragment, for messages.
    var displayURL: String
    var headers: [(name: String, value: String)]
    var body: String
    /// Seconds until the call's deadline.
    var timeoutSeconds: Double
    var redactor: Redactor

    /// Headers sagactl sets itself; a binding cannot override them.
    static let reservedHeaders: Set<String> = ["idempotency-key", "saga-instance", "saga-state"]

    struct PlanError: Error, Sendable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    init(invocation: Invocation, binding: ServiceBinding, defaultTimeoutSeconds: Double,
         environment: (String) -> String?) throws(PlanError) {
        let service = binding.name.isEmpty ? invocation.serviceName : binding.name
        guard let written = binding.url, !written.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw PlanError(message: "service '\(service)' has Type: http but no URL")
        }
        let base: String
        do {
            base = try EnvironmentTemplate(parsing: written).expand(environment).value
        } catch {
            throw PlanError(message: "the URL of service '\(service)': \(error)")
        }
        guard var components = URLComponents(string: base.trimmingCharacters(in: .whitespaces)),
            let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty
        else {
            throw PlanError(message: "the URL of service '\(service)' is not an http:// or https:// URL with a host"
                            + (written == base ? "" : " after expanding environment variables"))
        }
        let method = invocation.serviceMethod.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)
            ?? invocation.serviceMethod
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        components.percentEncodedPath = path + "/" + method
        guard let url = components.string else {
            throw PlanError(message: "the URL of service '\(service)' cannot be joined with method '\(invocation.serviceMethod)'")
        }
        var display = components
        display.user = nil
        display.password = nil
        display.query = nil
        display.fragment = nil
        self.url = url
        self.displayURL = display.string ?? "\(scheme)://\(host)"

        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        var secrets: [String] = []
        for name in binding.headers.keys.sorted() {
            let written = binding.headers[name] ?? ""
            guard Self.isToken(name) else {
                throw PlanError(message: "service '\(service)' has a header named '\(name)', which is not a valid header name")
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                throw PlanError(message: "header '\(name)' of service '\(service)' is set by sagactl; remove it from Headers")
            }
            let expansion: EnvironmentTemplate.Expansion
            do {
                expansion = try EnvironmentTemplate(parsing: written).expand(environment)
            } catch {
                throw PlanError(message: "header '\(name)' of service '\(service)': \(error)")
            }
            secrets += expansion.environmentValues
            // Scalars, not Characters: "\r\n" is one Character.
            guard !expansion.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw PlanError(message: "header '\(name)' of service '\(service)' has a line break or NUL in its value"
                                + (expansion.environmentValues.isEmpty ? "" : " after expanding environment variables"))
            }
            if name.lowercased() == "content-type" { headers.removeAll { $0.name == "Content-Type" } }
            headers.append((name, expansion.value))
        }
        headers.append(("Idempotency-Key", invocation.idempotencyKey))
        headers.append(("Saga-Instance", invocation.instanceID))
        headers.append(("Saga-State", invocation.stateName))
        self.headers = headers
        self.redactor = Redactor(secrets: secrets)
        self.body = invocation.input.jsonString()
        self.timeoutSeconds = Self.timeout(binding: binding.timeoutSeconds, state: invocation.timeoutSeconds,
                                           fallback: defaultTimeoutSeconds)
    }

    /// The smaller of the binding's and the state's deadlines; `fallback` when neither is set.
    static func timeout(binding: Double?, state: Double?, fallback: Double) -> Double {
        let given = [binding, state].compactMap { $0 }.filter { $0 > 0 }
        return given.min() ?? fallback
    }

    /// RFC 9110 token characters.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar))
        }
    }
}

/// Removes secret values (what environment variables put into headers) from text meant for
/// people: failure messages quote response bodies, and a server may echo a token back.
struct Redactor: Sendable {
    /// Values shorter than this are not treated as secrets: replacing every "1" of a message
    /// because `X-Tenant: ${TENANT}` expanded to "1" would garble it and protect nothing.
    static let minimumSecretLength = 4
    let secrets: [String]

    init(secrets: [String]) {
        let long = secrets.filter { $0.count >= Self.minimumSecretLength }
        // Also the escaped spelling, as it appears when an error describes a list of strings.
        let escaped = long.map { String($0.debugDescription.dropFirst().dropLast()) }
        self.secrets = Array(Set(long + escaped)).sorted { $0.count > $1.count }
    }

    /// `value` with the secrets removed from its strings and keys: a reply that echoes a
    /// token must not put it into the instance's context and history.
    func callAsFunction(_ value: JSONValue) -> JSONValue {
        if secrets.isEmpty { return value }
        switch value {
        case .string(let text): return .string(self(text))
        case .array(let items): return .array(items.map { self($0) })
        case .object(let fields):
            return .object(Dictionary(fields.map { (self($0.key), self($0.value)) }, uniquingKeysWith: { first, _ in first }))
        case .null, .bool, .int, .double: return value
        }
    }

    func callAsFunction(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return text
    }
}
