/// A reference from one state to another by name: a `Next`, a `Catch` route, a `Choices`
/// branch or a `Default`.
public struct FlowEdge: Sendable {
    public enum Kind: Sendable, Equatable {
        /// The state's `Next`.
        case next
        /// `Catch[i].Next`.
        case catchRoute(index: Int)
        /// `Choices[i].Next`.
        case choice(index: Int)
        /// A Choice's `Default`.
        case defaultRoute
        /// A `Next` that sagactl never follows: on a `Choice` (SL0306), or on a `Succeed` or
        /// `Fail` state (they end the instance). It must still name a state.
        case ignoredNext
    }

    public var kind: Kind
    /// The state the reference is written on (index into `WorkflowSyntax.states`).
    public var from: Int
    /// The name as written, with its range.
    public var target: Located<String>
    /// The state it names, or nil when no state has that name.
    public var to: Int?

    /// Whether an instance can move along this edge during forward execution.
    public var isForward: Bool { kind != .ignoredNext }

    /// The key as a user would write it, for messages (`Next`, `Catch[0].Next`, `Default`).
    public var keyDescription: String {
        switch kind {
        case .next, .ignoredNext: "Next"
        case .catchRoute(let i): "Catch[\(i)].Next"
        case .choice(let i): "Choices[\(i)].Next"
        case .defaultRoute: "Default"
        }
    }
}
