/// What a store's group commit has done since it was opened (see `InstanceStore.apply`).
public struct CommitStatistics: Sendable, Hashable {
    /// Transactions written by group commit (one per batch, failed ones included).
    public var batches = 0
    /// `createInstance` and `apply` calls those batches carried.
    public var transitions = 0
    /// Rows written by those calls: one instance row each, plus their step rows.
    public var rows = 0

    public init(batches: Int = 0, transitions: Int = 0, rows: Int = 0) {
        self.batches = batches
        self.transitions = transitions
        self.rows = rows
    }

    /// Transitions per transaction: 1 means no batching happened; 0 when nothing was written.
    public var transitionsPerBatch: Double {
        batches == 0 ? 0 : Double(transitions) / Double(batches)
    }
}

/// A store that batches transitions (group commit) and counts what it did, for `sagactl bench`
/// and tests.
public protocol CommitStatisticsReporting: Sendable {
    /// Counts since the store was opened; reading it never waits for the database.
    var commitStatistics: CommitStatistics { get }
}
