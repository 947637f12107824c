import Foundation
import Interpreter
import Testing

/// DESIGN §5, scaled out: three `sagactl worker` processes share one database and 1,000
/// sagas; one is killed with SIGKILL mid-run. Every instance still ends exactly as an
/// uninterrupted run would, no (idempotency key, attempt) is called twice and no logical step
/// succeeds twice, the history shows no instance run by two workers at once (each step row
/// names the executor that made it), and the survivors' first step on each of the dead
/// worker's instances comes within one lease period of the kill (plus slack for a busy machine).
@Suite("Many workers on one database", .serialized)
struct MultiWorkerTests {
    static let services = "examples/services-exec.yaml"
    static let sagas = 1_000
    static let leaseSeconds = 3.0
    /// Time on top of the lease for a survivor to have a free slot and claim (polls every 0.2 s)
    /// on a machine shared with other builds.
    static let takeoverSlack = 7.0

    @Test(arguments: TestDatabase.underTest)
    func threeWorkersOneKilledEverySagaEndsOnce(database: TestDatabase) async throws {
        let dir = try CLI.temporaryDirectory()
        defer {
            do { try FileManager.default.removeItem(at: dir) } catch { Issue.record("removing \(dir.path): \(error)") }
        }
        let log = dir.appendingPathComponent("calls.log")
        let label = database.rawValue
        try await database.with(directory: dir) { location, store in
            try await Self.scenario(label: label, location: location, store: store, directory: dir, log: log)
        }
    }

    /// Starts the sagas, runs three workers, kills one, and checks the outcome.
    static func scenario(label: String, location: String, store: any InstanceStore, directory dir: URL, log: URL)
        async throws
    {
        let environment = ["SAGACTL_DB": location]
        let began = Date()
        let declined = try await Self.startInstances(environment: environment, directory: dir)
        try #require(declined.count == Self.sagas)
        Self.report(label, "started \(Self.sagas) sagas with one `sagactl start --inputs` in \(Self.seconds(Date().timeIntervalSince(began)))")

        let shop = environment.merging(
            ["SHOP_LOG": log.path, "SHOP_FAIL_IF": #"pay:"amount":999"#, "SHOP_SLEEP": "0.01"]) { _, b in b }
        let arguments = ["worker", "--concurrency", "8", "--lease-seconds", "\(Self.leaseSeconds)", "--services", Self.services]
        let workers = try (0..<3).map { n in
            try CLI.spawn(arguments, environment: shop, stderr: dir.appendingPathComponent("worker-\(n).err"))
        }
        // What the workers said and what is left, for a failure message.
        let diagnose: @Sendable () async -> String = {
            var text = ""
            for n in 0..<3 {
                let err = (try? String(contentsOf: dir.appendingPathComponent("worker-\(n).err"), encoding: .utf8)) ?? ""
                text += "worker \(n) (pid \(workers[n].processIdentifier)) said:\n"
                    + Self.remarks(err).prefix(25).joined(separator: "\n") + "\n"
            }
            if let live = try? await store.listInstances(InstanceQuery(status: .running, limit: 20)) {
                text += "running: " + live.map { "\($0.id) held by \($0.leaseOwner?.description ?? "nobody") until "
                    + "\($0.leaseExpiresAt.map { "\($0)" } ?? "-")" }.joined(separator: "; ")
            }
            return text
        }
        defer {
            for worker in workers where worker.isRunning { kill(worker.processIdentifier, SIGKILL) }
        }
        let victim = workers[0]

        // Mid-run: a fifth of the sagas ended and the victim holds some of the others.
        _ = try await pollFor(
            "a fifth of the sagas to end with the first worker holding instances", seconds: 180, diagnose
        ) { () -> Set<InstanceID>? in
            let counts = try await store.countByStatus()
            let ended = Self.sagas - (counts[.running] ?? 0) - (counts[.compensating] ?? 0)
            guard ended >= Self.sagas / 5 else { return nil }
            let held = try await Self.live(store, heldBy: victim.processIdentifier)
            return held.isEmpty ? nil : held
        }
        kill(victim.processIdentifier, SIGKILL)
        let killedAt = Date()
        let callsBeforeKill = ShopCall.read(log).count
        await CLI.waitForExit(victim)
        #expect(victim.terminationReason == .uncaughtSignal)
        // What it held when it died: it may have finished some between the poll and the kill.
        let heldAtKill = try await Self.live(store, heldBy: victim.processIdentifier)

        // Takeover: no live instance is left with the dead worker.
        try await poll("the survivors to take over the dead worker's instances", seconds: 60, diagnose) {
            try await Self.live(store, heldBy: victim.processIdentifier).isEmpty
        }

        try await poll("every saga to end", seconds: 300, diagnose) {
            let counts = try await store.countByStatus()
            return (counts[.running] ?? 0) + (counts[.compensating] ?? 0) == 0
        }
        // IsAsync notifications go through the outbox after their saga: wait for delivery too.
        try await poll("the outbox to deliver every notification", seconds: 60, diagnose) {
            try await store.listOutbox(status: .pending, limit: 1).isEmpty
        }
        let ended = Date().timeIntervalSince(killedAt)
        Self.report(label, "every saga ended \(Self.seconds(ended)) after the kill")
        for survivor in workers.dropFirst() {
            #expect(survivor.isRunning, "a surviving worker exited early")
            kill(survivor.processIdentifier, SIGTERM)
        }
        try await poll("the survivors to stop after SIGTERM", seconds: 60, diagnose) {
            workers.dropFirst().allSatisfy { !$0.isRunning }
        }
        let said = await diagnose()
        for survivor in workers.dropFirst() {
            await CLI.waitForExit(survivor)
            #expect(survivor.terminationReason == .exit && survivor.terminationStatus == 0,
                    "reason \(survivor.terminationReason.rawValue), status \(survivor.terminationStatus): \(said)")
        }

        let records = try await store.listInstances(InstanceQuery(topLevelOnly: true, limit: 10_000))
        #expect(records.count == Self.sagas)
        // What it really abandoned. A PostgreSQL server completes a commit it received before
        // the kill, and may apply it after `heldAtKill` was read: an instance that commit ended
        // is the victim's own work, stamped before it died (a dead process writes nothing later).
        let endedByLastCommit = records.filter {
            heldAtKill.contains($0.id) && $0.status.isTerminal && $0.leaseOwner?.pid == victim.processIdentifier
                && $0.updatedAt <= killedAt
        }
        let abandoned = heldAtKill.subtracting(endedByLastCommit.map(\.id))
        if !endedByLastCommit.isEmpty {
            Self.report(label, "\(endedByLastCommit.count) instance(s) ended by the killed worker's last commit, applied after the kill")
        }
        let calls = ShopCall.read(log)
        // Had two workers run one instance at once, or one call been repeated under the same
        // attempt, some (key, attempt) would appear twice.
        // Outbox deliveries (NotifyUser) are at least once by design (DESIGN §6): a dispatcher
        // killed between sending and recording sends again; receivers deduplicate by key.
        var seen: [String: Int] = [:]
        for call in calls where call.state != "NotifyUser" { seen["\(call.key)#\(call.attempt)", default: 0] += 1 }
        #expect(seen.values.allSatisfy { $0 == 1 }, "\(seen.filter { $0.value > 1 })")
        for record in records {
            let isDeclined = try #require(declined[record.id] as Bool?)
            #expect(record.status == (isDeclined ? .compensated : .succeeded), "instance \(record.id)")
            let mine = calls.filter { $0.instance == record.id }
            for state in Set(mine.map(\.state)) {
                let keys = Set(mine.filter { $0.state == state }.map(\.key))
                #expect(keys.count == 1, "\(record.id) \(state) was called with keys \(keys)")
            }
            var order: [String] = []
            for call in mine where !order.contains(call.state) { order.append(call.state) }
            let points = record.input["points"] == .int(1)
            #expect(order == CrashRecoveryTests.expectedStates(declined: isDeclined, points: points),
                    "instance \(record.id): \(order)")
        }
        // The dead worker's instances were finished by the others (a finished instance keeps
        // its last owner), and those stopped mid-call were called again after the kill.
        for record in records where abandoned.contains(record.id) {
            #expect(record.leaseOwner != nil && record.leaseOwner?.pid != victim.processIdentifier,
                    "\(record.id) was finished by \(record.leaseOwner?.description ?? "nobody")")
        }
        let calledAfterKill = Set(calls.dropFirst(callsBeforeKill).map(\.instance))
        #expect(abandoned.isEmpty || !abandoned.isDisjoint(with: calledAfterKill))

        // From the history: one executor at a time per instance, each logical step succeeded
        // at most once, and the survivors' first step on each abandoned instance came within
        // a lease period of the kill.
        var takeovers: [TimeInterval] = []
        for record in records {
            let steps = try await store.steps(of: record.id)
            if let overlap = Self.overlappingExecutors(steps) { Issue.record("\(record.id): \(overlap)") }
            var succeeded: [String: Int] = [:]
            for step in steps where step.status == .succeeded { succeeded[step.idempotencyKey, default: 0] += 1 }
            #expect(succeeded.values.allSatisfy { $0 == 1 }, "\(record.id): \(succeeded.filter { $0.value > 1 })")
            guard abandoned.contains(record.id) else { continue }
            let bySurvivors = steps.filter { step in step.executor.map { $0.pid != victim.processIdentifier } ?? false }
            takeovers.append((bySurvivors.map(\.startedAt).min() ?? record.updatedAt).timeIntervalSince(killedAt))
        }
        #expect(takeovers.count == abandoned.count)
        if let slowest = takeovers.max() {
            let text = "the killed worker held \(abandoned.count) instances; the survivors' first step on them came "
                + "\(Self.seconds(takeovers.min() ?? 0)) to \(Self.seconds(slowest)) after the kill (lease \(Self.leaseSeconds) s)"
            Self.report(label, text)
            #expect(slowest <= Self.leaseSeconds + Self.takeoverSlack, "\(text)")
        }
    }

    @Test("The history check sees two executors at once, a returning executor and a row without one")
    func overlapCheckerCatchesWhatItMust() {
        let a = LeaseOwner(host: "h", pid: 1, nonce: "a")
        let b = LeaseOwner(host: "h", pid: 2, nonce: "b")
        func row(_ seq: Int, _ owner: LeaseOwner?, _ start: TimeInterval, _ end: TimeInterval?,
                 interrupted: Bool = false) -> StepRecord {
            StepRecord(instanceID: "i", seq: seq, stateName: "S\(seq)", phase: .forward,
                       status: interrupted ? .unknown : .succeeded,
                       failure: interrupted ? FailureRecord(name: "Interrupted", message: "") : nil,
                       idempotencyKey: "i:\(seq)", startedAt: Date(timeIntervalSince1970: start),
                       endedAt: end.map { Date(timeIntervalSince1970: $0) }, executor: owner)
        }
        // A takeover: a's call at 2 never returned (b marked it Interrupted at 9); b goes on.
        let takeover = [row(1, a, 0, 1), row(2, a, 2, 9, interrupted: true), row(3, b, 5, 6), row(4, b, 7, 8)]
        #expect(Self.overlappingExecutors(takeover) == nil)
        // b starts while a's finished call was still running.
        #expect(Self.overlappingExecutors([row(1, a, 0, 4), row(2, b, 3, 5)]) != nil)
        // a comes back after b took over.
        #expect(Self.overlappingExecutors([row(1, a, 0, 1), row(2, b, 2, 3), row(3, a, 4, 5)]) != nil)
        #expect(Self.overlappingExecutors([row(1, nil, 0, 1)]) != nil)
    }

    /// Why the rows of one instance show two executors at once, or nil. Each executor's span
    /// runs from the start of its first row to the end of its last; a row that another
    /// executor marked `Interrupted` ends, for its own executor, where it started (the call
    /// never returned to it). Spans must follow one another without overlap, an executor must
    /// not come back after another took over, and every row must name its executor.
    static func overlappingExecutors(_ steps: [StepRecord]) -> String? {
        var spans: [(owner: LeaseOwner, first: Date, last: Date, seqs: ClosedRange<Int>)] = []
        for step in steps.sorted(by: { $0.seq < $1.seq }) {
            guard let owner = step.executor else { return "step \(step.seq) names no executor" }
            let end = step.failure?.name == "Interrupted" ? step.startedAt : (step.endedAt ?? step.startedAt)
            if let last = spans.last, last.owner == owner {
                spans[spans.count - 1] = (owner, last.first, max(last.last, end), last.seqs.lowerBound...step.seq)
            } else if spans.contains(where: { $0.owner == owner }) {
                return "\(owner) made step \(step.seq) after another executor had taken the instance over"
            } else {
                spans.append((owner, step.startedAt, end, step.seq...step.seq))
            }
        }
        for (before, after) in zip(spans, spans.dropFirst()) where after.first < before.last {
            return "\(after.owner) started step \(after.seqs.lowerBound) at \(after.first) while \(before.owner) "
                + "was still running steps \(before.seqs) (until \(before.last))"
        }
        return nil
    }

    /// Starts `sagas` order-payment instances with one `sagactl start --inputs`; every third
    /// pays 999, which the shop declines. Returns id → declined.
    static func startInstances(environment: [String: String], directory: URL) async throws -> [String: Bool] {
        var lines: [String] = []
        for n in 0..<sagas {
            // 20 + n % 900 stays below 999, the amount the shop declines.
            let amount = n % 3 == 0 ? 999 : 20 + n % 900
            lines.append(#"{"ref": "mw-\#(n)", "userId": \#(n), "productId": 1, "quantity": 1, "amount": \#(amount), "points": \#(n % 2)}"#)
        }
        let file = directory.appendingPathComponent("inputs.ndjson")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let started = try await CLI.run(
            ["start", "workflows/order-payment.yaml", "--inputs", file.path, "--business-key-field", "ref",
             "--services", services, "--json"],
            environment: environment, timeout: 180)
        try #require(started.status == 0, "\(started.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(started.stdout.utf8)) as? [[String: Any]])
        var results: [String: Bool] = [:]
        for row in rows {
            let line = try #require(row["line"] as? Int)
            let id = try #require(row["id"] as? String)
            #expect(row["created"] as? Bool == true, "line \(line)")
            #expect(row["business_key"] as? String == "mw-\(line - 1)")
            results[id] = (line - 1) % 3 == 0
        }
        return results
    }

    /// Prints a measurement, for the record.
    static func report(_ label: String, _ text: String) {
        print("[\(label)] \(text)")
    }

    /// "1.23 s".
    static func seconds(_ interval: TimeInterval) -> String {
        "\((interval * 100).rounded() / 100) s"
    }

    /// A worker's standard error without its "<id> <status>" lines: errors, and the start of a
    /// crash report.
    static func remarks(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, parts[0].count == 26 else { return true }
            return InstanceStatus(rawValue: String(parts[1])) == nil
        }
    }

    /// Running or compensating instances whose lease owner is the process `pid` on this host.
    static func live(_ store: any InstanceStore, heldBy pid: Int32) async throws -> Set<InstanceID> {
        var held: Set<InstanceID> = []
        for status in [InstanceStatus.running, .compensating] {
            for record in try await store.listInstances(InstanceQuery(status: status, limit: 10_000))
            where record.leaseOwner?.pid == pid && record.leaseOwner?.host == LeaseOwner.current.host {
                held.insert(record.id)
            }
        }
        return held
    }
}

/// Polls `condition` every 50 ms until it holds; fails the test after `seconds`, with what
/// `diagnose` says.
func poll(
    _ what: String, seconds: TimeInterval, _ diagnose: @Sendable () async -> String = { "" },
    _ condition: () async throws -> Bool
) async throws {
    _ = try await pollFor(what, seconds: seconds, diagnose) { try await condition() ? true : nil }
}

/// Polls `produce` every 50 ms until it returns a value; fails the test after `seconds`.
func pollFor<T>(
    _ what: String, seconds: TimeInterval, _ diagnose: @Sendable () async -> String = { "" },
    _ produce: () async throws -> T?
) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let value = try await produce() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw PollTimeout(description: "timed out after \(Int(seconds)) s waiting for \(what). \(await diagnose())")
}

struct PollTimeout: Error, CustomStringConvertible {
    var description: String
}
