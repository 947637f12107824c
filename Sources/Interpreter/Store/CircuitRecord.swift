import Foundation

/// The last change of one service's circuit breaker in one executor process, recorded in
/// the store so that `sagactl status` (another process) can show it. Circuits live in the
/// process that makes the calls; each process has its own, and the store keeps the latest
/// change of each service, whoever made it.
public struct CircuitRecord: Sendable, Hashable {
    public var service: String
    /// `closed`, `open` or `half-open`.
    public var phase: String
    /// The state in words, e.g. "open until 2026-11-26T14:35:02Z".
    public var detail: String
    /// When an open circuit lets a probe call through.
    public var openUntil: Date?
    public var changedAt: Date
    /// The process whose circuit changed.
    public var owner: LeaseOwner

    public init(service: String, phase: String, detail: String, openUntil: Date? = nil, changedAt: Date,
                owner: LeaseOwner) {
        self.service = service
        self.phase = phase
        self.detail = detail
        self.openUntil = openUntil
        self.changedAt = changedAt
        self.owner = owner
    }
}
