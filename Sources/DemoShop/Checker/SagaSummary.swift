import StateLang

/// What the checker needs to know about one saga: its instance id (the `Saga-Instance` the
/// services saw), how it ended and its input. Built by the caller from the saga store, so that
/// the shop does not depend on the engine.
public struct SagaSummary: Sendable, Equatable {
    /// The instance status as sagactl shows it; raw values match `InstanceStatus`'s.
    public enum Status: String, Sendable, Equatable, CaseIterable, Codable {
        case running
        case succeeded
        case failed
        case compensating
        case compensated
        case unknown
        case needsIntervention = "needs-intervention"

        /// Ended with every effect undone (or none made): `compensated` and `failed`.
        var isRolledBack: Bool { self == .compensated || self == .failed }
        /// Not settled: the shop's state for it cannot be judged.
        var isUnsettled: Bool { !(self == .succeeded || isRolledBack) }
    }

    public var instanceID: String
    public var status: Status
    /// The saga's input: `{userId, productId, quantity, amount, points}` for the checkout;
    /// fields that are missing are not compared.
    public var input: JSONValue

    public init(instanceID: String, status: Status, input: JSONValue) {
        self.instanceID = instanceID
        self.status = status
        self.input = input
    }
}
