import Foundation

/// One of the five services of the demo shop. Each has its own SQLite file and its own HTTP
/// server; the raw value is the name used in fault specs, file names and the workflow's
/// `ServiceName`.
public enum ShopService: String, CaseIterable, Sendable, Hashable, Codable, CustomStringConvertible {
    case inventory
    case orders
    case payments
    case points
    case notifications

    public var description: String { rawValue }

    /// The operations this service serves, as `POST /{operation}`.
    public var operations: [ShopOperation] {
        ShopOperation.allCases.filter { $0.service == self }
    }

    /// The service's database file inside a shop directory: `inventory.sqlite`, …
    public func databaseURL(in directory: URL) -> URL {
        directory.appendingPathComponent("\(rawValue).sqlite")
    }

    /// The environment variable that `workflows/order-payment.yaml` reads for this service's
    /// base URL: `INVENTORY_URL`, `ORDERS_URL`, `PAYMENTS_URL`, `POINTS_URL`, `NOTIFICATIONS_URL`.
    public var urlEnvironmentVariable: String { rawValue.uppercased() + "_URL" }

    /// The port the workflow's default URL names (8081 … 8085), for `ShopPorts.workflowDefaults`.
    public var workflowDefaultPort: Int {
        switch self {
        case .inventory: 8081
        case .orders: 8082
        case .payments: 8083
        case .points: 8084
        case .notifications: 8085
        }
    }
}

/// An operation of a shop service (`ServiceMethod` in the workflow). Compensations name the
/// forward operation they undo; that pairing drives empty compensation and anti-hanging.
public enum ShopOperation: String, CaseIterable, Sendable, Hashable, Codable, CustomStringConvertible {
    case reserve, confirm, release
    case create, cancel
    case pay, refund
    case deduct
    case `return`
    case send

    public var description: String { rawValue }

    public var service: ShopService {
        switch self {
        case .reserve, .confirm, .release: .inventory
        case .create, .cancel: .orders
        case .pay, .refund: .payments
        case .deduct, .return: .points
        case .send: .notifications
        }
    }

    /// For a compensation, the forward operation it undoes (`release` → `reserve`).
    public var undoes: ShopOperation? {
        switch self {
        case .release: .reserve
        case .cancel: .create
        case .refund: .pay
        case .return: .deduct
        case .reserve, .confirm, .create, .pay, .deduct, .send: nil
        }
    }

    /// For a forward operation that has a compensation, that compensation (`reserve` → `release`).
    public var undoneBy: ShopOperation? {
        ShopOperation.allCases.first { $0.undoes == self }
    }
}
