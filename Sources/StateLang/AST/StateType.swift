/// The eight state types of the state language (DESIGN §3.2).
public enum StateType: String, Sendable, CaseIterable, Hashable {
    case serviceTask = "ServiceTask"
    case scriptTask = "ScriptTask"
    case subStateMachine = "SubStateMachine"
    case compensateSubMachine = "CompensateSubMachine"
    case choice = "Choice"
    case compensationTrigger = "CompensationTrigger"
    case succeed = "Succeed"
    case fail = "Fail"

    /// Task states invoke something and carry the task properties (Input, Output, Retry, ...).
    public var isTask: Bool {
        switch self {
        case .serviceTask, .scriptTask, .subStateMachine, .compensateSubMachine: true
        case .choice, .compensationTrigger, .succeed, .fail: false
        }
    }

    /// Types that exist only in unmerged Seata proposals.
    public static let proposalTypes: Set<String> = ["Fork", "Join", "Parallel", "ParallelStart", "ParallelEnd"]
}

/// What `sagactl recover` does with an instance that ended `unknown` (DESIGN §4).
public enum RecoverStrategy: String, Sendable, CaseIterable {
    case compensate = "Compensate"
    case forward = "Forward"
}

/// A per-state execution status code, as written in `Status` mappings.
public enum StatusCode: String, Sendable, CaseIterable, Hashable, Codable {
    case succeeded = "SU"
    case failed = "FA"
    case unknown = "UN"
}
