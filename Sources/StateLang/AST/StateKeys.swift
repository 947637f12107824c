/// The keys of the state language, and which state types use which.
public enum StateKeys {
    public static let document = [
        "Name", "Comment", "Version", "StartState", "States", "RecoverStrategy", "IsPersist",
        "IsRetryPersistModeUpdate", "IsCompensatePersistModeUpdate", "Services",
    ]
    /// Top-level keys that tools write and the engine ignores, accepted without a warning.
    public static let documentIgnored = ["Type", "style", "edge"]

    public static let common = ["Type", "Comment", "Next", "Extensions"]
    /// Keys written by designers and ignored, accepted without a warning.
    public static let stateIgnored = ["Name", "style", "edge"]
    public static let task = [
        "CompensateState", "IsForCompensation", "IsForUpdate", "IsPersist", "IsRetryPersistModeUpdate",
        "IsCompensatePersistModeUpdate", "Input", "Output", "Status", "Retry", "Catch", "Loop",
        "TimeoutSeconds",
    ]
    public static let serviceTask = ["ServiceName", "ServiceMethod", "ServiceType", "ParameterTypes", "IsAsync"]
    public static let scriptTask = ["ScriptType", "ScriptContent"]
    public static let subStateMachine = ["StateMachineName"]
    public static let choice = ["Choices", "Default"]
    public static let fail = ["ErrorCode", "Message"]

    public static let allState = common + task + serviceTask + scriptTask + subStateMachine + choice + fail

    public static let retry = ["Exceptions", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy"]
    public static let catchEntry = ["Exceptions", "Next"]
    public static let choiceEntry = ["Expression", "Next"]
    public static let loop = ["Parallel", "Collection", "ElementVariableName", "ElementIndexName", "CompletionCondition"]
    public static let service = ["Type", "URL", "Command", "TimeoutSeconds", "Headers", "CircuitBreaker"]
    public static let circuitBreaker = ["FailureThreshold", "OpenSeconds"]

    /// The keys a state of `type` uses.
    public static func allowed(for type: StateType) -> [String] {
        switch type {
        case .serviceTask: common + task + serviceTask
        case .scriptTask: common + task + scriptTask
        case .subStateMachine: common + task + subStateMachine
        case .compensateSubMachine: common + task
        case .choice: common + choice
        case .fail: common + fail
        case .succeed, .compensationTrigger: common
        }
    }
}
