/// When a running shop takes a service down, and for how long: the "refused connections" of a
/// chaos run. A service that is down has closed its listener, so a connection attempt is
/// refused by the kernel, and the requests it was serving get no reply (`RunningShop.setDown`).
///
/// The gaps between outages and their lengths are drawn uniformly from half to one and a half
/// times `every` and `length`, and the service uniformly from `services`, all from a seeded
/// generator: the same seed gives the same schedule (the moments are relative to the start,
/// so the requests that meet them still depend on timing).
public struct OutagePlan: Sendable {
    /// One outage: wait `after` (from the previous one's start), then take `service` down for `length`.
    public struct Outage: Sendable, Equatable {
        public var after: Duration
        public var service: ShopService
        public var length: Duration
    }

    /// Mean time between the starts of two outages; more than zero.
    public let every: Duration
    /// Mean length of an outage; more than zero.
    public let length: Duration
    /// Services that may go down; not empty.
    public let services: [ShopService]
    private var random: SplitMix64

    /// Nil when `every` or `length` is not positive or `services` is empty.
    public init?(every: Duration, length: Duration, services: [ShopService], seed: UInt64) {
        guard every > .zero, length > .zero, !services.isEmpty else { return nil }
        self.every = every
        self.length = length
        self.services = services
        self.random = SplitMix64(seed: seed)
    }

    /// The next outage of the schedule.
    public mutating func next() -> Outage {
        let gap = Self.milliseconds(every * Double.random(in: 0.5..<1.5, using: &random))
        let service = services[Int.random(in: 0..<services.count, using: &random)]
        let length = Self.milliseconds(length * Double.random(in: 0.5..<1.5, using: &random))
        return Outage(after: gap, service: service, length: length)
    }

    /// Rounded to whole milliseconds (at least 1), so that logs read `737ms`.
    private static func milliseconds(_ duration: Duration) -> Duration {
        let (seconds, attoseconds) = duration.components
        return .milliseconds(max(1, seconds * 1000 + Int64((Double(attoseconds) / 1e15).rounded())))
    }
}
