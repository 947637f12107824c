import Foundation
import StateLang

/// Where an outbox message stands.
public enum OutboxStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting to be delivered (again, after `nextAttemptAt`).
    case pending
    case delivered
    /// Every attempt failed; `sagactl outbox retry ID` puts it back to pending.
    case failed
}

/// A call of an `IsAsync: true` state, written in the same transaction as the checkpoint that
/// reaches the state (DESIGN §6) and delivered at least once by a dispatcher, with the step's
/// idempotency key, retried with backoff, then `failed`.
public struct OutboxMessage: Sendable, Hashable {
    /// The step's idempotency key: one message per logical step.
    public var id: String
    public var instanceID: InstanceID
    public var stepSeq: Int
    /// The instance's definition, to find the service binding at delivery.
    public var definitionFingerprint: String
    public var stateName: String
    public var serviceName: String
    public var serviceMethod: String
    public var serviceType: String?
    public var input: JSONValue
    public var status: OutboxStatus
    /// Deliveries tried so far.
    public var attempts: Int
    public var maxAttempts: Int
    public var nextAttemptAt: Date
    public var lastError: FailureRecord?
    public var createdAt: Date
    public var deliveredAt: Date?
    /// The dispatcher delivering it now, so two never send it at once.
    public var leaseOwner: LeaseOwner?
    public var leaseExpiresAt: Date?

    public init(id: String, instanceID: InstanceID, stepSeq: Int, definitionFingerprint: String, stateName: String,
                serviceName: String, serviceMethod: String, serviceType: String? = nil, input: JSONValue,
                status: OutboxStatus = .pending, attempts: Int = 0, maxAttempts: Int = 3, nextAttemptAt: Date,
                lastError: FailureRecord? = nil, createdAt: Date, deliveredAt: Date? = nil,
                leaseOwner: LeaseOwner? = nil, leaseExpiresAt: Date? = nil) {
        self.id = id
        self.instanceID = instanceID
        self.stepSeq = stepSeq
        self.definitionFingerprint = definitionFingerprint
        self.stateName = stateName
        self.serviceName = serviceName
        self.serviceMethod = serviceMethod
        self.serviceType = serviceType
        self.input = input
        self.status = status
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
    }

    /// The call to make for this message.
    public var invocation: Invocation {
        Invocation(instanceID: instanceID, stateName: stateName, serviceName: serviceName, serviceMethod: serviceMethod,
                   serviceType: serviceType, input: input, idempotencyKey: id, attempt: attempts + 1, phase: .forward,
                   isAsync: true)
    }
}
