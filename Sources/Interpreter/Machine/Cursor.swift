/// The engine's position in an instance, stored with the instance row (`InstanceRecord.cursor`)
/// so a restarted executor knows exactly what was in flight.
struct Cursor: Sendable, Equatable {
    enum Mode: String, Sendable {
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

    /// Reads the JSON written by `encoded()`; nil when it is not a cursor.
    static func decode(_ text: String) -> Cursor? {
        guard let value = try? JSONValue(parsing: text), case .object(let o) = value,
            let mode = o["mode"]?.stringValue.flatMap(Mode.init(rawValue:)),
            case .int(let nextSeq)? = o["next"], case .int(let logical)? = o["logical"]
        else { return nil }
        var cursor = Cursor()
        cursor.mode = mode
        cursor.state = o["state"]?.stringValue
        if case .int(let seq)? = o["seq"] { cursor.seq = seq }
        cursor.retryCounts = Self.ints(o["retries"])
        cursor.nextSeq = nextSeq
        cursor.logicalSteps = logical
        cursor.failEnd = o["failEnd"]?.boolValue ?? false
        if case .object(let c)? = o["compensation"] {
            var comp = CompensationCursor(pending: Self.ints(c["pending"]), thenState: c["then"]?.stringValue)
            if case .int(let current)? = c["current"] { comp.current = current }
            if case .int(let seq)? = c["seq"] { comp.seq = seq }
            comp.retryCounts = Self.ints(c["retries"])
            cursor.compensation = comp
        }
        return cursor
    }

    private static func ints(_ value: JSONValue?) -> [Int] {
        value?.arrayValue?.compactMap { if case .int(let i) = $0 { i } else { nil } } ?? []
    }

    /// Compact JSON, written by hand: this runs once per transition, on the hot path.
    func encoded() -> String {
        var out = ""
        out.reserveCapacity(96 + (state?.utf8.count ?? 0))  // one allocation for the usual cursor
        out += "{\"mode\":\""
        out += mode.rawValue
        out += "\",\"next\":"
        out += String(nextSeq)
        out += ",\"logical\":"
        out += String(logicalSteps)
        if let state {
            out += ",\"state\":"
            JSONValue.writeString(state, to: &out)
        }
        if let seq {
            out += ",\"seq\":"
            out += String(seq)
        }
        if !retryCounts.isEmpty { out += ",\"retries\":[" + retryCounts.map(String.init).joined(separator: ",") + "]" }
        if failEnd { out += ",\"failEnd\":true" }
        if let comp = compensation {
            out += ",\"compensation\":{\"pending\":[" + comp.pending.map(String.init).joined(separator: ",") + "]"
            if let current = comp.current { out += ",\"current\":\(current)" }
            if let seq = comp.seq { out += ",\"seq\":\(seq)" }
            if !comp.retryCounts.isEmpty {
                out += ",\"retries\":[" + comp.retryCounts.map(String.init).joined(separator: ",") + "]"
            }
            if let then = comp.thenState {
                out += ",\"then\":"
                JSONValue.writeString(then, to: &out)
            }
            out += "}"
        }
        return out + "}"
    }
}

/// Where backward recovery stands.
struct CompensationCursor: Sendable, Equatable {
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
import StateLang
