import Interpreter
import PostgresNIO

/// One statement that writes many transitions of a group-commit batch: one round trip instead
/// of several per transition.
///
///     WITH c (…) AS (VALUES …),      -- creates
///          created AS (INSERT INTO instances … SELECT … FROM c WHERE <its definition exists>
///                      ON CONFLICT (business_key) DO NOTHING RETURNING id),
///          a (…) AS (VALUES …),      -- applies
///          applied AS (UPDATE instances AS i SET … FROM a
///                      WHERE i.id = a.id AND i.lease_owner IS NOT DISTINCT FROM a.lease_owner
///                      RETURNING i.id),
///          done (id) AS (SELECT id FROM created UNION ALL SELECT id FROM applied),
///          s (…) AS (VALUES …), <upsert the steps of instances in done>,
///          o (…) AS (VALUES …), <insert the outbox messages of instances in done>
///     SELECT id FROM done
///
/// The fence is the single-row `InstanceSQL.update`'s, row by row; steps and outbox messages
/// are written only for the instances in `done`, so a transition held back (lease lost,
/// missing instance or definition, business key taken) writes nothing, and the writer answers
/// it by running it alone (`PostgresTransitionBatch`), which tells the reasons apart.
enum PostgresBatchStatement {
    /// PostgreSQL's limit on the parameters of one statement (a 16-bit count in the protocol).
    static let maximumParameters = 65_535

    /// The parameters `query` binds for one request.
    static func parameterCount(_ request: EncodedTransition) -> Int {
        request.instanceCells.count + request.stepRows.count * StepSQL.columnNames.count
            + request.outboxRows.count * (OutboxSQL.columnNames.count + 1)
    }

    /// Groups the requests (by index, in order) into statements: each within the parameter
    /// limit and naming each instance and each business key at most once, because one
    /// statement may not update a row twice, and of two transitions of an instance, or two
    /// creates with one business key, the earlier must be written first (the rows of one
    /// statement have no order). A request too large for any statement is in `alone`, for the
    /// per-transition path.
    static func plan(_ requests: [EncodedTransition]) -> (groups: [[Int]], alone: [Int]) {
        var groups: [[Int]] = []
        var alone: [Int] = []
        var group: [Int] = []
        var instances: Set<InstanceID> = []
        var businessKeys: Set<String> = []
        var parameters = 0
        for (index, request) in requests.enumerated() {
            let count = parameterCount(request)
            guard count <= maximumParameters else {
                alone.append(index)
                continue
            }
            let repeats = instances.contains(request.instanceID)
                || request.kind == .create && request.businessKey.map(businessKeys.contains) == true
            if parameters + count > maximumParameters || repeats {
                groups.append(group)
                group = []
                instances = []
                businessKeys = []
                parameters = 0
            }
            group.append(index)
            instances.insert(request.instanceID)
            if request.kind == .create, let key = request.businessKey { businessKeys.insert(key) }
            parameters += count
        }
        if !group.isEmpty { groups.append(group) }
        return (groups, alone)
    }

    /// The statement writing `requests`: it returns the id of every instance it created or
    /// updated.
    static func query(_ requests: some Collection<EncodedTransition>) -> PostgresQuery {
        var binds = PostgresBindings()
        var ctes: [String] = []
        var done: [String] = []
        let creates = requests.filter { $0.kind == .create }
        if !creates.isEmpty {
            let values = valuesList(creates.map(\.instanceCells), &binds)
            ctes.append("c (\(InstanceSQL.columns)) AS (VALUES \(values))")
            ctes.append("""
                created AS (INSERT INTO instances (\(InstanceSQL.columns)) SELECT \(InstanceSQL.columns) FROM c \
                WHERE EXISTS (SELECT 1 FROM definitions AS d WHERE d.fingerprint = c.definition_fingerprint) \
                ON CONFLICT (business_key) DO NOTHING RETURNING id)
                """)
            done.append("SELECT id FROM created")
        }
        let applies = requests.filter { $0.kind == .apply }
        if !applies.isEmpty {
            let values = valuesList(applies.map(\.instanceCells), &binds)
            let names = InstanceSQL.updateValueNames
            let assignments = names.prefix(11).map { "\($0) = a.\($0)" }.joined(separator: ", ")
            ctes.append("a (\(names.joined(separator: ", "))) AS (VALUES \(values))")
            ctes.append("""
                applied AS (UPDATE instances AS i SET \(assignments), \
                lease_expires_at = CASE WHEN a.release_lease THEN a.updated_at ELSE i.lease_expires_at END \
                FROM a WHERE i.id = a.id AND i.lease_owner IS NOT DISTINCT FROM a.lease_owner RETURNING i.id)
                """)
            done.append("SELECT id FROM applied")
        }
        ctes.append("done (id) AS (\(done.joined(separator: " UNION ALL ")))")
        // EncodedTransition checked that every step row belongs to its transition's instance.
        let stepRows = requests.flatMap(\.stepRows)
        if !stepRows.isEmpty {
            let updates = StepSQL.columnNames.dropFirst(2).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            ctes.append("s (\(StepSQL.columns)) AS (VALUES \(valuesList(stepRows, &binds)))")
            ctes.append("""
                written_steps AS (INSERT INTO steps (\(StepSQL.columns)) SELECT \(StepSQL.columns) FROM s \
                WHERE s.instance_id IN (SELECT id FROM done) ON CONFLICT (instance_id, seq) DO UPDATE SET \(updates))
                """)
        }
        // A message is tied to the transition that carries it by a leading column, whatever
        // its own instance_id says.
        let outboxRows = requests.flatMap { request in request.outboxRows.map { [.text(request.instanceID)] + $0 } }
        if !outboxRows.isEmpty {
            ctes.append("o (for_instance, \(OutboxSQL.columns)) AS (VALUES \(valuesList(outboxRows, &binds)))")
            ctes.append("""
                written_outbox AS (INSERT INTO outbox (\(OutboxSQL.columns)) SELECT \(OutboxSQL.columns) FROM o \
                WHERE o.for_instance IN (SELECT id FROM done) ON CONFLICT (id) DO NOTHING)
                """)
        }
        return PostgresQuery(unsafeSQL: "WITH " + ctes.joined(separator: ",\n") + "\nSELECT id FROM done", binds: binds)
    }

    /// `($1::text, $2::float8, …), ($3, $4, …)`, binding the cells. Only the first row is cast:
    /// PostgreSQL gives each column of a `VALUES` list one type, and the parameters of the
    /// other rows (typed by postgres-nio, or untyped for NULL) take it.
    private static func valuesList(_ rows: [[SQLCell]], _ binds: inout PostgresBindings) -> String {
        var sql = ""
        sql.reserveCapacity(rows.count * (rows.first?.count ?? 0) * 7)
        for (number, row) in rows.enumerated() {
            sql += number == 0 ? "(" : ", ("
            for (column, cell) in row.enumerated() {
                binds.append(cell)
                if column > 0 { sql += ", " }
                sql += "$\(binds.count)"
                if number == 0 { sql += "::" + cell.sqlType }
            }
            sql += ")"
        }
        return sql
    }
}
