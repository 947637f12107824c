import StateLang

/// Errors of the engine's operations, each saying what to do next.
public enum EngineError: Error, Sendable, CustomStringConvertible {
    /// The operation does not apply to the instance in its current status.
    case rejected(String)
    case notFound(InstanceID)
    /// Another live executor holds the instance.
    case heldElsewhere(InstanceID, owner: String)
    /// A stored definition does not compile any more, or a sub-machine cannot be found.
    case definition(String)
    case store(StoreError)

    public var description: String {
        switch self {
        case .rejected(let m): m
        case .notFound(let id): "no instance with id \(id); `sagactl list` shows the instances in this database"
        case .heldElsewhere(let id, let owner):
            "instance \(id) is being run by \(owner); wait for it, or run `sagactl recover` once that process is gone"
        case .definition(let m): m
        case .store(let e): e.description
        }
    }
}
