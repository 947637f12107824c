/// The outcome of `ShopChecker.check`: every violated invariant with the ids that break it.
public struct CheckReport: Sendable, Equatable, Codable, CustomStringConvertible {
    public var violations: [Violation]
    /// Sagas whose status is not final (running, compensating, unknown, needs-intervention):
    /// their per-saga rules are not checked; the global ones still are.
    public var unsettledSagas: [String]
    public var statistics: ShopStatistics

    /// True only with zero violations.
    public var passed: Bool { violations.isEmpty }

    public init(violations: [Violation], unsettledSagas: [String], statistics: ShopStatistics) {
        self.violations = violations
        self.unsettledSagas = unsettledSagas
        self.statistics = statistics
    }

    private enum CodingKeys: String, CodingKey {
        case passed, violations, unsettledSagas, statistics
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            violations: try container.decode([Violation].self, forKey: .violations),
            unsettledSagas: try container.decode([String].self, forKey: .unsettledSagas),
            statistics: try container.decode(ShopStatistics.self, forKey: .statistics))
    }

    /// Encodes `passed` too, for scripts reading `--json` output.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(passed, forKey: .passed)
        try container.encode(violations, forKey: .violations)
        try container.encode(unsettledSagas, forKey: .unsettledSagas)
        try container.encode(statistics, forKey: .statistics)
    }

    public func violations(of invariant: Invariant) -> Violation? {
        violations.first { $0.invariant == invariant }
    }

    public var description: String {
        var lines = [passed ? "consistency check passed" : "consistency check FAILED: \(violations.count) invariant(s) violated"]
        lines += violations.map(\.description)
        if !unsettledSagas.isEmpty {
            lines.append("not judged (not settled): \(unsettledSagas.count) saga(s): \(unsettledSagas.prefix(10).joined(separator: ", "))")
        }
        lines.append(statistics.description)
        return lines.joined(separator: "\n")
    }
}

/// One invariant and everything that breaks it: `ids` name the offenders (`product 3`,
/// `o-12`, a saga instance id, an idempotency key), `details` say how, one line each.
public struct Violation: Sendable, Equatable, Codable, CustomStringConvertible {
    public var invariant: Invariant
    public var ids: [String]
    public var details: [String]

    public var description: String {
        let shown = details.prefix(20).map { "  - \($0)" }
        let more = details.count > 20 ? ["  … and \(details.count - 20) more"] : []
        return (["\(invariant.rawValue): \(invariant.summary)"] + shown + more).joined(separator: "\n")
    }
}

/// The invariants the checker verifies. Raw values are stable slugs for scripts.
public enum Invariant: String, Sendable, Equatable, Codable, CaseIterable {
    // Stock (inventory)
    case stockOversold = "stock-oversold"
    case stockNotConserved = "stock-not-conserved"
    case stockLedgerMismatch = "stock-ledger-mismatch"
    // Money (payments) and orders
    case negativeBalance = "negative-balance"
    case moneyNotConserved = "money-not-conserved"
    case duplicateCapture = "duplicate-capture"
    case paymentForUnknownOrder = "payment-for-unknown-order"
    case cancelledOrderNotRefunded = "cancelled-order-not-refunded"
    // Points
    case negativePoints = "negative-points"
    case pointsNotConserved = "points-not-conserved"
    // Idempotency
    case duplicateEffect = "duplicate-effect"
    case effectWithoutReply = "effect-without-reply"
    // Per saga
    case effectOfUnknownSaga = "effect-of-unknown-saga"
    case succeededSagaIncomplete = "succeeded-saga-incomplete"
    case succeededSagaNotNotified = "succeeded-saga-not-notified"
    case sagaNotifiedMoreThanOnce = "saga-notified-more-than-once"
    case succeededSagaCompensated = "succeeded-saga-compensated"
    case stockNotReleased = "stock-not-released"
    case orderNotCancelled = "order-not-cancelled"
    case paymentNotRefunded = "payment-not-refunded"
    case pointsNotReturned = "points-not-returned"
    case rolledBackSagaNotified = "rolled-back-saga-notified"

    /// The invariant in one sentence.
    public var summary: String {
        switch self {
        case .stockOversold: "no product has negative stock or more sold than it ever had"
        case .stockNotConserved: "available + reserved + sold equals the initial stock of every product"
        case .stockLedgerMismatch: "a product's reserved and sold units match its reservations"
        case .negativeBalance: "no balance is negative"
        case .moneyNotConserved: "balance + captured − refunded equals the initial balance of every customer"
        case .duplicateCapture: "every paid order has exactly one capture"
        case .paymentForUnknownOrder: "every payment is for an order the orders service knows"
        case .cancelledOrderNotRefunded: "every cancelled order is refunded"
        case .negativePoints: "no points balance is negative"
        case .pointsNotConserved: "points + deducted − returned equals the initial points of every customer"
        case .duplicateEffect: "no effect is applied twice for one Idempotency-Key"
        case .effectWithoutReply: "every effect has its reply stored under its Idempotency-Key"
        case .effectOfUnknownSaga: "every effect belongs to a saga in the list"
        case .succeededSagaIncomplete: "a succeeded saga has its stock sold, its order open, paid once and its points taken"
        case .succeededSagaNotNotified: "every succeeded saga notified its customer"
        case .sagaNotifiedMoreThanOnce: "no saga notified its customer twice (duplicate deliveries aside)"
        case .succeededSagaCompensated: "no compensation ran for a succeeded saga"
        case .stockNotReleased: "every rolled-back saga's stock is released (or was never reserved)"
        case .orderNotCancelled: "every rolled-back saga's order is cancelled (or was never created)"
        case .paymentNotRefunded: "every rolled-back saga's payment is refunded (or was never taken)"
        case .pointsNotReturned: "every rolled-back saga's points are returned (or were never deducted)"
        case .rolledBackSagaNotified: "no rolled-back saga notified its customer"
        }
    }
}

/// Counts that describe a run; not judged.
public struct ShopStatistics: Sendable, Equatable, Codable, CustomStringConvertible {
    public var sagas = 0
    public var products = 0
    public var unitsSold = 0
    public var unitsReserved = 0
    public var ordersCreated = 0
    public var ordersCancelled = 0
    public var paymentsCaptured = 0
    public var paymentsRefunded = 0
    /// Money held in captures that are not refunded.
    public var moneyCaptured = 0
    public var pointsDeducted = 0
    public var messages = 0
    /// Deliveries of a message whose key was seen before (not new messages).
    public var duplicateDeliveries = 0
    /// Requests answered from the reply table (a repeated Idempotency-Key), all services.
    public var replayedRequests = 0
    /// Compensations that found nothing to undo.
    public var emptyCompensations = 0
    /// Forward calls refused because their saga's compensation ran first.
    public var refusedLateForwards = 0

    public init() {}

    public var description: String {
        "sagas \(sagas); products \(products): \(unitsSold) units sold, \(unitsReserved) reserved; "
            + "orders \(ordersCreated) open, \(ordersCancelled) cancelled; "
            + "payments \(paymentsCaptured) captured (\(moneyCaptured)), \(paymentsRefunded) refunded; "
            + "points deducted \(pointsDeducted); messages \(messages) (+\(duplicateDeliveries) duplicate deliveries); "
            + "replayed requests \(replayedRequests); empty compensations \(emptyCompensations); "
            + "late forwards refused \(refusedLateForwards)"
    }
}
