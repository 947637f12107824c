import Foundation

/// SL0408: a `Services` entry sagactl can use: `Type` is http, exec or local; http has a
/// non-empty `URL`; exec has a non-empty `Command` whose program is named; a `CircuitBreaker`
/// has a threshold of at least 1 and a positive open time.
public struct ServiceBindingRule: ValidationRule {
    public init() {}

    public static let types = ["http", "exec", "local"]

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        Self.check(workflow.services, into: &bag)
    }

    /// The same checks for bindings that come from elsewhere (a `--services` file).
    public static func check(_ bindings: [ServiceBindingSyntax], into bag: inout DiagnosticBag) {
        for binding in bindings { check(binding, into: &bag) }
    }

    private static func check(_ binding: ServiceBindingSyntax, into bag: inout DiagnosticBag) {
        let name = binding.name.value
        guard let type = binding.type else {
            // A `Type` of the wrong type was reported while lowering.
            if !binding.hasKey("Type") {
                bag.add(.invalidServiceBinding, "service '\(name)' has no 'Type'", at: binding.name.range,
                        hint: "add `Type:` with one of: " + ServiceBindingRule.types.joined(separator: ", "))
            }
            return
        }
        switch type.value {
        case "http":
            if let url = binding.url {
                if url.value.trimmingCharacters(in: .whitespaces).isEmpty {
                    bag.add(.invalidServiceBinding, "the 'URL' of service '\(name)' is empty", at: url.range,
                            hint: "give the base URL; sagactl posts to {URL}/{ServiceMethod}")
                }
            } else if !binding.hasKey("URL") {
                bag.add(.invalidServiceBinding, "http service '\(name)' has no 'URL'", at: type.range,
                        hint: "add `URL: \"http://127.0.0.1:8080\"`; sagactl posts to {URL}/{ServiceMethod}")
            }
        case "exec":
            if let command = binding.command {
                if command.value.first.map({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? true {
                    bag.add(.invalidServiceBinding, "the 'Command' of service '\(name)' names no program", at: command.range,
                            hint: "write the program and its arguments as a list: `Command: [\"./bin/tool\", \"--flag\"]`")
                }
            } else if !binding.hasKey("Command") {
                bag.add(.invalidServiceBinding, "exec service '\(name)' has no 'Command'", at: type.range,
                        hint: "add `Command: [\"./bin/tool\"]`; sagactl appends the ServiceMethod as the last argument")
            }
        case "local":
            break
        default:
            bag.add(.invalidServiceBinding,
                    "'\(type.value)' is not a service type" + Suggestion.didYouMean(type.value, in: ServiceBindingRule.types),
                    at: type.range, hint: "use http, exec or local")
        }
        if let breaker = binding.circuitBreaker {
            if let threshold = breaker.failureThreshold, threshold.value < 1 {
                bag.add(.invalidServiceBinding,
                        "'FailureThreshold' of service '\(name)' is \(threshold.value); the breaker opens after at least 1 failure",
                        at: threshold.range, hint: "use the number of consecutive failures that opens the breaker, 1 or more")
            }
            if let open = breaker.openSeconds, open.value <= 0 {
                bag.add(.invalidServiceBinding,
                        "'OpenSeconds' of service '\(name)' must be positive", at: open.range,
                        hint: "give how long the breaker stays open, in seconds")
            }
        }
    }
}

extension ServiceBindingSyntax {
    /// Whether `key` is written in the binding, even with a value lowering rejected.
    func hasKey(_ key: String) -> Bool { keys.contains { $0.value == key } }
}
