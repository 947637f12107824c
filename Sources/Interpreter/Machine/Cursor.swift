/// The engine's position in an instance, stored with the instance row (`InstanceRecord.cursor`)
/// so a restarted executor knows exactly what was in flight.
struct Cursor: Codable, Sendable, Equatable {
    enum Mode: String, Codable, Sendable {
        case forward
        case compensating
        case finished
    }

    var mode: Mode = .forward
    /// Forward: the task state being executed (a call in flight or a retry being waited for).
    var state: String?
    /// The step row of that call (attempt in flight, or the failed attempt awaiting its retry).
    var seq: Int?
    /// Retries used per `Retry` entry for the current step.
    var retryCounts: [Int] = []
    var nextSeq = 1
    /// Logical forward steps started so far (names idempotency keys).
    var logicalSteps = 0
    var compensation: CompensationCursor?
    /// The instance ended at a Fail state or on an uncaught error (biases the status, §4.3).
    var failEnd = false

    static func decode(_ text: String) -> Cursor? {
        guard let data = text.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(Cursor.self, from: data)
    }

    func encoded() -> String {
        // Encoding a plain Codable struct of strings and integers cannot fail.
        let data = try! JSONEncoder().encode(self)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Where backward recovery stands.
struct CompensationCursor: Codable, Sendable, Equatable {
    /// Seqs (first attempt) of forward steps still to compensate; the last one goes next.
    var pending: [Int]
    /// The forward step being compensated now, and the compensation row in flight.
    var current: Int?
    var seq: Int?
    var retryCounts: [Int] = []
    /// Where the flow continues after compensation (the trigger's `Next`), if anywhere.
    var thenState: String?
}

import Foundation
