/// A reply other than success that an operation decides on: a business refusal
/// (`409 InsufficientFunds`), an unknown id (`404 UnknownProduct`) or a malformed request
/// (`400 BadRequest`). The saga sees `ActionError.<code>`. Refusals are replies, not faults:
/// they are stored under the request's idempotency key like a success.
struct ShopRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status, 400 … 499.
    var status: Int
    /// The `error` field of the reply body: a stable name the workflow can match on.
    var code: String
    var message: String

    init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ message: String) -> ShopRefusal {
        ShopRefusal(status: 400, code: "BadRequest", message: message)
    }

    static func notFound(_ code: String, _ message: String) -> ShopRefusal {
        ShopRefusal(status: 404, code: code, message: message)
    }

    static func conflict(_ code: String, _ message: String) -> ShopRefusal {
        ShopRefusal(status: 409, code: code, message: message)
    }

    /// A forward operation that arrives after its saga's compensation ran ("no hanging").
    static func alreadyCompensated(_ operation: ShopOperation, saga: String) -> ShopRefusal {
        conflict(
            "AlreadyCompensated",
            "saga \(saga) already ran \(operation.undoneBy.map { "'\($0)'" } ?? "its compensation"); a late '\(operation)' is refused")
    }
}
