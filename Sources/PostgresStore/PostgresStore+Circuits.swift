import Foundation
import Interpreter
import PostgresNIO

/// The last change of each service's circuit breaker: the same semantics as the SQLite store.
extension PostgresStore {
    public func recordCircuit(_ record: CircuitRecord) async throws {
        var binds = PostgresBindings()
        binds.append(record.service)
        binds.append(record.phase)
        binds.append(record.detail)
        binds.append(record.openUntil?.timeIntervalSince1970)
        binds.append(record.changedAt.timeIntervalSince1970)
        binds.append(record.owner.description)
        try await run(PostgresQuery(unsafeSQL: CircuitSQL.record, binds: binds))
    }

    public func circuits() async throws -> [CircuitRecord] {
        try await fetch(PostgresQuery(unsafeSQL: CircuitSQL.all, binds: PostgresBindings())) { row in
            var r = RowReader(row)
            let service: String = try r.next()
            let what = "the circuit row of service \(service)"
            let phase: String = try r.next()
            let detail: String = try r.next()
            let openUntil = try r.nextDate()
            guard let changedAt = try r.nextDate() else { throw UnreadableRow(message: "\(what) has no changed_at") }
            guard let owner = try r.nextLeaseOwner(what) else { throw UnreadableRow(message: "\(what) has no owner") }
            return CircuitRecord(service: service, phase: phase, detail: detail, openUntil: openUntil,
                                 changedAt: changedAt, owner: owner)
        }
    }
}

enum CircuitSQL {
    /// One row per service; an older change arriving late leaves the newer one.
    static let record = """
        INSERT INTO circuits (service, phase, detail, open_until, changed_at, owner) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (service) DO UPDATE SET phase = excluded.phase, detail = excluded.detail,
            open_until = excluded.open_until, changed_at = excluded.changed_at, owner = excluded.owner
        WHERE excluded.changed_at >= circuits.changed_at
        """
    static let all = "SELECT service, phase, detail, open_until, changed_at, owner FROM circuits ORDER BY service"
}
