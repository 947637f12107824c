import Foundation
import StateLang

/// An `InstanceStore` kept in memory: the reference implementation for unit tests of engine
/// logic. It has the same semantics as the SQLite store (lease fencing, business-key
/// uniqueness, claim exclusivity, fields fixed at creation); the conformance suite in
/// `StoreTests` runs against both. Nothing survives the process.
///
/// An actor: every method is one isolated step, so each call is atomic like one database
/// transaction.
public actor InMemoryInstanceStore: InstanceStore {
    private var definitions: [String: StoredDefinition] = [:]
    private var instances: [InstanceID: InstanceRecord] = [:]
    private var idByBusinessKey: [String: InstanceID] = [:]
    /// Step rows by instance, then by seq.
    private var stepRows: [InstanceID: [Int: StepRecord]] = [:]
    private var outbox: [String: OutboxMessage] = [:]
    private var circuitRows: [String: CircuitRecord] = [:]

    public init() {}

    public func saveDefinition(_ definition: StoredDefinition) {
        if definitions[definition.fingerprint] == nil {
            definitions[definition.fingerprint] = definition
        }
    }

    public func definition(fingerprint: String) -> StoredDefinition? {
        definitions[fingerprint]
    }

    public func createInstance(_ transition: Transition) throws -> CreateOutcome {
        let record = transition.instance
        try transition.checkStepsBelongToInstance()
        if let key = record.businessKey, let existingID = idByBusinessKey[key], let existing = instances[existingID] {
            return .existing(existing)
        }
        guard definitions[record.definitionFingerprint] != nil else {
            throw StoreError.definitionNotFound(fingerprint: record.definitionFingerprint)
        }
        guard instances[record.id] == nil else {
            throw StoreError.duplicateInstance(record.id)
        }
        instances[record.id] = record
        if let key = record.businessKey { idByBusinessKey[key] = record.id }
        upsert(transition.steps, of: record.id)
        insert(transition.outbox)
        return .created
    }

    public func apply(_ transition: Transition) throws {
        try transition.checkStepsBelongToInstance()
        let new = transition.instance
        guard var stored = instances[new.id] else { throw StoreError.instanceNotFound(new.id) }
        guard stored.leaseOwner == new.leaseOwner else {
            throw StoreError.leaseLost(instance: new.id, holder: stored.leaseOwner?.description)
        }
        stored.takeMutableFields(of: new)
        instances[new.id] = stored
        upsert(transition.steps, of: new.id)
        insert(transition.outbox)
    }

    private func insert(_ messages: [OutboxMessage]) {
        for message in messages where outbox[message.id] == nil { outbox[message.id] = message }
    }

    // MARK: Outbox

    public func claimOutbox(owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>, limit: Int)
        -> [OutboxMessage]
    {
        let due = outbox.values.filter { message in
            guard message.status == .pending, message.nextAttemptAt <= now else { return false }
            guard let holder = message.leaseOwner else { return true }
            return (message.leaseExpiresAt.map { $0 < now } ?? false) || deadOwners.contains(holder)
        }.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        return due.prefix(max(limit, 0)).map { message in
            var claimed = message
            claimed.leaseOwner = owner
            claimed.leaseExpiresAt = leaseUntil
            outbox[message.id] = claimed
            return claimed
        }
    }

    public func finishOutbox(_ message: OutboxMessage, owner: LeaseOwner) -> Bool {
        guard var stored = outbox[message.id], stored.leaseOwner == owner else { return false }
        stored.status = message.status
        stored.attempts = message.attempts
        stored.nextAttemptAt = message.nextAttemptAt
        stored.lastError = message.lastError
        stored.deliveredAt = message.deliveredAt
        stored.leaseOwner = nil
        stored.leaseExpiresAt = nil
        outbox[message.id] = stored
        return true
    }

    public func listOutbox(status: OutboxStatus?, limit: Int) -> [OutboxMessage] {
        Array(outbox.values.filter { status == nil || $0.status == status }
            .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(max(limit, 0)))
    }

    public func retryOutbox(id: String, now: Date) throws -> OutboxMessage? {
        guard var message = outbox[id] else { return nil }
        guard message.status == .failed else {
            throw StoreError.failure("outbox message \(id) is \(message.status.rawValue); only failed messages can be retried")
        }
        message.status = .pending
        message.attempts = 0
        message.nextAttemptAt = now
        message.lastError = nil
        outbox[id] = message
        return message
    }

    // MARK: Circuits

    public func recordCircuit(_ record: CircuitRecord) {
        if let stored = circuitRows[record.service], stored.changedAt > record.changedAt { return }
        circuitRows[record.service] = record
    }

    public func circuits() -> [CircuitRecord] {
        circuitRows.values.sorted { $0.service < $1.service }
    }

    public func instance(id: InstanceID) -> InstanceRecord? {
        instances[id]
    }

    public func instance(businessKey: String) -> InstanceRecord? {
        idByBusinessKey[businessKey].flatMap { instances[$0] }
    }

    public func steps(of id: InstanceID) -> [StepRecord] {
        (stepRows[id] ?? [:]).values.sorted { $0.seq < $1.seq }
    }

    public func listInstances(_ query: InstanceQuery) -> [InstanceRecord] {
        let matching = instances.values.filter { record in
            if let status = query.status, record.status != status { return false }
            if let name = query.workflowName, record.workflowName != name { return false }
            if let parent = query.parentID, record.parentID != parent { return false }
            if query.topLevelOnly, record.parentID != nil { return false }
            return true
        }
        let newestFirst = matching.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        return Array(newestFirst.prefix(max(0, query.limit)))
    }

    public func countByStatus() -> [InstanceStatus: Int] {
        instances.values.reduce(into: [:]) { counts, record in counts[record.status, default: 0] += 1 }
    }

    public func claim(
        owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>, limit: Int
    ) -> [InstanceRecord] {
        guard limit > 0 else { return [] }
        let candidates = instances.values
            .filter { record in
                !record.status.isTerminal
                    && record.isFree(now: now, deadOwners: deadOwners)
                    && (record.wakeAt.map { $0 <= now } ?? true)
            }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            .prefix(limit)
        return candidates.map { candidate in
            var claimed = candidate
            claimed.leaseOwner = owner
            claimed.leaseExpiresAt = leaseUntil
            instances[claimed.id] = claimed
            return claimed
        }
    }

    public func acquire(
        _ id: InstanceID, owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>
    ) throws -> InstanceRecord? {
        guard var record = instances[id] else { throw StoreError.instanceNotFound(id) }
        guard record.leaseOwner == owner || record.isFree(now: now, deadOwners: deadOwners) else { return nil }
        record.leaseOwner = owner
        record.leaseExpiresAt = leaseUntil
        instances[id] = record
        return record
    }

    public func renewLeases(_ ids: [InstanceID], owner: LeaseOwner, until: Date) -> Set<InstanceID> {
        var renewed: Set<InstanceID> = []
        for id in ids where instances[id]?.leaseOwner == owner {
            instances[id]?.leaseExpiresAt = until
            renewed.insert(id)
        }
        return renewed
    }

    public func leaseHolders() -> Set<LeaseOwner> {
        Set(instances.values.lazy.filter { !$0.status.isTerminal }.compactMap(\.leaseOwner))
    }

    public func nextWakeAt() -> Date? {
        instances.values.lazy
            .filter { !$0.status.isTerminal && $0.leaseOwner == nil }
            .compactMap(\.wakeAt)
            .min()
    }

    private func upsert(_ steps: [StepRecord], of id: InstanceID) {
        guard !steps.isEmpty else { return }
        var rows = stepRows[id] ?? [:]
        for step in steps { rows[step.seq] = step }
        stepRows[id] = rows
    }
}

extension InstanceRecord {
    /// Nobody holds a live lease: no owner, an expired lease, or an owner known to be dead.
    /// An owner with no expiry holds the lease until it is declared dead.
    func isFree(now: Date, deadOwners: Set<LeaseOwner>) -> Bool {
        guard let owner = leaseOwner else { return true }
        if let expiry = leaseExpiresAt, expiry < now { return true }
        return deadOwners.contains(owner)
    }

    /// Takes from `new` the fields a transition may change; the rest stays as created, and
    /// the lease as it is (see `InstanceStore.apply`).
    mutating func takeMutableFields(of new: InstanceRecord) {
        status = new.status
        forwardStatus = new.forwardStatus
        compensationStatus = new.compensationStatus
        context = new.context
        cursor = new.cursor
        failure = new.failure
        wakeAt = new.wakeAt
        updatedAt = new.updatedAt
        endedAt = new.endedAt
        if new.status.isTerminal { leaseExpiresAt = new.updatedAt }
    }
}
