import GRDB
import StateLang

/// The business logic of one service over its own database. A ledger decides and applies one
/// operation inside a transaction that `ServiceDatabase` opens; it never commits by itself.
///
/// `perform` throws `ShopRefusal` for a refusal (the savepoint is rolled back and the refusal
/// is stored as the reply) and any other error for a failure (the whole transaction is rolled
/// back and the caller gets a 500).
protocol ServiceLedger: Sendable {
    var service: ShopService { get }

    /// Registers the service's own tables (the reply and compensation tables are common).
    func registerMigrations(_ migrator: inout DatabaseMigrator)

    /// Writes the service's part of the seed when its tables are empty; leaves an existing
    /// database as it is (a restart keeps its data).
    func seed(_ seed: ShopSeed, _ db: Database) throws

    /// Applies one operation. `now` is seconds since 1970, for the rows' timestamps.
    func perform(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue

    /// Called when a request repeats an idempotency key, before the stored reply is returned.
    func recordReplay(of request: OperationRequest, storedReply: ShopReply, now: Double, _ db: Database) throws
}

extension ServiceLedger {
    /// Most services keep nothing per repeat beyond the reply table's `replays` counter.
    func recordReplay(of request: OperationRequest, storedReply: ShopReply, now: Double, _ db: Database) throws {}
}
