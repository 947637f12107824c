import Foundation
import StateLang
import Testing

@testable import DemoShop

@Suite("Orders, payments, points and notifications over HTTP")
struct LedgerTests {
    static let order: JSONValue = ["userId": 7, "productId": 1, "quantity": 2, "amount": 40]

    @Test("create answers an order id once per key; cancel cancels it and blocks nothing else")
    func createAndCancel() async throws {
        try await withShop { shop throws in
            let created = await shop.call(.create, Self.order, key: "k1", saga: "s1")
            #expect(created.body?["orderId"] == "o-1")
            #expect(await shop.call(.create, Self.order, key: "k1", saga: "s1") == created)
            #expect(try shop.int(.orders, "SELECT COUNT(*) FROM orders") == 1)
            let cancelled = await shop.call(.cancel, ["orderId": "o-1"], key: "k2", saga: "s1")
            #expect(cancelled.body?["cancelled"] == ["o-1"])
            #expect(await shop.call(.cancel, ["orderId": "o-1"], key: "k2", saga: "s1") == cancelled)
            #expect(try shop.read(.orders) { try String.fetchOne($0, sql: "SELECT status FROM orders") } == "cancelled")
            let invalid = await shop.call(.create, ["userId": 7, "productId": 1, "quantity": 0, "amount": 40], key: "k3", saga: "s3")
            #expect(invalid.status == 400)
        }
    }

    @Test("cancel with no order succeeds empty and refuses a late create")
    func emptyCancelThenLateCreate() async throws {
        try await withShop { shop throws in
            let cancelled = await shop.call(.cancel, ["orderId": nil], key: "c1", saga: "s1")
            #expect(cancelled.status == 200)
            #expect(cancelled.body?["cancelled"] == [])
            let late = await shop.call(.create, Self.order, key: "f1", saga: "s1")
            #expect(late.status == 409)
            #expect(late.errorCode == "AlreadyCompensated")
            #expect(try shop.int(.orders, "SELECT COUNT(*) FROM orders") == 0)
        }
    }

    @Test("pay captures once per key, refuses a second capture of the order and a short balance")
    func pay() async throws {
        try await withShop { shop throws in
            let paid = await shop.call(.pay, ["userId": 7, "orderId": "o-1", "amount": 40], key: "k1", saga: "s1")
            #expect(paid.body?["paymentId"] == "p-1")
            #expect(await shop.call(.pay, ["userId": 7, "orderId": "o-1", "amount": 40], key: "k1", saga: "s1") == paid)
            #expect(try shop.int(.payments, "SELECT balance FROM accounts WHERE user_id = 7") == 60)
            #expect(try shop.int(.payments, "SELECT COUNT(*) FROM payments") == 1)

            let twice = await shop.call(.pay, ["userId": 7, "orderId": "o-1", "amount": 40], key: "k2", saga: "s1")
            #expect(twice.errorCode == "OrderAlreadyPaid")
            let short = await shop.call(.pay, ["userId": 8, "orderId": "o-2", "amount": 21], key: "k3", saga: "s2")
            #expect(short.status == 409)
            #expect(short.errorCode == "InsufficientFunds")
            #expect(try shop.int(.payments, "SELECT balance FROM accounts WHERE user_id = 8") == 20)
            let nobody = await shop.call(.pay, ["userId": 99, "orderId": "o-3", "amount": 1], key: "k4", saga: "s3")
            #expect(nobody.errorCode == "UnknownUser")
        }
    }

    @Test("refund gives the saga's capture back once; with no capture it succeeds empty and refuses a late pay")
    func refund() async throws {
        try await withShop { shop throws in
            let paid = await shop.call(.pay, ["userId": 7, "orderId": "o-1", "amount": 40], key: "k1", saga: "s1")
            let id = try #require(paid.body?["paymentId"])
            let body: JSONValue = ["userId": 7, "orderId": "o-1", "paymentId": id, "amount": 40]
            let refunded = await shop.call(.refund, body, key: "k2", saga: "s1")
            #expect(refunded.body?["refunded"] == [id])
            #expect(refunded.body?["amount"] == 40)
            #expect(await shop.call(.refund, body, key: "k2", saga: "s1") == refunded)
            #expect(await shop.call(.refund, body, key: "k3", saga: "s1").body?["refunded"] == [])
            #expect(try shop.int(.payments, "SELECT balance FROM accounts WHERE user_id = 7") == 100)

            let empty = await shop.call(.refund, ["userId": 9, "orderId": nil, "paymentId": nil, "amount": 5], key: "c1", saga: "s2")
            #expect(empty.body?["refunded"] == [])
            let late = await shop.call(.pay, ["userId": 9, "orderId": "o-2", "amount": 5], key: "f1", saga: "s2")
            #expect(late.errorCode == "AlreadyCompensated")
            #expect(try shop.int(.payments, "SELECT balance FROM accounts WHERE user_id = 9") == 500)
        }
    }

    @Test("deduct takes points once per key and refuses a short balance; return gives them back")
    func points() async throws {
        try await withShop { shop throws in
            let deducted = await shop.call(.deduct, ["userId": 7, "points": 10], key: "k1", saga: "s1")
            #expect(deducted.body?["deductionId"] == "d-1")
            #expect(await shop.call(.deduct, ["userId": 7, "points": 10], key: "k1", saga: "s1") == deducted)
            #expect(try shop.int(.points, "SELECT points FROM balances WHERE user_id = 7") == 40)
            let short = await shop.call(.deduct, ["userId": 8, "points": 1], key: "k2", saga: "s2")
            #expect(short.status == 409)
            #expect(short.errorCode == "InsufficientPoints")

            let returned = await shop.call(.return, ["userId": 7, "points": 10], key: "k3", saga: "s1")
            #expect(returned.body?["returned"] == ["d-1"])
            #expect(await shop.call(.return, ["userId": 7, "points": 10], key: "k3", saga: "s1") == returned)
            #expect(try shop.int(.points, "SELECT points FROM balances WHERE user_id = 7") == 50)
        }
    }

    @Test("return with no deduction succeeds empty and refuses a late deduct")
    func emptyReturnThenLateDeduct() async throws {
        try await withShop { shop throws in
            let returned = await shop.call(.return, ["userId": 9, "points": 5], key: "c1", saga: "s1")
            #expect(returned.body?["returned"] == [])
            let late = await shop.call(.deduct, ["userId": 9, "points": 5], key: "f1", saga: "s1")
            #expect(late.errorCode == "AlreadyCompensated")
            #expect(try shop.int(.points, "SELECT points FROM balances WHERE user_id = 9") == 10)
        }
    }

    @Test("send records one message per key; a repeat is a duplicate delivery, not a new message")
    func send() async throws {
        try await withShop { shop throws in
            let body: JSONValue = ["userId": 7, "orderId": "o-1", "message": "Your order is confirmed."]
            let sent = await shop.call(.send, body, key: "n1", saga: "s1")
            #expect(sent.body?["messageId"] == "m-1")
            #expect(await shop.call(.send, body, key: "n1", saga: "s1") == sent)
            #expect(await shop.call(.send, body, key: "n1", saga: "s1") == sent)
            #expect(try shop.int(.notifications, "SELECT COUNT(*) FROM messages") == 1)
            #expect(try shop.int(.notifications, "SELECT COUNT(*) FROM deliveries WHERE duplicate = 0") == 1)
            #expect(try shop.int(.notifications, "SELECT COUNT(*) FROM deliveries WHERE duplicate = 1") == 2)
        }
    }

    @Test("malformed requests are refused before anything happens and are not remembered")
    func malformedRequests() async throws {
        try await withShop { shop throws in
            let noKey = await shop.call(.reserve, ["productId": 1, "quantity": 1], key: nil, saga: "s1")
            #expect(noKey.status == 400)
            #expect(noKey.errorCode == "MissingHeader")
            let noSaga = await shop.call(.reserve, ["productId": 1, "quantity": 1], key: "k1", saga: nil)
            #expect(noSaga.errorCode == "MissingHeader")
            let notObject = await shop.call(.reserve, [1, 2], key: "k1", saga: "s1")
            #expect(notObject.status == 400)
            let notJSON = await RawHTTPClient.post(
                port: shop.ports[.inventory]!, path: "/reserve", headers: ["Idempotency-Key": "k1", "Saga-Instance": "s1"],
                body: "{productId: 1", timeout: .seconds(60))
            #expect(notJSON.status == 400)
            #expect(notJSON.errorCode == "BadRequest")
            let wrongType = await shop.call(.reserve, ["productId": "one", "quantity": 1], key: "k2", saga: "s1")
            #expect(wrongType.status == 400)
            #expect(try shop.int(.inventory, "SELECT COUNT(*) FROM replies WHERE idempotency_key = 'k1'") == 0)

            let unknown = await RawHTTPClient.post(
                port: shop.ports[.inventory]!, path: "/pay", headers: ["Idempotency-Key": "k4", "Saga-Instance": "s1"],
                body: "{}", timeout: .seconds(60))
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "UnknownOperation")
            let get = await RawHTTPClient.exchange(
                port: shop.ports[.inventory]!,
                request: Array("GET /reserve HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), timeout: .seconds(60))
            #expect(get.status == 405)
        }
    }

    @Test("a key reused for another operation or saga is refused with 422 and changes nothing")
    func keyReuse() async throws {
        try await withShop { shop throws in
            #expect(await shop.call(.reserve, ["productId": 1, "quantity": 1], key: "k1", saga: "s1").status == 200)
            let otherOperation = await shop.call(.release, ["reservationId": nil], key: "k1", saga: "s1")
            #expect(otherOperation.status == 422)
            #expect(otherOperation.errorCode == "IdempotencyKeyReused")
            let otherSaga = await shop.call(.reserve, ["productId": 1, "quantity": 1], key: "k1", saga: "s2")
            #expect(otherSaga.status == 422)
            #expect(try shop.int(.inventory, "SELECT reserved FROM products WHERE id = 1") == 1)
            #expect(try shop.int(.inventory, "SELECT COUNT(*) FROM compensations") == 0)
        }
    }
}
