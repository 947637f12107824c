import StateLang

/// The per-saga invariants: a succeeded saga has each effect exactly once, a rolled-back saga
/// has every effect undone.
extension ShopChecker {
    /// Returns the ids of the sagas that are not settled (not judged).
    static func checkSagas(_ snapshot: ShopSnapshot, sagas: [SagaSummary], _ findings: inout Findings) -> [String] {
        let known = Set(sagas.map(\.instanceID))
        for (service, effects) in snapshot.effectsByService {
            for effect in effects where !known.contains(effect.saga) {
                findings.add(
                    .effectOfUnknownSaga, id: effect.id, "\(service): \(effect.id) was made by saga \(effect.saga), which is not in the list")
            }
        }
        let reservations = Dictionary(grouping: snapshot.reservations, by: \.saga)
        let orders = Dictionary(grouping: snapshot.orders, by: \.saga)
        let payments = Dictionary(grouping: snapshot.payments, by: \.saga)
        let deductions = Dictionary(grouping: snapshot.deductions, by: \.saga)
        let messages = Dictionary(grouping: snapshot.messages, by: \.saga)
        var compensated: [String: [String]] = [:]
        for (service, tombstones) in snapshot.tombstones {
            for tombstone in tombstones {
                compensated[tombstone.saga, default: []].append("\(service).\(tombstone.forwardOperation)")
            }
        }

        var unsettled: [String] = []
        for saga in sagas {
            let id = saga.instanceID
            let effects = SagaEffects(
                reservations: reservations[id] ?? [], orders: orders[id] ?? [], payments: payments[id] ?? [],
                deductions: deductions[id] ?? [], messages: messages[id] ?? [])
            if saga.status == .succeeded {
                checkSucceeded(saga, effects, compensated: compensated[id] ?? [], &findings)
            } else if saga.status.isRolledBack {
                checkRolledBack(saga, effects, &findings)
            } else {
                unsettled.append(id)
            }
        }
        return unsettled
    }

    private struct SagaEffects {
        var reservations: [ShopSnapshot.Effect]
        var orders: [ShopSnapshot.Effect]
        var payments: [ShopSnapshot.Effect]
        var deductions: [ShopSnapshot.Effect]
        var messages: [ShopSnapshot.Effect]
    }

    private static func checkSucceeded(
        _ saga: SagaSummary, _ effects: SagaEffects, compensated: [String], _ findings: inout Findings
    ) {
        let id = saga.instanceID
        var problems: [String] = []
        let input = Input(saga.input)

        problems += expectOne(
            "reservation", effects.reservations, status: "confirmed",
            fields: [("product", \.productID, input.productID), ("quantity", \.quantity, input.quantity)])
        problems += expectOne(
            "order", effects.orders, status: "created",
            fields: [
                ("customer", \.userID, input.userID), ("product", \.productID, input.productID),
                ("quantity", \.quantity, input.quantity), ("amount", \.amount, input.amount),
            ])
        problems += expectOne(
            "payment", effects.payments, status: "captured",
            fields: [("customer", \.userID, input.userID), ("amount", \.amount, input.amount)])
        if let payment = effects.payments.first, let order = effects.orders.first, payment.orderID != order.id {
            problems.append("payment \(payment.id) is for \(payment.orderID ?? "no order"), its order is \(order.id)")
        }
        if let points = input.points, points > 0 {
            problems += expectOne(
                "points deduction", effects.deductions, status: "deducted",
                fields: [("customer", \.userID, input.userID), ("points", \.amount, points)])
        } else if !effects.deductions.isEmpty {
            problems.append("deducted points (\(effects.deductions.map(\.id).joined(separator: ", "))) though the order uses none")
        }
        for problem in problems {
            findings.add(.succeededSagaIncomplete, id: id, "saga \(id): \(problem)")
        }

        switch effects.messages.count {
        case 0: findings.add(.succeededSagaNotNotified, id: id, "saga \(id) succeeded and sent no message")
        case 1: break
        default:
            findings.add(
                .sagaNotifiedMoreThanOnce, id: id,
                "saga \(id) sent \(effects.messages.count) messages: \(effects.messages.map(\.id).joined(separator: ", "))")
        }
        if !compensated.isEmpty {
            findings.add(
                .succeededSagaCompensated, id: id,
                "saga \(id) succeeded but compensations ran for \(compensated.sorted().joined(separator: ", "))")
        }
    }

    private static func checkRolledBack(_ saga: SagaSummary, _ effects: SagaEffects, _ findings: inout Findings) {
        let id = saga.instanceID
        let ended = "saga \(id) \(saga.status.rawValue)"
        for reservation in effects.reservations where reservation.status != "released" {
            findings.add(.stockNotReleased, id: id, "\(ended) but \(reservation.id) is \(reservation.status)")
        }
        for order in effects.orders where order.status != "cancelled" {
            findings.add(.orderNotCancelled, id: id, "\(ended) but \(order.id) is \(order.status)")
        }
        for payment in effects.payments where payment.status != "refunded" {
            findings.add(.paymentNotRefunded, id: id, "\(ended) but \(payment.id) (\(payment.amount ?? 0)) is \(payment.status)")
        }
        for deduction in effects.deductions where deduction.status != "returned" {
            findings.add(
                .pointsNotReturned, id: id, "\(ended) but \(deduction.id) (\(deduction.amount ?? 0) points) is \(deduction.status)")
        }
        for message in effects.messages {
            findings.add(.rolledBackSagaNotified, id: id, "\(ended) but sent \(message.id)")
        }
    }

    /// Problems with "exactly one `what` in `status`, matching the input's fields".
    private static func expectOne(
        _ what: String, _ effects: [ShopSnapshot.Effect], status: String,
        fields: [(String, KeyPath<ShopSnapshot.Effect, Int?>, Int?)]
    ) -> [String] {
        guard effects.count == 1, let effect = effects.first else {
            return effects.isEmpty
                ? ["no \(what)"]
                : ["\(effects.count) \(what)s (\(effects.map(\.id).joined(separator: ", "))), expected 1"]
        }
        var problems: [String] = []
        if effect.status != status {
            problems.append("\(what) \(effect.id) is \(effect.status), expected \(status)")
        }
        for (name, path, expected) in fields {
            if let expected, effect[keyPath: path] != expected {
                problems.append("\(what) \(effect.id) has \(name) \(effect[keyPath: path].map(String.init) ?? "none"), the input says \(expected)")
            }
        }
        return problems
    }

    /// The checkout fields of a saga's input, when present and integral.
    private struct Input {
        var userID, productID, quantity, amount, points: Int?

        init(_ value: JSONValue) {
            func integer(_ key: String) -> Int? {
                switch value[key] {
                case .int(let number)?: number
                case .double(let number)? where number.rounded() == number: Int(number)
                default: nil
                }
            }
            userID = integer("userId")
            productID = integer("productId")
            quantity = integer("quantity")
            amount = integer("amount")
            points = integer("points")
        }
    }
}
