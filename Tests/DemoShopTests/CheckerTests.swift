import Foundation
import GRDB
import StateLang
import Testing

@testable import DemoShop

/// Runs a consistent history in a fresh directory: two checkouts that succeed, four that are
/// rolled back for different reasons, and one empty compensation followed by a late forward
/// call. The shop is stopped before `body` runs.
func withHistory<T>(_ body: (URL, [SagaSummary]) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        let sagas = try await DemoShop.withRunningShop(directory: directory, seed: testSeed) { shop throws in
            let driver = CheckoutDriver(shop: shop)
            var sagas: [SagaSummary] = []
            // Succeeds with points, then without.
            sagas.append(try await driver.run(saga: "s-ok1", input: ["userId": 7, "productId": 1, "quantity": 2, "amount": 40, "points": 10]))
            sagas.append(try await driver.run(saga: "s-ok2", input: ["userId": 9, "productId": 1, "quantity": 1, "amount": 30, "points": 0]))
            // Refused payment: order cancelled, stock released.
            sagas.append(try await driver.run(saga: "s-funds", input: ["userId": 8, "productId": 1, "quantity": 1, "amount": 50, "points": 0]))
            // Refused reservation: nothing to undo.
            sagas.append(try await driver.run(saga: "s-stock", input: ["userId": 7, "productId": 2, "quantity": 5, "amount": 10, "points": 0]))
            // Refused points: payment refunded, order cancelled, stock released.
            sagas.append(try await driver.run(saga: "s-points", input: ["userId": 9, "productId": 1, "quantity": 1, "amount": 20, "points": 100]))
            // Fails before confirming: points returned too.
            sagas.append(
                try await driver.run(
                    saga: "s-abort", input: ["userId": 7, "productId": 1, "quantity": 1, "amount": 10, "points": 5], abortBefore: .confirm))
            // A reservation that timed out: compensated empty, then the late call is refused.
            #expect(await shop.call(.release, ["productId": 2, "quantity": 1, "reservationId": nil], key: "s-empty:ReleaseStock", saga: "s-empty").status == 200)
            #expect(await shop.call(.reserve, ["productId": 2, "quantity": 1], key: "s-empty:ReserveStock", saga: "s-empty").errorCode == "AlreadyCompensated")
            sagas.append(SagaSummary(instanceID: "s-empty", status: .compensated, input: ["userId": 7, "productId": 2, "quantity": 1, "amount": 10]))
            return sagas
        }
        return try await body(directory, sagas)
    }
}

@Suite("Consistency checker")
struct CheckerTests {
    @Test("a consistent history passes, with statistics that describe it")
    func consistentHistoryPasses() async throws {
        try await withHistory { directory, sagas in
        #expect(sagas.map(\.status) == [.succeeded, .succeeded, .compensated, .compensated, .compensated, .compensated, .compensated])
        let report = try ShopChecker.check(directory: directory, sagas: sagas)
        #expect(report.passed, "\(report)")
        #expect(report.violations.isEmpty)
        #expect(report.unsettledSagas.isEmpty)
        let statistics = report.statistics
        #expect(statistics.sagas == 7)
        #expect(statistics.unitsSold == 3)
        #expect(statistics.unitsReserved == 0)
        #expect(statistics.ordersCreated == 2)
        #expect(statistics.ordersCancelled == 3)
        #expect(statistics.paymentsCaptured == 2)
        #expect(statistics.paymentsRefunded == 2)
        #expect(statistics.moneyCaptured == 70)
        #expect(statistics.pointsDeducted == 10)
        #expect(statistics.messages == 2)
        #expect(statistics.emptyCompensations == 1)
        #expect(statistics.refusedLateForwards == 1)
        #expect(report.description.hasPrefix("consistency check passed"))
        let json = try JSONEncoder().encode(report)
        #expect(String(decoding: json, as: UTF8.self).contains(#""passed":true"#))
        #expect(try JSONDecoder().decode(CheckReport.self, from: json) == report)
        }
    }

    struct Tampering: Sendable, CustomStringConvertible {
        var name: String
        var service: ShopService
        var sql: String
        var invariant: Invariant
        var id: String
        var description: String { name }
    }

    static let tamperings: [Tampering] = [
        .init(name: "more sold than stocked", service: .inventory,
              sql: "UPDATE products SET available = available - 20, sold = sold + 20 WHERE id = 2",
              invariant: .stockOversold, id: "product 2"),
        .init(name: "stock from nowhere", service: .inventory,
              sql: "UPDATE products SET available = available + 1 WHERE id = 1", invariant: .stockNotConserved, id: "product 1"),
        .init(name: "reserved units without a reservation", service: .inventory,
              sql: "UPDATE products SET available = available - 1, reserved = reserved + 1 WHERE id = 1",
              invariant: .stockLedgerMismatch, id: "product 1"),
        .init(name: "money from nowhere", service: .payments,
              sql: "UPDATE accounts SET balance = balance + 5 WHERE user_id = 9", invariant: .moneyNotConserved, id: "user 9"),
        .init(name: "negative balance", service: .payments,
              sql: "UPDATE accounts SET balance = -1 WHERE user_id = 8", invariant: .negativeBalance, id: "user 8"),
        .init(name: "second capture of an order", service: .payments,
              sql: """
                  INSERT INTO payments (saga_instance, idempotency_key, user_id, order_id, amount, status, created_at, updated_at)
                  SELECT saga_instance, 'extra', user_id, order_id, amount, 'refunded', 0, 0 FROM payments WHERE saga_instance = 's-ok1'
                  """,
              invariant: .duplicateCapture, id: "o-1"),
        .init(name: "payment for an order nobody created", service: .payments,
              sql: "UPDATE payments SET order_id = 'o-99' WHERE saga_instance = 's-ok2'",
              invariant: .paymentForUnknownOrder, id: "o-99"),
        .init(name: "cancelled order still paid", service: .orders,
              sql: "UPDATE orders SET status = 'cancelled' WHERE saga_instance = 's-ok1'",
              invariant: .cancelledOrderNotRefunded, id: "o-1"),
        .init(name: "negative points", service: .points,
              sql: "UPDATE balances SET points = -3 WHERE user_id = 8", invariant: .negativePoints, id: "user 8"),
        .init(name: "points lost", service: .points,
              sql: "UPDATE balances SET points = points - 1 WHERE user_id = 7", invariant: .pointsNotConserved, id: "user 7"),
        .init(name: "a message sent twice for one key", service: .notifications,
              sql: """
                  INSERT INTO messages (saga_instance, idempotency_key, user_id, order_id, message, created_at)
                  SELECT saga_instance, idempotency_key, user_id, order_id, message, created_at FROM messages WHERE saga_instance = 's-ok2'
                  """,
              invariant: .duplicateEffect, id: "s-ok2:NotifyUser"),
        .init(name: "an effect whose reply was lost", service: .orders,
              sql: "DELETE FROM replies WHERE idempotency_key = 's-ok2:CreateOrder'",
              invariant: .effectWithoutReply, id: "s-ok2:CreateOrder"),
        .init(name: "a succeeded saga's stock not sold", service: .inventory,
              sql: """
                  UPDATE reservations SET status = 'reserved' WHERE saga_instance = 's-ok1';
                  UPDATE products SET sold = sold - 2, reserved = reserved + 2 WHERE id = 1
                  """,
              invariant: .succeededSagaIncomplete, id: "s-ok1"),
        .init(name: "a succeeded saga not notified", service: .notifications,
              sql: "DELETE FROM messages WHERE saga_instance = 's-ok1'", invariant: .succeededSagaNotNotified, id: "s-ok1"),
        .init(name: "a succeeded saga notified twice", service: .notifications,
              sql: """
                  INSERT INTO messages (saga_instance, idempotency_key, user_id, order_id, message, created_at)
                  SELECT saga_instance, 'again', user_id, order_id, message, created_at FROM messages WHERE saga_instance = 's-ok1';
                  INSERT INTO replies (idempotency_key, operation, saga_instance, status, body, created_at)
                  VALUES ('again', 'send', 's-ok1', 200, '{}', 0)
                  """,
              invariant: .sagaNotifiedMoreThanOnce, id: "s-ok1"),
        .init(name: "a succeeded saga compensated", service: .orders,
              sql: "INSERT INTO compensations VALUES ('s-ok1', 'create', 'x', 0)",
              invariant: .succeededSagaCompensated, id: "s-ok1"),
        .init(name: "a rolled-back saga's stock still reserved", service: .inventory,
              sql: """
                  UPDATE reservations SET status = 'reserved' WHERE saga_instance = 's-funds';
                  UPDATE products SET available = available - 1, reserved = reserved + 1 WHERE id = 1
                  """,
              invariant: .stockNotReleased, id: "s-funds"),
        .init(name: "a rolled-back saga's order open", service: .orders,
              sql: "UPDATE orders SET status = 'created' WHERE saga_instance = 's-funds'",
              invariant: .orderNotCancelled, id: "s-funds"),
        .init(name: "a rolled-back saga's payment kept", service: .payments,
              sql: """
                  UPDATE payments SET status = 'captured' WHERE saga_instance = 's-points';
                  UPDATE accounts SET balance = balance - 20 WHERE user_id = 9
                  """,
              invariant: .paymentNotRefunded, id: "s-points"),
        .init(name: "a rolled-back saga's points kept", service: .points,
              sql: """
                  UPDATE deductions SET status = 'deducted' WHERE saga_instance = 's-abort';
                  UPDATE balances SET points = points - 5 WHERE user_id = 7
                  """,
              invariant: .pointsNotReturned, id: "s-abort"),
        .init(name: "a rolled-back saga notified", service: .notifications,
              sql: """
                  INSERT INTO messages (saga_instance, idempotency_key, user_id, order_id, message, created_at)
                  VALUES ('s-funds', 's-funds:NotifyUser', 8, 'o-3', 'hi', 0)
                  """,
              invariant: .rolledBackSagaNotified, id: "s-funds"),
    ]

    @Test("each kind of tampering is caught and named with its offending id", arguments: tamperings)
    func catchesTampering(_ tampering: Tampering) async throws {
        try await withHistory { directory, sagas in
            try ShopDatabaseAccess.write(tampering.service.databaseURL(in: directory), tampering.sql)
            let report = try ShopChecker.check(directory: directory, sagas: sagas)
            #expect(!report.passed)
            let violation = try #require(report.violations(of: tampering.invariant), "\(report)")
            #expect(violation.ids.contains(tampering.id), "\(violation)")
            #expect(report.description.contains(tampering.invariant.rawValue))
        }
    }

    @Test("every invariant has a tampering test")
    func everyInvariantIsProvoked() {
        let provoked = Set(Self.tamperings.map(\.invariant)).union([.effectOfUnknownSaga])
        #expect(Set(Invariant.allCases).subtracting(provoked).isEmpty)
    }

    @Test("effects of a saga missing from the list are reported")
    func unknownSaga() async throws {
        try await withHistory { directory, sagas in
            let report = try ShopChecker.check(directory: directory, sagas: sagas.filter { $0.instanceID != "s-ok2" })
            let violation = try #require(report.violations(of: .effectOfUnknownSaga))
            #expect(Set(violation.ids) == ["r-2", "o-2", "p-2", "m-2"])
        }
    }

    @Test("sagas that are not settled are listed and not judged")
    func unsettledSagas() async throws {
        try await withHistory { directory, sagas in
            // s-ok1's message is gone, but it is still running as far as the caller knows.
            try ShopDatabaseAccess.write(
                ShopService.notifications.databaseURL(in: directory), "DELETE FROM messages WHERE saga_instance = 's-ok1'")
            let running = sagas.map { saga in
                var saga = saga
                if saga.instanceID == "s-ok1" { saga.status = .running }
                if saga.instanceID == "s-funds" { saga.status = .needsIntervention }
                return saga
            }
            let report = try ShopChecker.check(directory: directory, sagas: running)
            #expect(report.passed, "\(report)")
            #expect(report.unsettledSagas == ["s-ok1", "s-funds"])
        }
    }

    @Test("a directory without the shop's databases is an error, and nothing is created")
    func missingDatabases() async throws {
        try await withTemporaryDirectory { directory in
            let error = try #require(throws: ShopCheckError.self) { try ShopChecker.check(directory: directory, sagas: []) }
            #expect(error.description.contains("no inventory database"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }
}
