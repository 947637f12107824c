/// How many faults the shop injected since it started: what a chaos run reports next to its
/// verdict. A request counts once under the fault that decided its fate (5xx, timeout, reset,
/// drop) and, when an added delay fired, once under `delayed` too.
public struct FaultCounts: Sendable, Equatable, Codable {
    /// Requests that reached a service's handler (refused connections never do).
    public var requests = 0
    /// Answered 5xx before doing anything.
    public var serverErrors = 0
    /// Held past the client's deadline (`kind=timeout`); served afterwards.
    public var timeouts = 0
    /// Connection closed without a reply and without doing anything.
    public var resets = 0
    /// Served and committed, then the connection closed without a reply.
    public var droppedReplies = 0
    /// Requests delayed by a latency rule (slow replies), whatever happened to them after.
    public var delayed = 0
    /// Times a service closed its listener (refused connections), with `RunningShop.setDown`.
    public var outages = 0
    /// Sum of the outages' planned lengths, in seconds (0 for an outage until told).
    public var outageSeconds = 0.0

    public init() {}

    /// Requests that met a fault other than a delay, plus outages: the "faults injected" figure.
    public var injected: Int { serverErrors + timeouts + resets + droppedReplies + delayed + outages }

    mutating func record(_ decision: FaultDecision) {
        requests += 1
        if decision.delay > .zero { delayed += 1 }
        switch decision.action {
        case .serve: break
        case .serverError: serverErrors += 1
        case .hold: timeouts += 1
        case .reset: resets += 1
        case .dropReply: droppedReplies += 1
        }
    }
}
