/// One compiled `Retry` entry. Backoff is geometric (DESIGN §3.4): the k-th retry waits
/// `interval × backoffRate^(k-1)`, capped by `maxDelay`, optionally with full jitter.
public struct RetryPolicy: Sendable, Hashable {
    public enum Jitter: String, Sendable, Hashable {
        case full = "FULL"
        case none = "NONE"
    }

    /// Error patterns; empty means the default, `NetworkError`, as in Seata.
    public var exceptions: [String]
    public var intervalSeconds: Double
    /// Retries (not calls) allowed by this entry. Default 3.
    public var maxAttempts: Int
    /// Multiplier per retry; values below 1 are treated as 1. Default 1 (decision 0009).
    public var backoffRate: Double
    public var maxDelaySeconds: Double?
    public var jitter: Jitter

    public init(exceptions: [String] = [], intervalSeconds: Double = 1, maxAttempts: Int = 3,
                backoffRate: Double = 1, maxDelaySeconds: Double? = nil, jitter: Jitter = .none) {
        self.exceptions = exceptions
        self.intervalSeconds = intervalSeconds
        self.maxAttempts = maxAttempts
        self.backoffRate = backoffRate
        self.maxDelaySeconds = maxDelaySeconds
        self.jitter = jitter
    }

    public func matches(_ error: ErrorName) -> Bool {
        if exceptions.isEmpty { return error.matches("NetworkError") }
        return exceptions.contains { error.matches($0) }
    }

    /// Seconds to wait before retry number `retry` (1-based). `unitRandom` in [0, 1) is used
    /// for full jitter, so the computation stays pure.
    public func delay(beforeRetry retry: Int, unitRandom: Double) -> Double {
        let rate = max(backoffRate, 1)
        var delay = intervalSeconds * pow(rate, Double(max(retry - 1, 0)))
        if let cap = maxDelaySeconds { delay = min(delay, cap) }
        if !delay.isFinite { delay = maxDelaySeconds ?? 3600 }
        switch jitter {
        case .none: return delay
        case .full: return delay * min(max(unitRandom, 0), 1)
        }
    }
}

import Foundation
