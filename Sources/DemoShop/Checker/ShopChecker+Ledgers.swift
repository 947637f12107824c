/// The global invariants: each service's books balance on their own and against each other.
extension ShopChecker {
    static func checkStock(_ snapshot: ShopSnapshot, _ findings: inout Findings) {
        var reservedUnits: [Int: Int] = [:]
        var soldUnits: [Int: Int] = [:]
        for reservation in snapshot.reservations {
            let product = reservation.productID ?? 0
            let quantity = reservation.quantity ?? 0
            switch reservation.status {
            case "reserved": reservedUnits[product, default: 0] += quantity
            case "confirmed": soldUnits[product, default: 0] += quantity
            default: break
            }
        }
        for product in snapshot.products {
            let id = "product \(product.id)"
            if product.available < 0 || product.reserved < 0 || product.sold < 0 || product.sold > product.initialStock {
                findings.add(
                    .stockOversold, id: id,
                    "\(id): available \(product.available), reserved \(product.reserved), sold \(product.sold) of \(product.initialStock)")
            }
            let total = product.available + product.reserved + product.sold
            if total != product.initialStock {
                findings.add(
                    .stockNotConserved, id: id,
                    "\(id): available \(product.available) + reserved \(product.reserved) + sold \(product.sold) = \(total), initial \(product.initialStock)")
            }
            let expectedReserved = reservedUnits[product.id] ?? 0
            let expectedSold = soldUnits[product.id] ?? 0
            if product.reserved != expectedReserved || product.sold != expectedSold {
                findings.add(
                    .stockLedgerMismatch, id: id,
                    "\(id): reserved \(product.reserved) and sold \(product.sold), its reservations say \(expectedReserved) and \(expectedSold)")
            }
        }
    }

    static func checkMoney(_ snapshot: ShopSnapshot, _ findings: inout Findings) {
        var captured: [Int: Int] = [:]
        for payment in snapshot.payments where payment.status == "captured" {
            captured[payment.userID ?? 0, default: 0] += payment.amount ?? 0
        }
        for account in snapshot.balances {
            let id = "user \(account.userID)"
            if account.current < 0 {
                findings.add(.negativeBalance, id: id, "\(id): balance \(account.current)")
            }
            let held = captured[account.userID] ?? 0
            if account.current + held != account.initial {
                findings.add(
                    .moneyNotConserved, id: id,
                    "\(id): balance \(account.current) + captured \(held) = \(account.current + held), initial \(account.initial)")
            }
        }
        let orders = Dictionary(snapshot.orders.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let paymentsByOrder = Dictionary(grouping: snapshot.payments) { $0.orderID ?? "" }
        for (orderID, payments) in paymentsByOrder.sorted(by: { $0.key < $1.key }) {
            if payments.count > 1 {
                findings.add(
                    .duplicateCapture, id: orderID,
                    "\(orderID) has \(payments.count) payments: \(payments.map(\.id).joined(separator: ", "))")
            }
            guard let order = orders[orderID] else {
                findings.add(
                    .paymentForUnknownOrder, id: orderID,
                    "\(payments.map(\.id).joined(separator: ", ")) paid \(orderID), which the orders service does not know")
                continue
            }
            for payment in payments where order.status == "cancelled" && payment.status == "captured" {
                findings.add(
                    .cancelledOrderNotRefunded, id: orderID,
                    "\(orderID) is cancelled but \(payment.id) (\(payment.amount ?? 0)) is still captured")
            }
        }
    }

    static func checkPoints(_ snapshot: ShopSnapshot, _ findings: inout Findings) {
        var deducted: [Int: Int] = [:]
        for deduction in snapshot.deductions where deduction.status == "deducted" {
            deducted[deduction.userID ?? 0, default: 0] += deduction.amount ?? 0
        }
        for account in snapshot.points {
            let id = "user \(account.userID)"
            if account.current < 0 {
                findings.add(.negativePoints, id: id, "\(id): \(account.current) points")
            }
            let held = deducted[account.userID] ?? 0
            if account.current + held != account.initial {
                findings.add(
                    .pointsNotConserved, id: id,
                    "\(id): points \(account.current) + deducted \(held) = \(account.current + held), initial \(account.initial)")
            }
        }
    }

    /// One effect per key, and every effect's reply stored with it.
    static func checkIdempotency(_ snapshot: ShopSnapshot, _ findings: inout Findings) {
        for (service, effects) in snapshot.effectsByService {
            let successes = Set((snapshot.replies[service] ?? []).filter { (200..<300).contains($0.status) }.map(\.key))
            for (key, group) in Dictionary(grouping: effects, by: \.key).sorted(by: { $0.key < $1.key }) {
                if group.count > 1 {
                    findings.add(
                        .duplicateEffect, id: key,
                        "\(service): key '\(key)' has \(group.count) effects: \(group.map(\.id).joined(separator: ", "))")
                }
                if !successes.contains(key) {
                    findings.add(
                        .effectWithoutReply, id: key,
                        "\(service): \(group.map(\.id).joined(separator: ", ")) made with key '\(key)', which has no stored success reply")
                }
            }
        }
    }
}
