import Foundation
import StateLang
import Testing

@testable import DemoShop

@Suite("Inventory over HTTP")
struct InventoryTests {
    @Test("reserve moves stock to reserved and answers a reservation id; the same key twice reserves once")
    func reserveIsIdempotent() async throws {
        try await withShop { shop throws in
            let first = await shop.call(.reserve, ["productId": 1, "quantity": 2], key: "k1", saga: "s1", state: "ReserveStock")
            #expect(first.status == 200)
            let id = try #require(first.body?["reservationId"]?.stringValue)
            let again = await shop.call(.reserve, ["productId": 1, "quantity": 2], key: "k1", saga: "s1")
            #expect(again == first)
            #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 1") == 8)
            #expect(try shop.int(.inventory, "SELECT reserved FROM products WHERE id = 1") == 2)
            #expect(try shop.int(.inventory, "SELECT COUNT(*) FROM reservations") == 1)
            #expect(try shop.int(.inventory, "SELECT replays FROM replies WHERE idempotency_key = 'k1'") == 1)
            #expect(try shop.read(.inventory) { try String.fetchOne($0, sql: "SELECT saga_state FROM replies") } == "ReserveStock")
            #expect(id == "r-1")
        }
    }

    @Test("reserve refuses with 409 OutOfStock, and a repeat of the key gets the same refusal")
    func outOfStock() async throws {
        try await withShop { shop throws in
            let refused = await shop.call(.reserve, ["productId": 2, "quantity": 4], key: "k1", saga: "s1")
            #expect(refused.status == 409)
            #expect(refused.errorCode == "OutOfStock")
            #expect(await shop.call(.reserve, ["productId": 2, "quantity": 4], key: "k1", saga: "s1") == refused)
            #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 2") == 3)
            let unknown = await shop.call(.reserve, ["productId": 99, "quantity": 1], key: "k2", saga: "s2")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "UnknownProduct")
        }
    }

    @Test("confirm moves reserved units to sold, once per key and once per reservation")
    func confirm() async throws {
        try await withShop { shop throws in
            let reserved = await shop.call(.reserve, ["productId": 1, "quantity": 3], key: "k1", saga: "s1")
            let id = try #require(reserved.body?["reservationId"])
            let confirmed = await shop.call(.confirm, ["reservationId": id], key: "k2", saga: "s1")
            #expect(confirmed.status == 200)
            #expect(confirmed.body?["status"] == "confirmed")
            #expect(await shop.call(.confirm, ["reservationId": id], key: "k2", saga: "s1") == confirmed)
            #expect(await shop.call(.confirm, ["reservationId": id], key: "k3", saga: "s1") == confirmed)
            #expect(try shop.int(.inventory, "SELECT sold FROM products WHERE id = 1") == 3)
            #expect(try shop.int(.inventory, "SELECT reserved FROM products WHERE id = 1") == 0)
            #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 1") == 7)

            let unknown = await shop.call(.confirm, ["reservationId": "r-42"], key: "k4", saga: "s1")
            #expect(unknown.errorCode == "UnknownReservation")
            let foreign = await shop.call(.confirm, ["reservationId": id], key: "k5", saga: "other")
            #expect(foreign.status == 409)
            #expect(foreign.errorCode == "WrongSaga")
            let missing = await shop.call(.confirm, ["reservationId": nil], key: "k6", saga: "s1")
            #expect(missing.status == 400)
        }
    }

    @Test("release undoes a reservation, and a confirmed sale")
    func releaseAfterForward() async throws {
        try await withShop { shop throws in
            let first = await shop.call(.reserve, ["productId": 1, "quantity": 2], key: "a1", saga: "sa")
            let reservation = try #require(first.body?["reservationId"])
            let released = await shop.call(
                .release, ["productId": 1, "quantity": 2, "reservationId": reservation], key: "a2", saga: "sa")
            #expect(released.body?["released"] == [reservation])
            #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 1") == 10)

            let second = await shop.call(.reserve, ["productId": 1, "quantity": 4], key: "b1", saga: "sb")
            let sold = try #require(second.body?["reservationId"])
            #expect(await shop.call(.confirm, ["reservationId": sold], key: "b2", saga: "sb").status == 200)
            #expect(try shop.int(.inventory, "SELECT sold FROM products WHERE id = 1") == 4)
            let undone = await shop.call(.release, ["productId": 1, "quantity": 4, "reservationId": sold], key: "b3", saga: "sb")
            #expect(undone.body?["released"] == [sold])
            #expect(try shop.int(.inventory, "SELECT sold FROM products WHERE id = 1") == 0)
            #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 1") == 10)

            // A repeat of the compensation changes nothing; a confirm after it is refused.
            #expect(await shop.call(.release, ["productId": 1, "quantity": 4, "reservationId": sold], key: "b3", saga: "sb") == undone)
            #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 1") == 10)
            let late = await shop.call(.confirm, ["reservationId": sold], key: "b4", saga: "sb")
            #expect(late.errorCode == "AlreadyCompensated")
        }
    }

    @Test("release finds the saga's reservation when the saga never learnt its id")
    func releaseWithoutID() async throws {
        try await withShop { shop throws in
            #expect(await shop.call(.reserve, ["productId": 1, "quantity": 2], key: "k1", saga: "s1").status == 200)
            let released = await shop.call(.release, ["productId": 1, "quantity": 2, "reservationId": nil], key: "k2", saga: "s1")
            #expect(released.body?["released"] == ["r-1"])
            #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 1") == 10)
        }
    }

    @Test("release with no reservation succeeds empty and refuses a late reserve (no hanging)")
    func emptyReleaseThenLateReserve() async throws {
        try await withShop { shop throws in
            let released = await shop.call(.release, ["productId": 1, "quantity": 2, "reservationId": nil], key: "c1", saga: "s1")
            #expect(released.status == 200)
            #expect(released.body?["released"] == [])
            #expect(try shop.int(.inventory, "SELECT COUNT(*) FROM compensations WHERE saga_instance = 's1' AND forward_operation = 'reserve'") == 1)
            let late = await shop.call(.reserve, ["productId": 1, "quantity": 2], key: "f1", saga: "s1")
            #expect(late.status == 409)
            #expect(late.errorCode == "AlreadyCompensated")
            #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 1") == 10)
            #expect(try shop.int(.inventory, "SELECT COUNT(*) FROM reservations") == 0)
            // Another saga is not affected.
            #expect(await shop.call(.reserve, ["productId": 1, "quantity": 2], key: "f2", saga: "s2").status == 200)
        }
    }

    @Test("release naming another saga's reservation is refused")
    func releaseForeignReservation() async throws {
        try await withShop { shop throws in
            let reserved = await shop.call(.reserve, ["productId": 1, "quantity": 1], key: "k1", saga: "s1")
            let id = try #require(reserved.body?["reservationId"])
            let refused = await shop.call(.release, ["reservationId": id], key: "k2", saga: "s2")
            #expect(refused.errorCode == "WrongSaga")
            #expect(try shop.int(.inventory, "SELECT reserved FROM products WHERE id = 1") == 1)
            #expect(try shop.int(.inventory, "SELECT COUNT(*) FROM compensations") == 0)
        }
    }
}
