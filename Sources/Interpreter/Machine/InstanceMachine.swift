import Foundation
import StateLang

/// Something that happened to an instance, fed to `InstanceMachine.handle`.
public enum MachineEvent: Sendable {
    /// A new instance: enter `StartState`.
    case start
    /// An executor took over (after a crash, or from `start` by a worker): continue from the
    /// stored cursor, invoking again whatever was in flight with the same idempotency key.
    case resume
    case actionCompleted(ActionOutcome)
    /// The backoff of a pending retry has elapsed.
    case retryDue
    case childFinished(ChildOutcome)
    /// `sagactl compensate`: roll back what the instance did.
    case compensate
    /// `sagactl forward`: push a failed or unknown instance forward from its last forward state.
    case forward
    /// `sagactl skip --state S`: record a manual resolution of S and continue.
    case skip(state: String)
}

/// How a child instance (SubStateMachine) ended.
public struct ChildOutcome: Sendable, Hashable {
    public var instanceID: InstanceID
    public var forwardStatus: ExecutionStatus
    public var compensationStatus: ExecutionStatus?
    public var context: JSONValue
    public var failure: FailureRecord?

    public init(instanceID: InstanceID, forwardStatus: ExecutionStatus, compensationStatus: ExecutionStatus?,
                context: JSONValue, failure: FailureRecord?) {
        self.instanceID = instanceID
        self.forwardStatus = forwardStatus
        self.compensationStatus = compensationStatus
        self.context = context
        self.failure = failure
    }
}

/// A child instance to run (forward) or to compensate, on behalf of a step.
public struct ChildRequest: Sendable, Hashable {
    public var childID: InstanceID
    public var machineName: String
    public var input: JSONValue
    public var parentSeq: Int
    /// True to compensate an existing child instead of running it.
    public var compensate: Bool
}

/// What the executor must do after persisting the decision's transition.
public enum MachineAction: Sendable {
    case invoke(Invocation)
    case wait(until: Date)
    case runChild(ChildRequest)
    /// The instance reached a terminal status.
    case finished(InstanceStatus)
    /// The event did not apply (an operator command on an instance in the wrong status).
    case rejected(String)
}

/// The result of handling one event: persist `transition` (if any), then perform `action`.
public struct Decision: Sendable {
    public var transition: Transition?
    public var action: MachineAction
}

/// The transition logic of one instance, as a value: events in, decisions out. No I/O, no
/// clock, no randomness of its own (all injected), so every rule is a plain unit test.
public struct InstanceMachine: Sendable {
    public let workflow: Workflow
    public internal(set) var instance: InstanceRecord
    /// Every step row of the instance, in seq order.
    public internal(set) var steps: [StepRecord]
    var cursor: Cursor
    /// Rows created or changed while handling the current event.
    private var touched: [Int] = []
    /// Outbox messages written with the current event's transition.
    var outbox: [OutboxMessage] = []
    var now: Date
    let random: @Sendable () -> Double
    let makeID: @Sendable () -> String

    /// States passed through without calling anything, per event, before the instance is
    /// failed as looping (a Choice cycle whose condition never changes).
    static let inlineStepLimit = 10_000

    /// A machine for a new instance. Call `handle(.start)` to get the creating transition.
    public init(workflow: Workflow, id: InstanceID, input: JSONValue, businessKey: String?, now: Date,
                parentID: InstanceID? = nil, parentStepSeq: Int? = nil,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                makeID: @escaping @Sendable () -> String = { InstanceIDs.generate() }) {
        self.workflow = workflow
        var context = input.objectValue ?? [:]
        if let businessKey { context["_business_key_"] = .string(businessKey) }
        self.cursor = Cursor()
        self.instance = InstanceRecord(
            id: id, definitionFingerprint: workflow.fingerprint, workflowName: workflow.name,
            businessKey: businessKey, parentID: parentID, parentStepSeq: parentStepSeq, input: input,
            context: .object(context), cursor: "", createdAt: now, updatedAt: now)
        self.steps = []
        self.now = now
        self.random = random
        self.makeID = makeID
        self.instance.cursor = cursor.encoded()
    }

    /// A machine for a stored instance.
    public init(workflow: Workflow, instance: InstanceRecord, steps: [StepRecord], now: Date,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                makeID: @escaping @Sendable () -> String = { InstanceIDs.generate() }) throws {
        guard let cursor = Cursor.decode(instance.cursor) else {
            throw MachineError.corruptCursor(instance.id)
        }
        self.workflow = workflow
        self.instance = instance
        self.steps = steps.sorted { $0.seq < $1.seq }
        self.cursor = cursor
        self.now = now
        self.random = random
        self.makeID = makeID
    }

    /// Handles one event at time `now`.
    public mutating func handle(_ event: MachineEvent, now: Date) -> Decision {
        self.now = now
        touched = []
        outbox = []
        let action: MachineAction
        switch event {
        case .start: action = enterState(named: workflow[workflow.startState].name)
        case .resume: action = resume()
        case .actionCompleted(let outcome): action = completed(outcome)
        case .retryDue: action = retryDue()
        case .childFinished(let outcome): action = childFinished(outcome)
        case .compensate: action = compensateCommand()
        case .forward: action = forwardCommand()
        case .skip(let state): action = skipCommand(state)
        }
        if case .rejected = action { return Decision(transition: nil, action: action) }
        instance.cursor = cursor.encoded()
        instance.updatedAt = now
        return Decision(transition: Transition(instance: instance, steps: touchedRows(), outbox: outbox), action: action)
    }

    /// The rows touched by the current event, once each, in seq order (usually one or two:
    /// sorting the few seqs beats hashing them into a set).
    private func touchedRows() -> [StepRecord] {
        var seqs = touched
        seqs.sort()
        var rows: [StepRecord] = []
        rows.reserveCapacity(seqs.count)
        var previous: Int?
        for seq in seqs where seq != previous {
            rows.append(steps[index(ofSeq: seq)])
            previous = seq
        }
        return rows
    }


    /// Sets the lease carried by the next transitions (the executor that holds the instance).
    public mutating func setLease(owner: LeaseOwner?, expiresAt: Date?) {
        instance.leaseOwner = owner
        instance.leaseExpiresAt = expiresAt
    }

    // MARK: Rows

    func index(ofSeq seq: Int) -> Int {
        // Seqs are dense and start at 1, so the row of seq n is usually at n-1.
        if seq - 1 < steps.count, seq >= 1, steps[seq - 1].seq == seq { return seq - 1 }
        return steps.firstIndex { $0.seq == seq }!
    }

    func row(_ seq: Int) -> StepRecord { steps[index(ofSeq: seq)] }

    mutating func update(_ seq: Int, _ change: (inout StepRecord) -> Void) {
        change(&steps[index(ofSeq: seq)])
        touched.append(seq)
    }

    /// Adds a row, stamped with the executor that holds the lease now (so the history says
    /// which process made each call).
    mutating func appendRow(_ make: (Int) -> StepRecord) -> Int {
        let seq = cursor.nextSeq
        cursor.nextSeq += 1
        var row = make(seq)
        row.executor = instance.leaseOwner
        steps.append(row)
        touched.append(seq)
        return seq
    }

    /// The first row of the logical step that `seq` belongs to (same idempotency key).
    func firstSeq(ofStep seq: Int) -> Int {
        let key = row(seq).idempotencyKey
        return steps.first { $0.idempotencyKey == key }!.seq
    }

    /// The latest attempt of every logical step of a phase, ordered by the step's first row.
    func effectiveRows(phase: StepPhase) -> [(first: Int, last: StepRecord)] {
        // Attempts of one step share its idempotency key. With few steps a scan of what was
        // found beats hashing every key; past that, an index by key keeps this linear.
        var found: [(first: Int, last: StepRecord)] = []
        var position: [String: Int]? = steps.count > 32 ? [:] : nil
        for row in steps where row.phase == phase {
            let at: Int?
            if position != nil {
                at = position![row.idempotencyKey]
            } else {
                at = found.firstIndex { $0.last.idempotencyKey == row.idempotencyKey }
            }
            if let at {
                found[at].last = row
            } else {
                position?[row.idempotencyKey] = found.count
                found.append((row.seq, row))
            }
        }
        return found
    }
}

public enum MachineError: Error, Sendable, CustomStringConvertible {
    case corruptCursor(InstanceID)

    public var description: String {
        switch self {
        case .corruptCursor(let id):
            "instance \(id) has an unreadable engine cursor; the database may have been edited by hand"
        }
    }
}

/// Instance identifiers: 26 characters, time-ordered (milliseconds) then random, in a
/// lower-case base-32 alphabet without look-alike letters.
public enum InstanceIDs {
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
    static let length = 26

    public static func generate(now: Date = Date()) -> String {
        // 80 random bits from two draws (one system call each), 5 bits a character.
        var random = SystemRandomNumberGenerator()
        return generate(now: now, draws: (random.next(), random.next()))
    }

    /// The identifier of `now` with the given random draws (12 characters from the first
    /// draw's low 60 bits, 4 from the second's low 20). Written as ASCII bytes: one per
    /// saga, and `Character` arrays made it cost as much as a step's row encoding.
    static func generate(now: Date, draws: (UInt64, UInt64)) -> String {
        String(unsafeUninitializedCapacity: length) { buffer in
            var millis = UInt64(max(0, now.timeIntervalSince1970 * 1000))
            for n in stride(from: 9, through: 0, by: -1) {
                buffer[n] = alphabet[Int(millis & 31)]
                millis >>= 5
            }
            var bits = draws.0
            for n in 0..<16 {
                if n == 12 { bits = draws.1 }
                buffer[10 + n] = alphabet[Int(bits & 31)]
                bits >>= 5
            }
            return length
        }
    }
}
