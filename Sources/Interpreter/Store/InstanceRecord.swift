import Foundation
import StateLang

/// An instance's identifier: time-ordered, URL-safe text (see `InstanceID.generate()`).
public typealias InstanceID = String

/// A per-state execution status, as in Seata: running, succeeded, failed, unknown, skipped.
public enum ExecutionStatus: String, Sendable, Codable, Hashable, CaseIterable {
    case running = "RU"
    case succeeded = "SU"
    case failed = "FA"
    case unknown = "UN"
    case skipped = "SK"
}

/// The status of an instance as shown to users (DESIGN §4). Stored alongside Seata's two fields
/// (status, compensation status) so that list filters are one indexed column.
public enum InstanceStatus: String, Sendable, Codable, Hashable, CaseIterable {
    /// Created by `start`, not yet picked up by a worker; or being executed.
    case running
    case succeeded
    /// Failed with nothing left to undo.
    case failed
    case compensating
    case compensated
    /// An update's outcome is uncertain (Seata's UN); `recover` applies the RecoverStrategy.
    case unknown
    /// A compensation could not be completed; a person must act (`compensate` or `skip`).
    case needsIntervention = "needs-intervention"

    public var isTerminal: Bool {
        switch self {
        case .running, .compensating: false
        case .succeeded, .failed, .compensated, .unknown, .needsIntervention: true
        }
    }
}

/// Which way a step ran.
public enum StepPhase: String, Sendable, Codable, Hashable {
    case forward
    case compensation
}

/// A failure as recorded: its name (matched by Retry/Catch) and a message for people.
///
/// A NUL character (U+0000, e.g. from a service's binary standard error) becomes U+FFFD in
/// every field: PostgreSQL's `text` cannot hold it, and a failure must read back the same from
/// every store.
public struct FailureRecord: Sendable, Codable, Hashable {
    public var name: String { didSet { name = Self.storable(name) } }
    public var message: String { didSet { message = Self.storable(message) } }
    /// The state where it happened, when there is one.
    public var state: String? { didSet { state = state.map(Self.storable) } }

    public init(name: String, message: String, state: String? = nil) {
        self.name = Self.storable(name)
        self.message = Self.storable(message)
        self.state = state.map(Self.storable)
    }

    /// `text` with each U+0000 replaced by U+FFFD.
    public static func storable(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }
}

/// Who holds an instance: one executor process. `host` and `pid` let `recover` see at once
/// that an owner on this host has died; `nonce` tells apart two runs with the same pid.
public struct LeaseOwner: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let pid: Int32
    public let nonce: String

    public init(host: String, pid: Int32, nonce: String) {
        self.host = host
        self.pid = pid
        self.nonce = nonce
        self.description = "\(host)/\(pid)/\(nonce)"
    }

    /// The owner for this process (one per process run).
    public static let current = LeaseOwner(
        host: ProcessInfo.processInfo.hostName,
        pid: ProcessInfo.processInfo.processIdentifier,
        nonce: String(UInt64.random(in: 0...UInt64.max), radix: 36))

    /// `host/pid/nonce`, the form stored in the database (kept, as it is written with every
    /// transition).
    public let description: String

    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let pid = Int32(parts[1]) else { return nil }
        self.init(host: String(parts[0]), pid: pid, nonce: String(parts[2]))
    }
}

/// One instance row. Its fields live in one copy-on-write heap object (`CopyOnWrite`): inline,
/// its 321 bytes made the async frames that hold one too big.
public struct InstanceRecord: Sendable, Hashable, CustomReflectable {
    public var id: InstanceID {
        get { fields.value.id }
        _modify { yield &fields.value.id }
    }
    /// Fingerprint of the definition the instance runs (pinned for its whole life).
    public var definitionFingerprint: String {
        get { fields.value.definitionFingerprint }
        _modify { yield &fields.value.definitionFingerprint }
    }
    public var workflowName: String {
        get { fields.value.workflowName }
        _modify { yield &fields.value.workflowName }
    }
    public var businessKey: String? {
        get { fields.value.businessKey }
        _modify { yield &fields.value.businessKey }
    }
    /// For a child of a SubStateMachine state: the parent instance and the parent's step seq.
    public var parentID: InstanceID? {
        get { fields.value.parentID }
        _modify { yield &fields.value.parentID }
    }
    public var parentStepSeq: Int? {
        get { fields.value.parentStepSeq }
        _modify { yield &fields.value.parentStepSeq }
    }
    public var status: InstanceStatus {
        get { fields.value.status }
        _modify { yield &fields.value.status }
    }
    /// Seata's forward status (`SU`/`FA`/`UN`/`RU`).
    public var forwardStatus: ExecutionStatus {
        get { fields.value.forwardStatus }
        _modify { yield &fields.value.forwardStatus }
    }
    /// Seata's compensation status; nil until compensation starts.
    public var compensationStatus: ExecutionStatus? {
        get { fields.value.compensationStatus }
        _modify { yield &fields.value.compensationStatus }
    }
    /// The start parameters.
    public var input: JSONValue {
        get { fields.value.input }
        _modify { yield &fields.value.input }
    }
    /// The current context (start parameters merged with every Output so far).
    public var context: JSONValue {
        get { fields.value.context }
        _modify { yield &fields.value.context }
    }
    /// The engine's position, opaque to stores (JSON written by the engine).
    public var cursor: String {
        get { fields.value.cursor }
        _modify { yield &fields.value.cursor }
    }
    public var failure: FailureRecord? {
        get { fields.value.failure }
        _modify { yield &fields.value.failure }
    }
    public var leaseOwner: LeaseOwner? {
        get { fields.value.leaseOwner }
        _modify { yield &fields.value.leaseOwner }
    }
    public var leaseExpiresAt: Date? {
        get { fields.value.leaseExpiresAt }
        _modify { yield &fields.value.leaseExpiresAt }
    }
    /// When the instance next needs attention (a retry backoff ending); nil when none.
    public var wakeAt: Date? {
        get { fields.value.wakeAt }
        _modify { yield &fields.value.wakeAt }
    }
    public var createdAt: Date {
        get { fields.value.createdAt }
        _modify { yield &fields.value.createdAt }
    }
    public var updatedAt: Date {
        get { fields.value.updatedAt }
        _modify { yield &fields.value.updatedAt }
    }
    public var endedAt: Date? {
        get { fields.value.endedAt }
        _modify { yield &fields.value.endedAt }
    }

    struct Fields: Sendable, Hashable {
        var id: InstanceID
        var definitionFingerprint: String
        var workflowName: String
        var businessKey: String?
        var parentID: InstanceID?
        var parentStepSeq: Int?
        var status: InstanceStatus
        var forwardStatus: ExecutionStatus
        var compensationStatus: ExecutionStatus?
        var input: JSONValue
        var context: JSONValue
        var cursor: String
        var failure: FailureRecord?
        var leaseOwner: LeaseOwner?
        var leaseExpiresAt: Date?
        var wakeAt: Date?
        var createdAt: Date
        var updatedAt: Date
        var endedAt: Date?
    }


    private var fields: CopyOnWrite<Fields>

    public init(
        id: InstanceID, definitionFingerprint: String, workflowName: String, businessKey: String? = nil,
        parentID: InstanceID? = nil, parentStepSeq: Int? = nil, status: InstanceStatus = .running,
        forwardStatus: ExecutionStatus = .running, compensationStatus: ExecutionStatus? = nil,
        input: JSONValue, context: JSONValue, cursor: String, failure: FailureRecord? = nil,
        leaseOwner: LeaseOwner? = nil, leaseExpiresAt: Date? = nil, wakeAt: Date? = nil,
        createdAt: Date, updatedAt: Date, endedAt: Date? = nil
    ) {
        fields = CopyOnWrite(Fields(id: id, definitionFingerprint: definitionFingerprint, workflowName: workflowName,
            businessKey: businessKey, parentID: parentID, parentStepSeq: parentStepSeq, status: status,
            forwardStatus: forwardStatus, compensationStatus: compensationStatus, input: input, context: context,
            cursor: cursor, failure: failure, leaseOwner: leaseOwner, leaseExpiresAt: leaseExpiresAt, wakeAt: wakeAt,
            createdAt: createdAt, updatedAt: updatedAt, endedAt: endedAt))
    }


    /// The fields, as if they were stored inline (for `print`, `dump` and test messages).
    public var customMirror: Mirror {
        Mirror(self, children: Mirror(reflecting: fields.value).children, displayStyle: .struct)
    }
}

/// One row per execution attempt of a task state (forward or compensation).
public struct StepRecord: Sendable, Hashable {
    public var instanceID: InstanceID
    /// 1, 2, 3… in the order the rows were created within the instance.
    public var seq: Int
    public var stateName: String
    public var phase: StepPhase
    /// For a compensation row: the seq of the forward step it undoes.
    public var compensatedSeq: Int?
    /// For a row re-running an earlier one (retry attempt or forward recovery): that row's seq.
    public var retriedSeq: Int?
    /// 1 for the first call, 2 for the first retry, ...
    public var attempt: Int
    public var status: ExecutionStatus
    public var isForUpdate: Bool
    public var input: JSONValue
    public var output: JSONValue?
    public var failure: FailureRecord?
    /// The same for every attempt and recovery of one logical step; compensations have their own.
    public var idempotencyKey: String
    /// A child instance started by this step (SubStateMachine / CompensateSubMachine).
    public var childInstanceID: InstanceID?
    public var startedAt: Date
    public var endedAt: Date?
    /// When the next attempt is due, if this attempt failed and will be retried.
    public var retryAt: Date?
    /// The executor that created the row (held the instance's lease then); nil for rows
    /// written before the store kept it. The history says from it which process ran each step.
    public var executor: LeaseOwner?

    public init(
        instanceID: InstanceID, seq: Int, stateName: String, phase: StepPhase, compensatedSeq: Int? = nil,
        retriedSeq: Int? = nil, attempt: Int = 1, status: ExecutionStatus = .running, isForUpdate: Bool = false,
        input: JSONValue = .null, output: JSONValue? = nil, failure: FailureRecord? = nil,
        idempotencyKey: String, childInstanceID: InstanceID? = nil, startedAt: Date, endedAt: Date? = nil,
        retryAt: Date? = nil, executor: LeaseOwner? = nil
    ) {
        self.instanceID = instanceID
        self.seq = seq
        self.stateName = stateName
        self.phase = phase
        self.compensatedSeq = compensatedSeq
        self.retriedSeq = retriedSeq
        self.attempt = attempt
        self.status = status
        self.isForUpdate = isForUpdate
        self.input = input
        self.output = output
        self.failure = failure
        self.idempotencyKey = idempotencyKey
        self.childInstanceID = childInstanceID
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.retryAt = retryAt
        self.executor = executor
    }
}

/// A workflow definition as stored: the source text, keyed by its content fingerprint.
public struct StoredDefinition: Sendable, Hashable {
    public var fingerprint: String
    public var name: String
    /// The path it was loaded from, for messages only.
    public var path: String
    public var source: String
    public var createdAt: Date

    public init(fingerprint: String, name: String, path: String, source: String, createdAt: Date) {
        self.fingerprint = fingerprint
        self.name = name
        self.path = path
        self.source = source
        self.createdAt = createdAt
    }
}
