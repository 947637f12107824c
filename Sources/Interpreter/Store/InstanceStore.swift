import Foundation
import StateLang

/// One atomic change to one instance: the new instance row and the step rows written with it.
/// The engine makes one per transition ("persist, then act"); stores apply it in one
/// transaction, and may commit the transitions of many instances together (group commit).
///
/// Its fields live in one copy-on-write heap object (`CopyOnWrite`): every async function that
/// awaits a store holds a transition in its frame (inline, ~1 KB more each).
public struct Transition: Sendable {
    private struct Fields: Sendable {
        var instance: InstanceRecord
        var steps: [StepRecord]
        var outbox: [OutboxMessage]
        var company: CommitCompany
    }

    private var fields: CopyOnWrite<Fields>

    public init(instance: InstanceRecord, steps: [StepRecord] = [], outbox: [OutboxMessage] = [],
                company: CommitCompany = .expected) {
        fields = CopyOnWrite(Fields(instance: instance, steps: steps, outbox: outbox, company: company))
    }

    /// The instance row after the transition. Its `leaseOwner` must still be the holder.
    public var instance: InstanceRecord {
        get { fields.value.instance }
        _modify { yield &fields.value.instance }
    }

    /// Step rows to insert, or to replace when a row with the same (instance, seq) exists.
    public var steps: [StepRecord] {
        get { fields.value.steps }
        _modify { yield &fields.value.steps }
    }

    /// Outbox messages written with the checkpoint (inserted once: a message whose id exists
    /// is left as it is).
    public var outbox: [OutboxMessage] {
        get { fields.value.outbox }
        _modify { yield &fields.value.outbox }
    }

    /// Not stored: whether the caller expects company in the commit. `.alone` says this
    /// process drives no other instance now, so no batch will form; a store that groups
    /// commits may then write the transition at once on the caller's thread.
    public var company: CommitCompany {
        get { fields.value.company }
        _modify { yield &fields.value.company }
    }
}

/// Whether other transitions are likely to share a transition's commit (see `Transition.company`).
public enum CommitCompany: Sendable {
    /// Others may be submitted at about the same time: gather them into one commit.
    case expected
    /// The submitting process drives no other instance; nobody will share the commit.
    case alone
}

/// What `createInstance` did.
public enum CreateOutcome: Sendable, Equatable {
    case created
    /// An instance with the same business key exists; nothing was written. (Boxed: an inline
    /// record would enlarge every async frame that awaits a creation by ~400 bytes.)
    indirect case existing(InstanceRecord)
}

/// Filters for `listInstances`.
public struct InstanceQuery: Sendable {
    public var status: InstanceStatus?
    public var workflowName: String?
    public var parentID: InstanceID?
    /// Top-level instances only (no SubStateMachine children).
    public var topLevelOnly: Bool
    /// Newest first; at most this many.
    public var limit: Int

    public init(status: InstanceStatus? = nil, workflowName: String? = nil, parentID: InstanceID? = nil,
                topLevelOnly: Bool = false, limit: Int = 100) {
        self.status = status
        self.workflowName = workflowName
        self.parentID = parentID
        self.topLevelOnly = topLevelOnly
        self.limit = limit
    }
}

extension Transition {
    /// Checks that every step row belongs to the transition's instance (a step of another
    /// instance would escape the lease fence).
    public func checkStepsBelongToInstance() throws(StoreError) {
        for step in steps where step.instanceID != instance.id {
            throw StoreError.failure(
                "step \(step.seq) of a transition of instance \(instance.id) belongs to instance "
                    + "\(step.instanceID); this is a bug in the engine, report it")
        }
    }
}

/// Errors every store reports the same way.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The transition's owner no longer holds the instance's lease (another executor took it).
    case leaseLost(instance: InstanceID, holder: String?)
    case instanceNotFound(InstanceID)
    case definitionNotFound(fingerprint: String)
    /// The database is held by another process for longer than the busy timeout.
    case busy(String)
    /// The database exists but is not a sagactl database, or has a schema this build cannot use.
    case incompatible(String)
    /// Anything else from the storage engine, with what to do next.
    case failure(String)

    /// `createInstance` was given an id that is already used.
    public static func duplicateInstance(_ id: InstanceID) -> StoreError {
        .failure("an instance with id \(id) already exists; instance ids must be unique (this is a bug in the engine)")
    }

    public var description: String {
        switch self {
        case .leaseLost(let id, let holder):
            "instance \(id) is now held by \(holder ?? "nobody"); this executor stopped working on it"
        case .instanceNotFound(let id): "no instance with id \(id)"
        case .definitionNotFound(let f): "no stored definition with fingerprint \(f)"
        case .busy(let m), .incompatible(let m), .failure(let m): m
        }
    }
}

/// The persistence port of the engine, named after what the engine intends.
///
/// Stores are shared by many concurrent instances; every method is safe to call concurrently.
/// `apply` is the hot path: implementations batch concurrent calls into one database
/// transaction (group commit) and return only once the transition is durable.
public protocol InstanceStore: Sendable {
    /// Stores a definition if its fingerprint is new; no-op otherwise.
    func saveDefinition(_ definition: StoredDefinition) async throws
    func definition(fingerprint: String) async throws -> StoredDefinition?

    /// Creates an instance together with its first step rows, atomically. When `businessKey`
    /// is set and already used, writes nothing and returns the existing instance.
    /// Throws `definitionNotFound` when the instance's definition was not saved first (an
    /// instance must stay recoverable), and `failure` when the id is already used.
    func createInstance(_ transition: Transition) async throws -> CreateOutcome

    /// Applies a transition durably. Throws `StoreError.leaseLost` when
    /// `transition.instance.leaseOwner` does not hold the lease in the store (then nothing of
    /// this transition is written; other instances' transitions in the same batch are), and
    /// `instanceNotFound` when there is no such instance.
    ///
    /// The fields fixed at creation (`id`, `definitionFingerprint`, `workflowName`,
    /// `businessKey`, `parentID`, `parentStepSeq`, `input`, `createdAt`) keep their stored
    /// values, and so does the lease (`leaseOwner` is the fence; `leaseExpiresAt` changes only
    /// through `claim`, `acquire` and `renewLeases`, so that a transition carrying an older
    /// expiry never undoes a renewal), except that a transition to a terminal status releases
    /// the lease: its expiry becomes the transition's `updatedAt`, so an operator command on the
    /// finished instance need not wait for it to run out. Every other field is replaced by the
    /// transition's.
    /// Every step must belong to `transition.instance` (else `failure`).
    func apply(_ transition: Transition) async throws

    func instance(id: InstanceID) async throws -> InstanceRecord?
    func instance(businessKey: String) async throws -> InstanceRecord?
    /// Step rows of one instance, ordered by seq.
    func steps(of id: InstanceID) async throws -> [StepRecord]
    func listInstances(_ query: InstanceQuery) async throws -> [InstanceRecord]
    /// Instance counts by status; a status with no instance is absent.
    func countByStatus() async throws -> [InstanceStatus: Int]

    /// Takes over up to `limit` non-terminal instances (running or compensating) that nobody
    /// holds: no owner, an expired lease (`leaseExpiresAt < now`), or an owner listed in
    /// `deadOwners`, and whose `wakeAt` is nil or `<= now`. Sets their owner to
    /// `owner` and their lease expiry to `leaseUntil`, atomically, so that two processes never
    /// claim the same instance. Oldest instances (by `createdAt`) are taken first; an owner with
    /// no lease expiry holds its instances until it is listed in `deadOwners`. Nothing else
    /// (status, `updatedAt`) changes. Returns the claimed rows (after the update).
    func claim(owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>, limit: Int)
        async throws -> [InstanceRecord]

    /// Takes one specific instance (for `resume`, `compensate`, `forward`, `skip`) when nobody
    /// else holds a live lease on it (no owner, `owner` itself, expired, or in `deadOwners`),
    /// whatever its status (a terminal `unknown` instance can be compensated). Returns the row
    /// after the update, or nil when another live owner holds it; throws `instanceNotFound`.
    func acquire(_ id: InstanceID, owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>)
        async throws -> InstanceRecord?

    /// Extends the lease of the given instances still held by `owner`; returns those renewed.
    func renewLeases(_ ids: [InstanceID], owner: LeaseOwner, until: Date) async throws -> Set<InstanceID>

    /// Owners holding leases on non-terminal instances (for detecting dead local owners).
    func leaseHolders() async throws -> Set<LeaseOwner>

    // MARK: Outbox (DESIGN §6)

    /// Takes up to `limit` pending messages due at `now` (`nextAttemptAt <= now`) that no live
    /// dispatcher holds (no owner, an expired lease, or an owner in `deadOwners`), oldest due
    /// first; sets their owner and lease expiry atomically. Returns them after the update.
    func claimOutbox(owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>, limit: Int)
        async throws -> [OutboxMessage]

    /// Records the result of a delivery attempt (status, attempts, next attempt, error,
    /// delivered time) and releases the message's lease. Only while `owner` holds it: returns
    /// false (writing nothing) when another dispatcher took it over.
    func finishOutbox(_ message: OutboxMessage, owner: LeaseOwner) async throws -> Bool

    /// Messages, newest first, optionally of one status.
    func listOutbox(status: OutboxStatus?, limit: Int) async throws -> [OutboxMessage]

    /// Puts a `failed` message back to `pending`, due at `now`, with its attempts reset.
    /// Returns the message after the change, nil when there is no such message; throws
    /// `StoreError.failure` when it is not failed.
    func retryOutbox(id: String, now: Date) async throws -> OutboxMessage?

    // MARK: Circuits

    /// Records a change of a service's circuit. Keeps one row per service: the change with the
    /// latest `changedAt` (a change older than the stored one is ignored).
    func recordCircuit(_ record: CircuitRecord) async throws

    /// The last recorded change of every service's circuit, by service name.
    func circuits() async throws -> [CircuitRecord]

    /// The earliest `wakeAt` (possibly already past) among non-terminal instances that have no
    /// lease owner, to let a worker sleep. Instances whose lease merely expired are found by
    /// `claim`, which a worker also runs when leases expire.
    func nextWakeAt() async throws -> Date?
}
