import ArgumentParser
import DemoShop
import Foundation
import StateLang

struct DemoOrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders", abstract: "Print checkout inputs for the demo shop, one JSON object a line.",
        discussion: """
            Orders of the shop's standard catalogue for workflows/order-payment.yaml: about one \
            in ten asks for more money than the customer has and one in ten for more points, so \
            that some sagas compensate. The same seed prints the same orders. Feed them to \
            `sagactl start --inputs`:
              sagactl demo orders --count 300 > orders.ndjson
              sagactl start workflows/order-payment.yaml --inputs orders.ndjson
            """)

    @Option(name: .long, help: "Orders to print.") var count = 100
    @Option(name: .long, help: "Seed of the orders.") var seed: UInt64 = 1
    @Option(name: .long, help: "The catalogue of a shop started with this --scale.") var scale = 1

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard scale > 0 else { throw ValidationError("--scale must be positive") }
    }

    func run() async throws {
        var text = ""
        for order in ShopSeed.standard.scaled(by: scale).orders(count: count, seed: seed) {
            text += order.jsonString() + "\n"
            if text.utf8.count > 1 << 16 {
                Terminal.out(text)
                text = ""
            }
        }
        Terminal.out(text)
    }
}
