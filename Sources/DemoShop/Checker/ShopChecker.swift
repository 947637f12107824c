import Foundation

/// Judges a shop after a run: reads the five databases and verifies the invariants listed in
/// `Invariant` (stock, money and points conserved, one capture per paid order, no effect
/// applied twice for one key) and, for each saga in `sagas`, that a succeeded saga's effects
/// are all there once and a rolled-back saga's effects are all undone.
///
/// Run it after the services are stopped (or idle) and after asynchronous steps are
/// delivered (the notification goes through the outbox).
public enum ShopChecker {
    public static func check(directory: URL, sagas: [SagaSummary]) throws -> CheckReport {
        evaluate(try ShopSnapshot.read(directory: directory), sagas: sagas)
    }

    static func evaluate(_ snapshot: ShopSnapshot, sagas: [SagaSummary]) -> CheckReport {
        var findings = Findings()
        checkStock(snapshot, &findings)
        checkMoney(snapshot, &findings)
        checkPoints(snapshot, &findings)
        checkIdempotency(snapshot, &findings)
        let unsettled = checkSagas(snapshot, sagas: sagas, &findings)
        return CheckReport(
            violations: findings.violations, unsettledSagas: unsettled,
            statistics: statistics(snapshot, sagas: sagas))
    }

    static func statistics(_ snapshot: ShopSnapshot, sagas: [SagaSummary]) -> ShopStatistics {
        var statistics = ShopStatistics()
        statistics.sagas = sagas.count
        statistics.products = snapshot.products.count
        statistics.unitsSold = snapshot.products.reduce(0) { $0 + $1.sold }
        statistics.unitsReserved = snapshot.products.reduce(0) { $0 + $1.reserved }
        statistics.ordersCreated = snapshot.orders.count { $0.status == "created" }
        statistics.ordersCancelled = snapshot.orders.count { $0.status == "cancelled" }
        statistics.paymentsCaptured = snapshot.payments.count { $0.status == "captured" }
        statistics.paymentsRefunded = snapshot.payments.count { $0.status == "refunded" }
        statistics.moneyCaptured = snapshot.payments.filter { $0.status == "captured" }.reduce(0) { $0 + ($1.amount ?? 0) }
        statistics.pointsDeducted = snapshot.deductions.filter { $0.status == "deducted" }.reduce(0) { $0 + ($1.amount ?? 0) }
        statistics.messages = snapshot.messages.count
        statistics.duplicateDeliveries = snapshot.duplicateDeliveries
        let replies = snapshot.replies.values.joined()
        statistics.replayedRequests = replies.reduce(0) { $0 + $1.replays }
        statistics.refusedLateForwards = replies.count { $0.error == "AlreadyCompensated" }
        for (service, effects) in snapshot.effectsByService {
            let made = Set(effects.map(\.saga))
            statistics.emptyCompensations += (snapshot.tombstones[service] ?? []).count { !made.contains($0.saga) }
        }
        return statistics
    }
}

/// Violations collected per invariant, in the order of `Invariant.allCases`.
struct Findings {
    private var byInvariant: [Invariant: (ids: [String], details: [String])] = [:]

    mutating func add(_ invariant: Invariant, id: String, _ detail: String) {
        byInvariant[invariant, default: ([], [])].ids.append(id)
        byInvariant[invariant, default: ([], [])].details.append(detail)
    }

    var violations: [Violation] {
        Invariant.allCases.compactMap { invariant in
            byInvariant[invariant].map { Violation(invariant: invariant, ids: $0.ids, details: $0.details) }
        }
    }
}
