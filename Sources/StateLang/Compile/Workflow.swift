/// The index of a state in a compiled workflow.
public typealias StateID = Int

/// A compiled workflow: names resolved to indices, defaults filled, expressions parsed, edges
/// typed. Immutable and `Sendable`; every state still points at its source range so runtime
/// messages can name the line.
public struct Workflow: Sendable {
    public let name: String
    public let version: String?
    /// A stable hash of the definition's content (SHA-256 of its canonical form, hex).
    public let fingerprint: String
    public let path: String
    public let startState: StateID
    public let states: [CompiledState]
    public let edges: [Edge]
    public let recoverStrategy: RecoverStrategy
    /// Service bindings from the file (a `--services` file is merged over these by the caller).
    public let services: [String: ServiceBinding]
    private let index: [String: StateID]

    init(name: String, version: String?, fingerprint: String, path: String, startState: StateID,
         states: [CompiledState], edges: [Edge], recoverStrategy: RecoverStrategy,
         services: [String: ServiceBinding]) {
        self.name = name
        self.version = version
        self.fingerprint = fingerprint
        self.path = path
        self.startState = startState
        self.states = states
        self.edges = edges
        self.recoverStrategy = recoverStrategy
        self.services = services
        var index: [String: StateID] = [:]
        for state in states { index[state.name] = state.id }
        self.index = index
    }

    public subscript(id: StateID) -> CompiledState { states[id] }

    public func state(named name: String) -> CompiledState? { index[name].map { states[$0] } }
}

/// One compiled state.
public struct CompiledState: Sendable {
    public let id: StateID
    public let name: String
    public let kind: StateKind
    /// The `Next` state (ignored on a Choice, whose branches decide).
    public let next: StateID?
    /// Named by some `CompensateState`, or marked `IsForCompensation`.
    public let isForCompensation: Bool
    public let range: SourceRange

    public var type: StateType { kind.type }

    /// The task properties, for the four task types.
    public var task: TaskSpec? {
        switch kind {
        case .serviceTask(let s): s.task
        case .scriptTask(let s): s.task
        case .subStateMachine(let s): s.task
        case .compensateSubMachine(let t): t
        case .choice, .succeed, .fail, .compensationTrigger: nil
        }
    }
}

/// What a state does, by type. An exhaustive switch over this enum is how the engine and the
/// renderers handle every kind.
public enum StateKind: Sendable {
    case serviceTask(ServiceTaskSpec)
    case scriptTask(ScriptTaskSpec)
    case subStateMachine(SubMachineSpec)
    case compensateSubMachine(TaskSpec)
    case choice(ChoiceSpec)
    case succeed
    case fail(FailSpec)
    case compensationTrigger

    public var type: StateType {
        switch self {
        case .serviceTask: .serviceTask
        case .scriptTask: .scriptTask
        case .subStateMachine: .subStateMachine
        case .compensateSubMachine: .compensateSubMachine
        case .choice: .choice
        case .succeed: .succeed
        case .fail: .fail
        case .compensationTrigger: .compensationTrigger
        }
    }
}

/// Properties shared by the task states.
public struct TaskSpec: Sendable {
    /// One template per argument (Seata's positional `Input`).
    public var input: [ValueTemplate]
    /// Evaluated against the result and merged into the context, in file order.
    public var output: [OutputMapping]
    /// Tried in file order; the first true condition gives the state's status.
    public var status: [StatusRule]
    public var retry: [RetryPolicy]
    public var catches: [CatchRoute]
    public var compensateState: StateID?
    /// `IsForUpdate`, or implied by `CompensateState`.
    public var isForUpdate: Bool
    public var isPersist: Bool
    /// Deadline for one call, in seconds; nil = no deadline beyond the action's own.
    public var timeoutSeconds: Double?
}

public struct ServiceTaskSpec: Sendable {
    public var task: TaskSpec
    public var serviceName: String
    public var serviceMethod: String
    public var serviceType: String?
    public var isAsync: Bool
}

public struct ScriptTaskSpec: Sendable {
    public var task: TaskSpec
    /// The script, parsed as an expression (`ScriptType: expression`); nil when another
    /// script type was given (the validator reports it).
    public var script: Expr?
    public var scriptType: String
}

public struct SubMachineSpec: Sendable {
    public var task: TaskSpec
    public var machineName: String
}

public struct ChoiceSpec: Sendable {
    public var branches: [ChoiceBranch]
    public var defaultNext: StateID?
}

public struct ChoiceBranch: Sendable {
    public var condition: Condition
    /// The condition as written, for graphs and messages.
    public var text: String
    public var next: StateID
    /// Where the expression starts in the file (for runtime messages).
    public var range: SourceRange
}

public struct FailSpec: Sendable {
    public var errorCode: String?
    public var message: String?
}

public struct OutputMapping: Sendable {
    public var key: String
    public var value: ValueTemplate
}

public struct StatusRule: Sendable {
    public var condition: Condition
    public var text: String
    public var status: StatusCode
    public var range: SourceRange
}

public struct CatchRoute: Sendable {
    /// Error patterns as written (`java.lang.Exception`, `Timeout`); see `ErrorName.matches`.
    public var exceptions: [String]
    public var next: StateID
    public var range: SourceRange

    public func matches(_ error: ErrorName) -> Bool { exceptions.contains { error.matches($0) } }
}

/// A JSON template whose string leaves may be expressions (`$.[orderId]`).
public indirect enum ValueTemplate: Sendable {
    case literal(JSONValue)
    case expression(LeafExpression, text: String, range: SourceRange)
    case array([ValueTemplate])
    case object([(key: String, value: ValueTemplate)])
}

/// A typed edge of the graph, for rendering and analysis.
public struct Edge: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case next
        case choice(String)
        case defaultChoice
        case `catch`([String])
        case compensate
    }

    public var from: StateID
    public var to: StateID
    public var kind: Kind
}

/// How a service is reached (DESIGN §3.5).
public struct ServiceBinding: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case http
        case exec
        case local
    }

    public var name: String
    public var kind: Kind
    public var url: String?
    public var command: [String]?
    public var timeoutSeconds: Double?
    public var headers: [String: String]
    public var circuitBreaker: CircuitBreakerPolicy?

    public init(name: String, kind: Kind, url: String? = nil, command: [String]? = nil,
                timeoutSeconds: Double? = nil, headers: [String: String] = [:],
                circuitBreaker: CircuitBreakerPolicy? = nil) {
        self.name = name
        self.kind = kind
        self.url = url
        self.command = command
        self.timeoutSeconds = timeoutSeconds
        self.headers = headers
        self.circuitBreaker = circuitBreaker
    }
}

/// `CircuitBreaker: { FailureThreshold: 5, OpenSeconds: 30 }`: that many consecutive failures
/// (network errors, timeouts, 5xx) open the circuit for `openSeconds`.
public struct CircuitBreakerPolicy: Sendable, Hashable {
    public var failureThreshold: Int
    public var openSeconds: Double

    public init(failureThreshold: Int, openSeconds: Double) {
        self.failureThreshold = failureThreshold
        self.openSeconds = openSeconds
    }
}
