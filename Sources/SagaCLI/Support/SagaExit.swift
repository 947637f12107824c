import ArgumentParser
import Interpreter

/// Exit codes (DESIGN §7, and docs/decisions/0010 for the database ones).
public enum SagaExit {
    public static let succeeded: Int32 = 0
    /// The saga failed or was compensated.
    public static let failed: Int32 = 1
    /// The saga needs attention: unknown or needs-intervention.
    public static let attention: Int32 = 2
    public static let usage: Int32 = 64
    public static let invalidWorkflow: Int32 = 65
    public static let internalError: Int32 = 70
    /// The database cannot be opened or is not a sagactl database.
    public static let database: Int32 = 74
    /// The database is locked by another process for too long.
    public static let busy: Int32 = 75

    public static func code(for status: InstanceStatus) -> Int32 {
        switch status {
        case .succeeded: succeeded
        case .failed, .compensated: failed
        case .unknown, .needsIntervention: attention
        case .running, .compensating: attention
        }
    }
}

extension ExitCode {
    static func saga(_ code: Int32) -> ExitCode { ExitCode(code) }
}
