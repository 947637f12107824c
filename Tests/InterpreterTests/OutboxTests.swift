import Foundation
import Testing
@testable import Interpreter
import StateLang

@Suite("Outbox (DESIGN §6)")
struct OutboxTests {
    static let yaml = """
        Name: notify
        StartState: Pay
        States:
          Pay: { Type: ServiceTask, ServiceName: shop, ServiceMethod: pay, Next: Notify }
          Notify: { Type: ServiceTask, ServiceName: mail, ServiceMethod: send, IsAsync: true,
                    Input: [{ to: "$.[user]" }], Next: Done }
          Done: { Type: Succeed }
        """

    @Test("An IsAsync state is SU at once and its call is written to the outbox in the same transition")
    func asyncStateWritesTheOutbox() throws {
        var h = MachineHarness(try compileWorkflow(Self.yaml), input: ["user": "ann"])
        h.run()
        #expect(h.callOrder == ["Pay"])
        #expect(h.status == .succeeded)
        let last = try #require(h.transitions.last)
        #expect(last.outbox.count == 1)
        let message = try #require(last.outbox.first)
        #expect(message.stateName == "Notify")
        #expect(message.input == ["to": "ann"])
        #expect(message.id == h.lastRow("Notify")?.idempotencyKey)
        #expect(last.steps.contains { $0.stateName == "Notify" && $0.status == .succeeded })
        #expect(h.transitions.dropLast().allSatisfy { $0.outbox.isEmpty })
    }

    @Test("The dispatcher retries with backoff, then marks the message failed; retry delivers it")
    func dispatcher() async throws {
        let store = InMemoryInstanceStore()
        let clock = ManualClock()
        let engine = SagaEngine(store: store, clock: clock)
        let workflow = try #require(WorkflowPipeline.compile(text: Self.yaml, path: "n.yaml").workflow)
        engine.register(workflow, source: Self.yaml)
        let mailUp = Locked(false)
        let sent = Locked([String]())
        engine.localActions.register(service: "shop") { _ in [:] }
        engine.localActions.register(service: "mail") { call in
            guard mailUp.withLock({ $0 }) else { throw ActionFailure(.connectionRefused, "mail is down") }
            sent.withLock { $0.append(call.idempotencyKey) }
            return .null
        }
        let record = try await engine.run(workflow, input: ["user": "ann"])
        #expect(record.status == .succeeded)
        var attempts: [OutboxMessage] = []
        attempts += try await engine.deliverDueOutbox()
        #expect(attempts.last?.status == .pending)
        #expect(attempts.last?.nextAttemptAt == clock.now().addingTimeInterval(1))
        #expect(try await engine.deliverDueOutbox().isEmpty)  // not due yet
        clock.advance(by: 1)
        attempts += try await engine.deliverDueOutbox()
        #expect(attempts.last?.nextAttemptAt == clock.now().addingTimeInterval(2))
        clock.advance(by: 2)
        attempts += try await engine.deliverDueOutbox()
        #expect(attempts.map(\.attempts) == [1, 2, 3])
        #expect(attempts.last?.status == .failed)
        #expect(attempts.last?.lastError?.name == "ConnectionRefused")

        mailUp.withLock { $0 = true }
        let id = try #require(attempts.last?.id)
        _ = try await store.retryOutbox(id: id, now: clock.now())
        let delivered = try await engine.deliverDueOutbox()
        #expect(delivered.first?.status == .delivered)
        #expect(sent.withLock { $0 } == [id])
    }
}
