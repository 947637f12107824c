import Foundation
import StateLang

/// One call of a service method by a task state, as handed to an `ActionHandler`.
public struct Invocation: Sendable, Hashable, CustomReflectable {
    public var instanceID: InstanceID {
        get { fields.value.instanceID }
        _modify { yield &fields.value.instanceID }
    }
    public var stateName: String {
        get { fields.value.stateName }
        _modify { yield &fields.value.stateName }
    }
    public var serviceName: String {
        get { fields.value.serviceName }
        _modify { yield &fields.value.serviceName }
    }
    public var serviceMethod: String {
        get { fields.value.serviceMethod }
        _modify { yield &fields.value.serviceMethod }
    }
    public var serviceType: String? {
        get { fields.value.serviceType }
        _modify { yield &fields.value.serviceType }
    }
    /// The evaluated `Input`: one element → that element, several → an array, none → null.
    public var input: JSONValue {
        get { fields.value.input }
        _modify { yield &fields.value.input }
    }
    /// Stable for every attempt and recovery of one logical step; compensations have their own.
    public var idempotencyKey: String {
        get { fields.value.idempotencyKey }
        _modify { yield &fields.value.idempotencyKey }
    }
    /// 1 for the first call of this step, 2 for the first retry, ...
    public var attempt: Int {
        get { fields.value.attempt }
        _modify { yield &fields.value.attempt }
    }
    public var phase: StepPhase {
        get { fields.value.phase }
        _modify { yield &fields.value.phase }
    }
    /// Deadline for this call, in seconds (the state's `TimeoutSeconds`), if any.
    public var timeoutSeconds: Double? {
        get { fields.value.timeoutSeconds }
        _modify { yield &fields.value.timeoutSeconds }
    }
    public var isAsync: Bool {
        get { fields.value.isAsync }
        _modify { yield &fields.value.isAsync }
    }

    struct Fields: Sendable, Hashable {
        var instanceID: InstanceID
        var stateName: String
        var serviceName: String
        var serviceMethod: String
        var serviceType: String?
        var input: JSONValue
        var idempotencyKey: String
        var attempt: Int
        var phase: StepPhase
        var timeoutSeconds: Double?
        var isAsync: Bool
    }


    /// On the heap (`CopyOnWrite`): every frame that waits for a call holds the invocation.
    private var fields: CopyOnWrite<Fields>

    public init(instanceID: InstanceID, stateName: String, serviceName: String, serviceMethod: String,
                serviceType: String? = nil, input: JSONValue, idempotencyKey: String, attempt: Int,
                phase: StepPhase, timeoutSeconds: Double? = nil, isAsync: Bool = false) {
        fields = CopyOnWrite(Fields(instanceID: instanceID, stateName: stateName, serviceName: serviceName,
            serviceMethod: serviceMethod, serviceType: serviceType, input: input, idempotencyKey: idempotencyKey,
            attempt: attempt, phase: phase, timeoutSeconds: timeoutSeconds, isAsync: isAsync))
    }


    /// The fields, as if they were stored inline.
    public var customMirror: Mirror {
        Mirror(self, children: Mirror(reflecting: fields.value).children, displayStyle: .struct)
    }
}

/// A failed action: a name that workflows match (`Timeout`, `ActionError.OutOfStock`) and a
/// message for people.
public struct ActionFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var name: ErrorName
    public var message: String
    /// For a call that was not made because the service is known to be unable to take it yet
    /// (its circuit breaker is open): the earliest moment a call can go through. A retry of
    /// this failure waits at least until then instead of spending its attempt in the meantime.
    public var notBefore: Date?

    public init(_ name: ErrorName, _ message: String, notBefore: Date? = nil) {
        self.name = name
        self.message = message
        self.notBefore = notBefore
    }

    public var description: String { "\(name): \(message)" }
}

/// What an action returned.
public enum ActionOutcome: Sendable, Hashable {
    case success(JSONValue)
    case failure(ActionFailure)
}

/// Performs service calls. Implementations: local closures, exec, http (module `Actions`).
public protocol ActionHandler: Sendable {
    /// Calls the service. Never throws: every failure is an outcome with a name. Must return
    /// promptly when the task is cancelled (the engine cancels calls past their deadline).
    func invoke(_ invocation: Invocation, binding: ServiceBinding?) async -> ActionOutcome
}

/// In-process actions registered by an embedding program (service type `local`).
public final class LocalActions: ActionHandler, Sendable {
    public typealias Body = @Sendable (Invocation) async throws -> JSONValue
    /// An action that answers later: it starts the work, keeps the completion and returns at
    /// once. An instance started with `SagaEngine.start` waits for it without a task of its own.
    public typealias DeferredBody = @Sendable (Invocation, ActionCompletion) -> Void

    /// A registered action.
    enum Entry: Sendable {
        case body(Body)
        case deferred(DeferredBody)

        /// Calls the action in the calling task.
        func call(_ invocation: Invocation) async -> ActionOutcome {
            switch self {
            case .body(let body):
                do {
                    return .success(try await body(invocation))
                } catch {
                    return LocalActions.outcome(of: error)
                }
            case .deferred(let body):
                return await ActionCompletion.awaitOutcome(of: invocation, body)
            }
        }
    }

    private let table = Locked<(byMethod: [String: Entry], byService: [String: Entry])>(([:], [:]))

    public init() {}

    /// Registers `body` for `serviceName.method`, or for every method of the service when
    /// `method` is nil. A thrown `ActionFailure` keeps its name; anything else is
    /// `ActionError.<type name>`.
    public func register(service: String, method: String? = nil, _ body: @escaping Body) {
        add(.body(body), service: service, method: method)
    }

    /// Registers an action that answers through an `ActionCompletion` instead of returning:
    /// `body` starts the work and returns; whoever finishes it calls `succeed` or `fail` once.
    /// A `Timeout` or a cancelled caller completes it with a `Timeout` first.
    ///
    ///     engine.localActions.registerDeferred(service: "approval", method: "ask") { call, completion in
    ///         approvals.waitFor(call.idempotencyKey) { granted in
    ///             granted ? completion.succeed(["approved": true])
    ///                     : completion.fail(ActionFailure(ErrorName("Approval.Refused"), "refused"))
    ///         }
    ///     }
    public func registerDeferred(service: String, method: String? = nil, _ body: @escaping DeferredBody) {
        add(.deferred(body), service: service, method: method)
    }

    private func add(_ entry: Entry, service: String, method: String?) {
        table.withLock {
            if let method { $0.byMethod[service + "." + method] = entry } else { $0.byService[service] = entry }
        }
    }

    public func handles(service: String, method: String) -> Bool {
        table.withLock { $0.byMethod[service + "." + method] != nil || $0.byService[service] != nil }
    }

    public func invoke(_ invocation: Invocation, binding: ServiceBinding?) async -> ActionOutcome {
        // The lookup and the error mapping are out of line: what they build would otherwise
        // take room in this frame, which stays allocated while the body runs.
        guard let entry = entry(for: invocation) else { return Self.notRegistered(invocation) }
        return await entry.call(invocation)
    }

    @inline(never)
    func entry(for invocation: Invocation) -> Entry? {
        table.withLock {
            $0.byMethod[invocation.serviceName + "." + invocation.serviceMethod] ?? $0.byService[invocation.serviceName]
        }
    }

    @inline(never)
    static func notRegistered(_ invocation: Invocation) -> ActionOutcome {
        .failure(ActionFailure(
            ErrorName("ActionError.NotRegistered"),
            "no local action is registered for \(invocation.serviceName).\(invocation.serviceMethod)"))
    }

    /// A thrown `ActionFailure` keeps its name; a cancellation is a `Timeout`; anything else is
    /// `ActionError.<type name>`.
    @inline(never)
    static func outcome(of error: any Error) -> ActionOutcome {
        switch error {
        case let failure as ActionFailure: .failure(failure)
        case is CancellationError: .failure(ActionFailure(.timeout, "the call was cancelled"))
        default: .failure(ActionFailure(.action(String(describing: type(of: error))), String(describing: error)))
        }
    }
}
