import Foundation
import Interpreter
import StateLang

/// JSON views of stored records for `--json` output. Keys are stable (documented in README).
enum RecordJSON {
    static func date(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(ISO8601DateFormatter.withFractions.string(from: date))
    }

    static func failure(_ failure: FailureRecord?) -> JSONValue {
        guard let failure else { return .null }
        var object: [String: JSONValue] = ["name": .string(failure.name), "message": .string(failure.message)]
        if let state = failure.state { object["state"] = .string(state) }
        return .object(object)
    }

    static func instance(_ r: InstanceRecord, steps: [StepRecord]? = nil) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(r.id),
            "workflow": .string(r.workflowName),
            "definition": .string(r.definitionFingerprint),
            "status": .string(r.status.rawValue),
            "forward_status": .string(r.forwardStatus.rawValue),
            "compensation_status": r.compensationStatus.map { .string($0.rawValue) } ?? .null,
            "business_key": r.businessKey.map { .string($0) } ?? .null,
            "parent_id": r.parentID.map { .string($0) } ?? .null,
            "input": r.input,
            "context": r.context,
            "error": failure(r.failure),
            "lease_owner": r.leaseOwner.map { .string($0.description) } ?? .null,
            "lease_expires_at": date(r.leaseExpiresAt),
            "wake_at": date(r.wakeAt),
            "created_at": date(r.createdAt),
            "updated_at": date(r.updatedAt),
            "ended_at": date(r.endedAt),
        ]
        if let steps { object["steps"] = .array(steps.map(step)) }
        return .object(object)
    }

    static func circuit(_ c: CircuitRecord) -> JSONValue {
        .object([
            "service": .string(c.service),
            "phase": .string(c.phase),
            "detail": .string(c.detail),
            "open_until": date(c.openUntil),
            "changed_at": date(c.changedAt),
            "owner": .string(c.owner.description),
        ])
    }

    static func step(_ s: StepRecord) -> JSONValue {
        .object([
            "seq": .int(s.seq),
            "state": .string(s.stateName),
            "phase": .string(s.phase.rawValue),
            "attempt": .int(s.attempt),
            "status": .string(s.status.rawValue),
            "compensated_seq": s.compensatedSeq.map { .int($0) } ?? .null,
            "retried_seq": s.retriedSeq.map { .int($0) } ?? .null,
            "input": s.input,
            "output": s.output ?? .null,
            "error": failure(s.failure),
            "idempotency_key": .string(s.idempotencyKey),
            "child_instance_id": s.childInstanceID.map { .string($0) } ?? .null,
            "started_at": date(s.startedAt),
            "ended_at": date(s.endedAt),
            "retry_at": date(s.retryAt),
            "executor": s.executor.map { .string($0.description) } ?? .null,
            "duration_ms": s.endedAt.map { .double(($0.timeIntervalSince(s.startedAt) * 1000).rounded()) } ?? .null,
        ])
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}
