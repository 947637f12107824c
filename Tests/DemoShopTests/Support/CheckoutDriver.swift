import Foundation
import StateLang
import Testing

@testable import DemoShop

/// Runs the checkout of `workflows/order-payment.yaml` against the shop over HTTP the way the
/// engine does: one idempotency key per step, retries of network errors and 5xx with the same
/// key, and on a refusal (4xx) the compensations of the steps that ran (or may have run), newest
/// first, each retried until it succeeds.
struct CheckoutDriver {
    let shop: RunningShop
    /// Attempts per step before a forward step is given up (and compensated as uncertain).
    var maxAttempts = 30
    var timeout: Duration = .seconds(20)

    private struct Step {
        var operation: ShopOperation
        var state: String
        var fields: [String]
        var output: String?
    }

    private static let forward: [Step] = [
        Step(operation: .reserve, state: "ReserveStock", fields: ["productId", "quantity"], output: "reservationId"),
        Step(operation: .create, state: "CreateOrder", fields: ["userId", "productId", "quantity", "amount"], output: "orderId"),
        Step(operation: .pay, state: "Pay", fields: ["userId", "orderId", "amount"], output: "paymentId"),
        Step(operation: .deduct, state: "DeductPoints", fields: ["userId", "points"], output: nil),
        Step(operation: .confirm, state: "ConfirmStock", fields: ["reservationId"], output: nil),
        Step(operation: .send, state: "NotifyUser", fields: ["userId", "orderId", "message"], output: nil),
    ]

    private static let compensation: [ShopOperation: Step] = [
        .reserve: Step(operation: .release, state: "ReleaseStock", fields: ["productId", "quantity", "reservationId"]),
        .create: Step(operation: .cancel, state: "CancelOrder", fields: ["orderId"]),
        .pay: Step(operation: .refund, state: "Refund", fields: ["userId", "orderId", "paymentId", "amount"]),
        .deduct: Step(operation: .return, state: "ReturnPoints", fields: ["userId", "points"]),
    ]

    enum StepOutcome {
        case done(JSONValue)
        case refused(String)
        case gaveUp(ClientOutcome)
    }

    /// Runs one saga to its end. `abortBefore` stops the forward flow before that operation,
    /// as if it had failed for good, and compensates.
    func run(saga: String, input: JSONValue, abortBefore: ShopOperation? = nil) async throws -> SagaSummary {
        var context = input.objectValue ?? [:]
        context["message"] = "Your order is confirmed."
        var ran: [ShopOperation] = []
        for step in Self.forward {
            if step.operation == .deduct, (context["points"]?.doubleValue ?? 0) <= 0 { continue }
            if step.operation == abortBefore { return try await compensate(saga, ran, context, input) }
            switch try await attempt(step, saga: saga, context: context) {
            case .done(let result):
                ran.append(step.operation)
                if let output = step.output { context[output] = result[output] ?? .null }
            case .refused:
                return try await compensate(saga, ran, context, input)
            case .gaveUp:
                // The step may have taken effect: compensate it too.
                ran.append(step.operation)
                return try await compensate(saga, ran, context, input)
            }
        }
        return SagaSummary(instanceID: saga, status: .succeeded, input: input)
    }

    private func compensate(
        _ saga: String, _ ran: [ShopOperation], _ context: [String: JSONValue], _ input: JSONValue
    ) async throws -> SagaSummary {
        for operation in ran.reversed() {
            guard let step = Self.compensation[operation] else { continue }
            var outcome = try await attempt(step, saga: saga, context: context)
            var rounds = 0
            while case .gaveUp = outcome, rounds < 10 {
                outcome = try await attempt(step, saga: saga, context: context)
                rounds += 1
            }
            guard case .done = outcome else {
                Issue.record("compensation \(step.operation) of \(saga) ended with \(outcome)")
                return SagaSummary(instanceID: saga, status: .needsIntervention, input: input)
            }
        }
        return SagaSummary(instanceID: saga, status: .compensated, input: input)
    }

    private func attempt(_ step: Step, saga: String, context: [String: JSONValue]) async throws -> StepOutcome {
        var body: [String: JSONValue] = [:]
        for field in step.fields { body[field] = context[field] ?? .null }
        var last = ClientOutcome.noReply
        for _ in 0..<maxAttempts {
            last = await shop.call(
                step.operation, .object(body), key: "\(saga):\(step.state)", saga: saga, state: step.state, timeout: timeout)
            switch last {
            case .reply(let status, let result) where (200..<300).contains(status):
                return .done(result)
            case .reply(let status, let result) where (400..<500).contains(status):
                return .refused(result["error"]?.stringValue ?? "HTTP.\(status)")
            case .reply, .refused, .noReply, .timedOut:
                continue
            case .failed(let code):
                throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
            }
        }
        return .gaveUp(last)
    }
}
