import Foundation
import StateLang

/// One call of a service method by a task state, as handed to an `ActionHandler`.
public struct Invocation: Sendable, Hashable {
    public var instanceID: InstanceID
    public var stateName: String
    public var serviceName: String
    public var serviceMethod: String
    public var serviceType: String?
    /// The evaluated `Input`: one element → that element, several → an array, none → null.
    public var input: JSONValue
    /// Stable for every attempt and recovery of one logical step; compensations have their own.
    public var idempotencyKey: String
    /// 1 for the first call of this step, 2 for the first retry, ...
    public var attempt: Int
    public var phase: StepPhase
    /// Deadline for this call, in seconds (the state's `TimeoutSeconds`), if any.
    public var timeoutSeconds: Double?
    public var isAsync: Bool

    public init(instanceID: InstanceID, stateName: String, serviceName: String, serviceMethod: String,
                serviceType: String? = nil, input: JSONValue, idempotencyKey: String, attempt: Int,
                phase: StepPhase, timeoutSeconds: Double? = nil, isAsync: Bool = false) {
        self.instanceID = instanceID
        self.stateName = stateName
        self.serviceName = serviceName
        self.serviceMethod = serviceMethod
        self.serviceType = serviceType
        self.input = input
        self.idempotencyKey = idempotencyKey
        self.attempt = attempt
        self.phase = phase
        self.timeoutSeconds = timeoutSeconds
        self.isAsync = isAsync
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

    private let table = Locked<(byMethod: [String: Body], byService: [String: Body])>(([:], [:]))

    public init() {}

    /// Registers `body` for `serviceName.method`, or for every method of the service when
    /// `method` is nil. A thrown `ActionFailure` keeps its name; anything else is
    /// `ActionError.<type name>`.
    public func register(service: String, method: String? = nil, _ body: @escaping Body) {
        table.withLock {
            if let method { $0.byMethod[service + "." + method] = body } else { $0.byService[service] = body }
        }
    }

    public func handles(service: String, method: String) -> Bool {
        table.withLock { $0.byMethod[service + "." + method] != nil || $0.byService[service] != nil }
    }

    public func invoke(_ invocation: Invocation, binding: ServiceBinding?) async -> ActionOutcome {
        let body = table.withLock {
            $0.byMethod[invocation.serviceName + "." + invocation.serviceMethod] ?? $0.byService[invocation.serviceName]
        }
        guard let body else {
            return .failure(ActionFailure(
                ErrorName("ActionError.NotRegistered"),
                "no local action is registered for \(invocation.serviceName).\(invocation.serviceMethod)"))
        }
        do {
            return .success(try await body(invocation))
        } catch let failure as ActionFailure {
            return .failure(failure)
        } catch is CancellationError {
            return .failure(ActionFailure(.timeout, "the call was cancelled"))
        } catch {
            return .failure(ActionFailure(.action(String(describing: type(of: error))), String(describing: error)))
        }
    }
}
