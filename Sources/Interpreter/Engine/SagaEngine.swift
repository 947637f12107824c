import Foundation
import StateLang

/// The engine an embedding program (and `sagactl`) uses: it owns a store, the action
/// handlers and a clock, and runs instances durably ("persist, then act"), many at once.
///
///     let engine = SagaEngine(store: InMemoryInstanceStore())
///     engine.localActions.register(service: "inventory", method: "reserve") { call in ["reserved": true] }
///     let workflow = try engine.register(path: "workflows/order-payment.yaml")
///     let instance = try await engine.run(workflow, input: ["productId": 1])
public final class SagaEngine: Sendable {
    public let store: any InstanceStore
    public let clock: any EngineClock
    public let owner: LeaseOwner
    /// How long a lease lasts without renewal; renewed every third of it while running.
    public let leaseDuration: TimeInterval
    /// Handlers for `local` services; register closures here.
    public let localActions: LocalActions
    let handlers: Locked<[ServiceBinding.Kind: any ActionHandler]>
    let bindings: Locked<[String: ServiceBinding]>
    let workflows: Locked<WorkflowCache>
    let held: Locked<Set<InstanceID>>
    let observer: Locked<(@Sendable (EngineEvent) -> Void)?>
    let leaseRenewal = LeaseRenewal()

    struct WorkflowCache {
        var byFingerprint: [String: Workflow] = [:]
        var byName: [String: Workflow] = [:]
        /// Called when a SubStateMachine names a machine that is not registered.
        var resolver: (@Sendable (String) -> String?)?
        var sources: [String: String] = [:]
        var saved: Set<String> = []
    }

    public init(store: any InstanceStore, clock: any EngineClock = SystemClock(), owner: LeaseOwner = .current,
                leaseDuration: TimeInterval = 30) {
        self.store = store
        self.clock = clock
        self.owner = owner
        self.leaseDuration = leaseDuration
        self.localActions = LocalActions()
        self.handlers = Locked([.local: localActions])
        self.bindings = Locked([:])
        self.workflows = Locked(WorkflowCache())
        self.held = Locked([])
        self.observer = Locked(nil)
    }

    // MARK: Configuration

    /// Sets the handler for a kind of service binding (`exec`, `http`).
    public func setHandler(_ handler: any ActionHandler, for kind: ServiceBinding.Kind) {
        handlers.withLock { $0[kind] = handler }
    }

    /// Service bindings that override the workflows' own (`--services FILE`).
    public func setServiceBindings(_ services: [String: ServiceBinding]) {
        bindings.withLock { $0 = services }
    }

    /// Receives progress events (state entered, call finished, retry scheduled, ...).
    public func observe(_ body: @escaping @Sendable (EngineEvent) -> Void) {
        observer.withLock { $0 = body }
    }

    /// A function from a machine name to a file path, used when a SubStateMachine names a
    /// machine that is not registered (`sagactl` looks next to the parent's file).
    public func setSubMachineResolver(_ resolver: @escaping @Sendable (String) -> String?) {
        workflows.withLock { $0.resolver = resolver }
    }

    /// Compiles and registers a workflow file; throws its diagnostics when it has errors.
    @discardableResult
    public func register(path: String) throws -> Workflow {
        let result = WorkflowPipeline.compile(path: path, options: ValidationOptions(forExecution: true))
        guard let workflow = result.workflow, let source = result.source else {
            throw WorkflowLoadError(path: path, diagnostics: result.diagnostics, source: result.source)
        }
        register(workflow, source: source.text)
        return workflow
    }

    /// Registers a compiled workflow (its source text is stored with the first instance).
    public func register(_ workflow: Workflow, source: String) {
        workflows.withLock {
            $0.byFingerprint[workflow.fingerprint] = workflow
            $0.byName[workflow.name] = workflow
            $0.sources[workflow.fingerprint] = source
        }
    }

    // MARK: Starting

    /// Creates an instance and runs it to its end. With a business key that already exists,
    /// returns the existing instance without running anything.
    public func run(_ workflow: Workflow, input: JSONValue = .object([:]), businessKey: String? = nil,
                    instanceID: InstanceID? = nil) async throws -> InstanceRecord {
        let driven = starting(workflow, id: instanceID, input: input, businessKey: businessKey)
        return try await runStarted(driven).record
    }

    /// `run` once its instance is built. Its frame, not `run`'s, is what stays allocated while
    /// the instance runs, and it returns the record boxed: an `InstanceRecord` result or
    /// temporary would take its size in that frame.
    @inline(never)
    func runStarted(_ driven: DrivenInstance) async throws -> RecordBox {
        if let existing = try await create(driven) { return existing }
        try await driveCreated(driven)
        return RecordBox(driven)
    }

    /// Creates an instance and drives it in the calling task until it finishes or waits for a
    /// deferred local action (`LocalActions.registerDeferred`), and returns then. A waiting
    /// instance holds no task: the action's completion drives it on in a new one, so an
    /// embedding program can keep many thousands waiting at a few KiB each.
    ///
    /// `onFinish` is called once: when the instance ends (with its record), when driving it
    /// fails (with the error; the instance stays in the store for `resume` or `sagactl
    /// recover`), or at once with the existing instance when `businessKey` already exists
    /// (nothing runs then). When the instance cannot be created, `start` throws and `onFinish`
    /// is not called.
    @discardableResult
    public func start(_ workflow: Workflow, input: JSONValue = .object([:]), businessKey: String? = nil,
                      instanceID: InstanceID? = nil,
                      onFinish: @escaping @Sendable (Result<InstanceRecord, any Error>) -> Void) async throws -> InstanceID {
        let driven = starting(workflow, id: instanceID, input: input, businessKey: businessKey)
        if let existing = try await create(driven) {
            onFinish(.success(existing.record))
            return existing.record.id
        }
        driven.onFinish = onFinish
        emitStarted(driven)
        do {
            try claimDriving(driven)
        } catch {
            driven.reportEnd(.failure(error))
            return driven.id
        }
        leaseRenewal.enter(self)
        await driveStarted(driven, alreadyApplied: true)
        return driven.id
    }

    /// Drives an instance of `start` (claimed, under the lease renewal) until it parks, or
    /// until it ends: then releases it and reports its end.
    @inline(never)
    func driveStarted(_ driven: DrivenInstance, alreadyApplied: Bool) async {
        let end: Result<InstanceRecord, any Error>
        do {
            if try await steps(of: driven, alreadyApplied: alreadyApplied, parking: true) { return }
            end = .success(driven.instance)
        } catch {
            end = .failure(error)
        }
        releaseDriving(driven)
        leaseRenewal.leave()
        driven.reportEnd(end)
    }

    /// Saves the definition and writes the creating transition of a started instance; returns
    /// the instance that already has its business key, if any.
    @inline(never)
    func create(_ driven: DrivenInstance) async throws -> RecordBox? {
        try await saveDefinition(driven.workflow)
        return try await createInstance(driven)
    }

    /// Drives a newly created instance under the engine's lease renewal. Out of line, like
    /// every callee of `run`: its frame is allocated for as long as the instance runs (and it
    /// enters the renewal itself: `withLeaseRenewal`'s closure would add one more frame).
    @inline(never)
    func driveCreated(_ driven: DrivenInstance) async throws {
        emitStarted(driven)
        leaseRenewal.enter(self)
        defer { leaseRenewal.leave() }
        try await drive(driven, alreadyApplied: true)
    }

    @inline(never)
    func emitStarted(_ driven: DrivenInstance) {
        emit(.started(driven.id, workflow: driven.workflow.name))
    }

    /// A new instance that has handled `.start` (not async: the machine is built outside the
    /// caller's frame).
    @inline(never)
    func starting(_ workflow: Workflow, id: InstanceID?, input: JSONValue, businessKey: String?,
                  parentID: InstanceID? = nil, parentStepSeq: Int? = nil) -> DrivenInstance {
        let now = clock.now()
        let machine = InstanceMachine(workflow: workflow, id: id ?? InstanceIDs.generate(now: now), input: input,
                                      businessKey: businessKey, now: now, parentID: parentID, parentStepSeq: parentStepSeq)
        return DrivenInstance(machine: machine, event: .start, now: now, owner: owner,
                              leaseUntil: now.addingTimeInterval(leaseDuration))
    }

    /// Writes a started instance's creating transition; returns the instance that already has
    /// its business key, if any (then nothing was written). The record comes back boxed so
    /// that the caller's frame holds a reference, not an `InstanceRecord`.
    @inline(never)
    func createInstance(_ driven: DrivenInstance) async throws -> RecordBox? {
        // Nothing driven here yet: this creation will not share its commit.
        markAloneIfDriving(count: 0, driven)
        switch try await store.createInstance(driven.transition!) {
        case .existing(let existing): return RecordBox(record: existing)
        case .created:
            driven.transitionApplied()
            return nil
        }
    }

    /// An instance record on the heap, for async frames that pass one on.
    final class RecordBox {
        let record: InstanceRecord
        init(record: InstanceRecord) { self.record = record }
        @inline(never) convenience init(_ driven: DrivenInstance) { self.init(record: driven.instance) }
    }

    /// Creates an instance without running it: a worker (`sagactl worker`) picks it up.
    public func enqueue(_ workflow: Workflow, input: JSONValue = .object([:]), businessKey: String? = nil,
                        instanceID: InstanceID? = nil) async throws -> (InstanceRecord, created: Bool) {
        try await saveDefinition(workflow)
        let now = clock.now()
        let machine = InstanceMachine(workflow: workflow, id: instanceID ?? InstanceIDs.generate(now: now), input: input,
                                      businessKey: businessKey, now: now)
        switch try await store.createInstance(Transition(instance: machine.instance)) {
        case .existing(let existing): return (existing, false)
        case .created: return (machine.instance, true)
        }
    }

    // MARK: Operator commands

    /// Continues an instance whose executor died (or that a worker has not picked up yet).
    public func resume(_ id: InstanceID) async throws -> InstanceRecord {
        try await command(id, .resume)
    }

    /// Rolls back a finished (failed, unknown, succeeded) or stopped instance.
    public func compensate(_ id: InstanceID) async throws -> InstanceRecord {
        try await command(id, .compensate)
    }

    /// Pushes a failed or unknown instance forward from its last forward state.
    public func forward(_ id: InstanceID) async throws -> InstanceRecord {
        try await command(id, .forward)
    }

    /// Records that `state` was resolved by hand and continues.
    public func skip(_ id: InstanceID, state: String) async throws -> InstanceRecord {
        try await command(id, .skip(state: state))
    }

    func command(_ id: InstanceID, _ event: MachineEvent) async throws -> InstanceRecord {
        guard try await store.instance(id: id) != nil else { throw EngineError.notFound(id) }
        let now = clock.now()
        let dead = try await deadOwners()
        guard let record = try await store.acquire(id, owner: owner, now: now,
                                                   leaseUntil: now.addingTimeInterval(leaseDuration), deadOwners: dead)
        else {
            let holder = try await store.instance(id: id)?.leaseOwner?.description ?? "another process"
            throw EngineError.heldElsewhere(id, owner: holder)
        }
        return try await withLeaseRenewal { try await self.continueInstance(record, event) }
    }

    /// Loads an acquired instance and handles `event` on it, then drives it to its end.
    func continueInstance(_ record: InstanceRecord, _ event: MachineEvent) async throws -> InstanceRecord {
        let driven = try await loading(record, event)
        emit(.resumed(driven.id, workflow: driven.workflow.name))
        try await drive(driven, alreadyApplied: false)
        return driven.instance
    }

    /// An acquired instance with its steps, having handled `event`. In a function of its own
    /// so that its frame (the workflow, the step rows) is gone while the instance is driven.
    @inline(never)
    func loading(_ record: InstanceRecord, _ event: MachineEvent) async throws -> DrivenInstance {
        let workflow = try await workflow(fingerprint: record.definitionFingerprint)
        let steps = try await store.steps(of: record.id)
        let now = clock.now()
        let driven = DrivenInstance(machine: try InstanceMachine(workflow: workflow, instance: record, steps: steps, now: now),
                                    event: event, now: now, owner: owner, leaseUntil: now.addingTimeInterval(leaseDuration))
        if case .rejected(let reason) = driven.next {
            // Give the instance back at once rather than holding it for a lease period.
            var released = driven.instance
            released.leaseExpiresAt = now
            try await store.apply(Transition(instance: released))
            throw EngineError.rejected(reason)
        }
        return driven
    }

    // MARK: Driving

    /// Whether a task of this engine is driving `id` now.
    func isDriving(_ id: InstanceID) -> Bool { held.withLock { $0.contains(id) } }

    /// Performs decisions until the instance finishes: persist, then act.
    ///
    /// This frame, and those of the calls below it, stay allocated while an action waits: they
    /// hold `driven` and small values only; each step's large values (a transition, an
    /// invocation, an outcome) live in a callee that returns before the next step. The callees
    /// are `@inline(never)`: inlined, their values would be in this frame again (an async
    /// function's frame is the union of what its inlined callees keep across awaits; drive's
    /// was 8.4 KB with them inlined).
    @inline(never)
    func drive(_ driven: DrivenInstance, alreadyApplied: Bool) async throws {
        try claimDriving(driven)
        defer { releaseDriving(driven) }
        _ = try await steps(of: driven, alreadyApplied: alreadyApplied, parking: false)
    }

    /// The step loop of `drive`. With `parking`, it also stops when the instance waits for a
    /// deferred local action and returns `true`: the instance is then in that action's hands
    /// (`park`), with no task; `false` when the instance finished.
    @inline(never)
    func steps(of driven: DrivenInstance, alreadyApplied: Bool, parking: Bool) async throws -> Bool {
        var applied = alreadyApplied
        while true {
            if !applied { try await applyTransition(of: driven) }
            applied = false
            switch driven.step {
            case .invoke:
                let call = prepareCall(driven)
                if parking, let body = call.deferred {
                    park(driven, on: call, body)
                    return true
                }
                try await perform(call, of: driven)
            case .wait: try await waitForRetry(driven)
            case .runChild: try await runChild(of: driven)
            case .finished:
                emitFinished(driven)
                return false
            case .rejected: throw rejection(driven)
            }
        }
    }

    /// Records that this engine drives `driven`; refuses a second driver in this process.
    @inline(never)
    func claimDriving(_ driven: DrivenInstance) throws {
        let id = driven.id
        guard held.withLock({ $0.insert(id).inserted }) else {
            throw EngineError.rejected("instance \(id) is already being driven by this process")
        }
    }

    @inline(never)
    func releaseDriving(_ driven: DrivenInstance) {
        let id = driven.id
        held.withLock { _ = $0.remove(id) }
    }

    @inline(never)
    func emitFinished(_ driven: DrivenInstance) {
        if case .finished(let status) = driven.next { emit(.finished(driven.id, status: status)) }
    }

    /// Sleeps until a scheduled retry is due, then handles it.
    @inline(never)
    func waitForRetry(_ driven: DrivenInstance) async throws {
        guard case .wait(let due) = driven.next else { return }
        emitEvent { .retryScheduled(driven.id, at: due) }
        try await clock.sleep(until: due)
        let now = clock.now()
        driven.handle(.retryDue, now: now, owner: owner, leaseUntil: now.addingTimeInterval(leaseDuration))
    }

    @inline(never)
    func rejection(_ driven: DrivenInstance) -> EngineError {
        if case .rejected(let reason) = driven.next { return .rejected(reason) }
        return .rejected("instance \(driven.id) was not rejected")
    }

    /// Persists the transition of the decision to perform, if it has one.
    @inline(never)
    func applyTransition(of driven: DrivenInstance) async throws {
        // Driving only this instance: no other transition will share the commit.
        markAloneIfDriving(count: 1, driven)
        guard let transition = driven.transition else { return }
        try await store.apply(transition)
        driven.transitionApplied()
    }

    /// Makes the call of an `.invoke` decision and handles its outcome. This frame and the
    /// call's stay allocated while the action runs: they hold references only (the call's
    /// invocation, binding and start time are in `ResolvedCall`).
    @inline(never)
    func perform(_ call: ResolvedCall, of driven: DrivenInstance) async throws {
        let outcome = await call.invoke(engine: self)
        // A cancelled executor stops here without recording anything: the call's
        // outcome is unknown to it, and recovery makes the call again with its key.
        try Task.checkCancellation()
        finish(call, outcome, of: driven)
    }

    /// Starts the deferred action of a parked instance and hands the instance to its
    /// completion, which drives it on in a new task. Until then the instance is these heap
    /// objects only: no task and no suspended frames hold it.
    @inline(never)
    func park(_ driven: DrivenInstance, on call: ResolvedCall, _ body: LocalActions.DeferredBody) {
        let completion = ActionCompletion { outcome in
            Task { await self.resume(driven, after: call, outcome) }
        }
        body(call.invocation, completion)
    }

    @inline(never)
    func resume(_ driven: DrivenInstance, after call: ResolvedCall, _ outcome: ActionOutcome) async {
        finish(call, outcome, of: driven)
        await driveStarted(driven, alreadyApplied: false)
    }

    @inline(never)
    func prepareCall(_ driven: DrivenInstance) -> ResolvedCall {
        let invocation = driven.invocation!
        emitCalling(driven.id, invocation)
        return resolve(invocation, services: driven.services)
    }

    @inline(never)
    func finish(_ call: ResolvedCall, _ outcome: ActionOutcome, of driven: DrivenInstance) {
        emitCalled(driven.id, call.invocation, outcome, seconds: clock.now().timeIntervalSince(call.started))
        let now = clock.now()
        driven.handle(.actionCompleted(outcome), now: now, owner: owner, leaseUntil: now.addingTimeInterval(leaseDuration))
    }

    /// Marks the transition to apply as `.alone` when this engine drives `count` instances
    /// (0 before a new one is driven, 1 when it is the only one). Out of line and on the heap
    /// object, so that the async callers' frames hold no extra copy of the transition.
    @inline(never)
    func markAloneIfDriving(count: Int, _ driven: DrivenInstance) {
        if held.withLock({ $0.count == count }) { driven.markTransitionAlone() }
    }

    // Out of line: an event built in an async function takes room in its frame.
    @inline(never)
    func emitCalling(_ id: InstanceID, _ invocation: Invocation) {
        emit(.calling(id, state: invocation.stateName, attempt: invocation.attempt, phase: invocation.phase))
    }

    @inline(never)
    func emitCalled(_ id: InstanceID, _ invocation: Invocation, _ outcome: ActionOutcome, seconds: Double) {
        emit(.called(id, state: invocation.stateName, phase: invocation.phase, outcome: outcome, seconds: seconds))
    }

    @inline(never)
    func emitEvent(_ event: () -> EngineEvent) {
        emit(event())
    }

    /// Runs the child of a `.runChild` decision and handles its outcome.
    @inline(never)
    func runChild(of driven: DrivenInstance) async throws {
        let outcome = try await runChild(driven.childRequest!, parent: driven.instance)
        try Task.checkCancellation()
        let now = clock.now()
        driven.handle(.childFinished(outcome), now: now, owner: owner, leaseUntil: now.addingTimeInterval(leaseDuration))
    }

    /// Calls the action of `invocation` through its binding: the engine's override, else the
    /// workflow's `services` entry, else a registered local action.
    func invoke(_ invocation: Invocation, services: [String: ServiceBinding]) async -> ActionOutcome {
        await resolve(invocation, services: services).invoke(engine: self)
    }

    /// A call ready to be made: its invocation, handler, binding and deadline (or why it cannot
    /// be made), on the heap, so that the frames waiting for the call hold one reference.
    final class ResolvedCall: Sendable {
        let invocation: Invocation
        let handler: (any ActionHandler)?
        let binding: ServiceBinding?
        let timeout: Double?
        let failure: ActionFailure?
        let started: Date
        /// A registered local action, called directly (it needs no binding).
        let local: LocalActions.Entry?

        init(invocation: Invocation, handler: Result<any ActionHandler, ActionFailure>, binding: ServiceBinding?,
             timeout: Double?, started: Date, local: LocalActions.Entry? = nil) {
            self.invocation = invocation
            switch handler {
            case .success(let handler): (self.handler, self.failure) = (handler, nil)
            case .failure(let failure): (self.handler, self.failure) = (nil, failure)
            }
            self.binding = binding
            self.timeout = timeout
            self.started = started
            self.local = local
        }

        var hasDeadline: Bool { (timeout ?? 0) > 0 }

        /// The deferred local action to start, when the instance may wait for it without a
        /// task (a call with a deadline is raced against a timer in a task instead).
        var deferred: LocalActions.DeferredBody? {
            guard failure == nil, !hasDeadline, case .deferred(let body) = local else { return nil }
            return body
        }

        @inline(never)
        func invoke(engine: SagaEngine) async -> ActionOutcome {
            if let failure { return .failure(failure) }
            if hasDeadline { return await invokeWithDeadline(engine: engine) }
            // What `LocalActions.invoke` does, without its frame and the binding it ignores.
            switch local {
            case nil: return await callHandler()
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

        // The two ways of calling are functions of their own: each one's arguments take room
        // only in its own frame, not in the frame of every call.
        @inline(never)
        func callHandler() async -> ActionOutcome {
            await handler!.invoke(invocation, binding: binding)
        }

        @inline(never)
        func invokeWithDeadline(engine: SagaEngine) async -> ActionOutcome {
            await engine.invoke(invocation, binding: binding, handler: handler!, timeout: timeout ?? 0)
        }
    }

    /// The binding (the engine's override, else the workflow's `services` entry, else a
    /// registered local action) and handler of `invocation`, or why it cannot be called.
    @inline(never)
    func resolve(_ invocation: Invocation, services: [String: ServiceBinding]) -> ResolvedCall {
        let binding = bindings.withLock { $0[invocation.serviceName] } ?? services[invocation.serviceName]
        let timeout = invocation.timeoutSeconds ?? binding?.timeoutSeconds
        if binding.map(callsLocalActions) ?? true, let entry = localActions.entry(for: invocation) {
            return ResolvedCall(invocation: invocation, handler: .success(localActions), binding: binding, timeout: timeout,
                                started: clock.now(), local: entry)
        }
        return ResolvedCall(invocation: invocation, handler: handler(for: invocation, binding: binding), binding: binding,
                            timeout: timeout, started: clock.now())
    }

    /// Whether `binding` is answered by `localActions` (`Type: local`, and no other handler was
    /// set for that type with `setHandler`).
    func callsLocalActions(_ binding: ServiceBinding) -> Bool {
        guard binding.kind == .local, let handler = handlers.withLock({ $0[.local] }) as? LocalActions else { return false }
        return handler === localActions
    }

    /// The handler for `invocation` (not a registered local action: `resolve` looks those up
    /// first), or why there is none.
    @inline(never)
    func handler(for invocation: Invocation, binding: ServiceBinding?) -> Result<any ActionHandler, ActionFailure> {
        if let binding {
            guard let handler = handlers.withLock({ $0[binding.kind] }) else {
                return .failure(ActionFailure(ErrorName("ActionError.UnsupportedServiceType"),
                    "service '\(invocation.serviceName)' is bound with Type: \(binding.kind.rawValue), which this build cannot call"))
            }
            return .success(handler)
        }
        return .failure(ActionFailure(ErrorName("ActionError.UnboundService"),
            "service '\(invocation.serviceName)' has no binding; add it under Services in the workflow or in a --services file"))
    }

    /// A call with a deadline: a timer races the call (a function of its own, so that calls
    /// without a deadline do not carry a task group's frame).
    @inline(never)
    func invoke(_ invocation: Invocation, binding: ServiceBinding?, handler: any ActionHandler,
                timeout: Double) async -> ActionOutcome {
        let deadline = clock.now().addingTimeInterval(timeout)
        let clock = self.clock
        return await withTaskGroup(of: ActionOutcome?.self) { group in
            group.addTask { await handler.invoke(invocation, binding: binding) }
            group.addTask {
                do { try await clock.sleep(until: deadline) } catch { return nil }
                return .failure(ActionFailure(.timeout, "no answer within \(timeout) s (TimeoutSeconds)"))
            }
            var result: ActionOutcome = .failure(ActionFailure(.timeout, "no answer within \(timeout) s"))
            while let next = await group.next() {
                if let next {
                    result = next
                    break
                }
            }
            group.cancelAll()
            return result
        }
    }

    // MARK: Children

    @inline(never)
    func runChild(_ request: ChildRequest, parent: InstanceRecord) async throws -> ChildOutcome {
        if let existing = try await store.instance(id: request.childID) {
            var record = existing
            if request.compensate || !existing.status.isTerminal {
                let now = clock.now()
                guard let acquired = try await store.acquire(
                    existing.id, owner: owner, now: now, leaseUntil: now.addingTimeInterval(leaseDuration),
                    deadOwners: try await deadOwners())
                else { throw EngineError.heldElsewhere(existing.id, owner: existing.leaseOwner?.description ?? "?") }
                if request.compensate {
                    if existing.compensationStatus != .succeeded {
                        record = try await continueInstance(acquired, existing.status.isTerminal ? .compensate : .resume)
                        if record.compensationStatus == nil, record.status.isTerminal {
                            let again = try await store.acquire(record.id, owner: owner, now: clock.now(),
                                leaseUntil: clock.now().addingTimeInterval(leaseDuration), deadOwners: [])
                            if let again { record = try await continueInstance(again, .compensate) }
                        }
                    }
                } else {
                    record = try await continueInstance(acquired, .resume)
                }
            }
            return outcome(of: record)
        }
        if request.compensate {
            // The child was never created: there is nothing to undo.
            return ChildOutcome(instanceID: request.childID, forwardStatus: .failed, compensationStatus: .succeeded,
                                context: .object([:]), failure: nil)
        }
        if let chain = try await machineChain(above: parent, ifItHas: request.machineName) {
            // Started, the child would start its own ancestor again, and so on without end.
            return ChildOutcome(instanceID: request.childID, forwardStatus: .failed, compensationStatus: nil,
                                context: .object([:]), failure: FailureRecord(
                                    name: "SubMachineCycle",
                                    message: "not started: '\(request.machineName)' already runs above this instance ("
                                        + chain.joined(separator: " → ")
                                        + "); a machine cannot call itself, directly or through others"))
        }
        let workflow = try await workflow(named: request.machineName)
        try await saveDefinition(workflow)
        let driven = starting(workflow, id: request.childID, input: request.input, businessKey: nil,
                              parentID: parent.id, parentStepSeq: request.parentSeq)
        _ = try await createInstance(driven)
        try await drive(driven, alreadyApplied: true)
        return outcome(of: driven.instance)
    }

    /// The machines from the root instance down to `parent`, then `name`, when `name` is one of
    /// them (else nil). SL0106 catches a machine naming itself within one file; this catches a
    /// cycle through other files (A calls B, B calls A), which only the running chain shows.
    func machineChain(above parent: InstanceRecord, ifItHas name: String) async throws -> [String]? {
        var chain = [parent.workflowName]
        var next = parent.parentID
        // Bounded, should stored parent links ever loop.
        while let id = next, chain.count < 10_000, let ancestor = try await store.instance(id: id) {
            chain.append(ancestor.workflowName)
            next = ancestor.parentID
        }
        guard chain.contains(name) else { return nil }
        return chain.reversed() + [name]
    }

    func outcome(of record: InstanceRecord) -> ChildOutcome {
        ChildOutcome(instanceID: record.id, forwardStatus: record.forwardStatus,
                     compensationStatus: record.compensationStatus, context: record.context, failure: record.failure)
    }

    // MARK: Definitions

    func saveDefinition(_ workflow: Workflow) async throws {
        let source = workflows.withLock { $0.sources[workflow.fingerprint] }
        guard let source else { return }
        let stored = workflows.withLock { $0.saved.contains(workflow.fingerprint) }
        if stored { return }
        try await store.saveDefinition(StoredDefinition(
            fingerprint: workflow.fingerprint, name: workflow.name, path: workflow.path, source: source,
            createdAt: clock.now()))
        workflows.withLock { _ = $0.saved.insert(workflow.fingerprint) }
    }

    /// The workflow an instance was started with: cached, or compiled from the stored source.
    public func workflow(fingerprint: String) async throws -> Workflow {
        if let cached = workflows.withLock({ $0.byFingerprint[fingerprint] }) { return cached }
        guard let stored = try await store.definition(fingerprint: fingerprint) else {
            throw EngineError.definition("the definition \(fingerprint.prefix(12)) of this instance is not in the database")
        }
        let result = WorkflowPipeline.compile(text: stored.source, path: stored.path)
        guard let workflow = result.workflow else {
            throw EngineError.definition("the stored definition of '\(stored.name)' (\(stored.path)) no longer compiles with this version of sagactl")
        }
        guard workflow.fingerprint == fingerprint else {
            throw EngineError.definition("the stored definition of '\(stored.name)' compiles to a different fingerprint; this build reads it differently")
        }
        workflows.withLock {
            $0.byFingerprint[fingerprint] = workflow
            $0.sources[fingerprint] = stored.source
            _ = $0.saved.insert(fingerprint)
        }
        return workflow
    }

    func workflow(named name: String) async throws -> Workflow {
        if let known = workflows.withLock({ $0.byName[name] }) { return known }
        if let path = workflows.withLock({ $0.resolver })?(name) {
            let workflow = try register(path: path)
            if workflow.name == name { return workflow }
        }
        throw EngineError.definition("no workflow named '\(name)' is registered for SubStateMachine; put its file next to the parent's")
    }

    // MARK: Leases

    /// Owners on this host whose process is gone: their leases are void at once.
    public func deadOwners() async throws -> Set<LeaseOwner> {
        let holders = try await store.leaseHolders()
        return holders.filter(isDead)
    }

    /// An owner on this host, other than this engine, whose process no longer exists.
    func isDead(_ holder: LeaseOwner) -> Bool {
        holder.host == owner.host && holder != owner && !ProcessLiveness.isAlive(holder.pid)
    }

    /// Runs `body` while the leases of every instance this engine is driving are renewed.
    ///
    /// One renewal loop serves the whole engine, however many instances it drives: it renews
    /// every held lease in one statement each `leaseDuration / 3`. It starts with the first
    /// caller and stops when it wakes with no caller left (`LeaseRenewal`). (One loop per
    /// caller made each of them renew every held lease: with N instances waiting in long calls,
    /// N timers and N×N renewals.)
    func withLeaseRenewal<T>(_ body: () async throws -> T) async throws -> T {
        leaseRenewal.enter(self)
        defer { leaseRenewal.leave() }
        return try await body()
    }

    func emit(_ event: EngineEvent) {
        observer.withLock { $0 }?(event)
    }
}

/// Progress of instances, for `sagactl run`'s live output and for metrics.
public enum EngineEvent: Sendable {
    case started(InstanceID, workflow: String)
    case resumed(InstanceID, workflow: String)
    case calling(InstanceID, state: String, attempt: Int, phase: StepPhase)
    case called(InstanceID, state: String, phase: StepPhase, outcome: ActionOutcome, seconds: Double)
    case retryScheduled(InstanceID, at: Date)
    case finished(InstanceID, status: InstanceStatus)
    /// A worker could not run a claimed instance (its definition is missing, a store error).
    case failedToRun(InstanceID, reason: String)
    /// Renewing the leases of the instances this engine drives failed (tried again at the next
    /// renewal, a third of the lease later).
    case leaseRenewalFailed(instances: Int, reason: String)
    /// An outbox message was delivered, will be retried, or failed for good.
    case outbox(OutboxMessage)
}

/// A workflow file with errors.
public struct WorkflowLoadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var diagnostics: [Diagnostic]
    public var source: SourceFile?

    public var description: String {
        let renderer = DiagnosticRenderer()
        return diagnostics.filter { $0.severity == .error }
            .map { renderer.render($0, path: path, source: source) }.joined()
    }
}

enum ProcessLiveness {
    static func isAlive(_ pid: Int32) -> Bool {
        if pid <= 0 { return false }
        if kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }
}
