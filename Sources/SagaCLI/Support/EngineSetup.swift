import Actions
import Foundation
import Interpreter
import StateLang

/// Builds the engine every command uses: the store, exec and http actions, `--services`
/// bindings and sub-machines found next to the parent workflow's file.
enum EngineSetup {
    /// - Parameter leaseDuration: seconds an instance stays leased to this process without
    ///   renewal (`--lease-seconds`); the engine's default, 30 s, elsewhere.
    static func make(store: any InstanceStore, services: [String: ServiceBinding], leaseDuration: TimeInterval = 30)
        -> SagaEngine
    {
        let engine = SagaEngine(store: store, leaseDuration: leaseDuration)
        engine.setHandler(ExecAction(), for: .exec)
        BuiltInServices.register(on: engine)
        let http = HTTPAction()
        CommandResources.current?.onClose { try await http.shutdown() }
        // Every change of a service's circuit is logged and recorded in the store, where
        // `sagactl status` shows it; failed-fast calls carry CircuitOpen into the step's history.
        let circuits = CircuitLog(store: store, owner: engine.owner) { error in
            Terminal.err("warning: could not record a circuit change in the database: \(error)\n")
        }
        CommandResources.current?.onClose { await circuits.close() }
        http.observeCircuits { change in
            let colour = Terminal.colourErr
            Terminal.err(Terminal.paint("circuit", "1;33", enabled: colour) + " \(change)\n")
            circuits.record(change)
        }
        engine.setHandler(http, for: .http)
        engine.setServiceBindings(services)
        engine.setSubMachineResolver { name in SiblingWorkflows.shared.path(named: name) }
        return engine
    }

    /// Compiles a workflow file for running; prints its diagnostics and fails on errors.
    static func compile(_ path: String, externalServices: Set<String>?) throws -> (Workflow, String) {
        let result = WorkflowPipeline.compile(path: path, options: ValidationOptions(externalServices: externalServices, forExecution: true))
        guard let workflow = result.workflow, let source = result.source else {
            let renderer = DiagnosticRenderer(colour: Terminal.colourErr)
            Terminal.err(result.diagnostics.filter { $0.severity == .error }
                .map { renderer.render($0, path: path, source: result.source) }.joined())
            throw CommandFailure("\(path) is not a valid workflow (\(result.errorCount) error\(result.errorCount == 1 ? "" : "s"))",
                                 hint: "run `sagactl validate \(path)` for every diagnostic", code: SagaExit.invalidWorkflow)
        }
        SiblingWorkflows.shared.remember(directoryOf: path)
        return (workflow, source.text)
    }
}

/// Local services every `sagactl` engine has.
enum BuiltInServices {
    /// `sagactl-noop`: every method returns `null` at once. For benchmarks (the instances
    /// `sagactl bench --abandon` leaves behind call it, so `recover` can finish them) and dry
    /// runs of a workflow's control flow. A binding of the same name in a workflow or a
    /// `--services` file takes precedence.
    static let noop = "sagactl-noop"

    static func register(on engine: SagaEngine) {
        engine.localActions.register(service: noop) { _ in .null }
    }
}

/// Finds a workflow by its `Name` among the files next to the workflows already loaded.
final class SiblingWorkflows: @unchecked Sendable {
    static let shared = SiblingWorkflows()
    private let lock = NSLock()
    private var directories: [String] = []
    private var byName: [String: (path: String, syntax: WorkflowSyntax?)]?
    /// Whether the scan keeps each file's syntax (for `workflow(named:)`); `run` needs paths only.
    private let keepsSyntax: Bool

    init(keepsSyntax: Bool = false) { self.keepsSyntax = keepsSyntax }

    func remember(directoryOf path: String) {
        let parent = (path as NSString).deletingLastPathComponent
        let directory = parent.isEmpty ? "." : parent
        lock.lock()
        if !directories.contains(directory) {
            directories.append(directory)
            byName = nil
        }
        lock.unlock()
    }

    func path(named name: String) -> String? { found(named: name)?.path }

    /// The file and syntax of the workflow named `name`, read once by the scan (an instance
    /// made with `keepsSyntax`; else the syntax is nil).
    func workflow(named name: String) -> (path: String, syntax: WorkflowSyntax)? {
        guard let found = found(named: name), let syntax = found.syntax else { return nil }
        return (found.path, syntax)
    }

    private func found(named name: String) -> (path: String, syntax: WorkflowSyntax?)? {
        lock.lock()
        defer { lock.unlock() }
        if byName == nil {
            var map: [String: (path: String, syntax: WorkflowSyntax?)] = [:]
            for directory in directories {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                for file in files.sorted() where [".yaml", ".yml", ".json"].contains(where: file.hasSuffix) {
                    let path = directory == "." ? file : directory + "/" + file
                    if let syntax = WorkflowLoader.load(path: path).syntax, let n = syntax.name?.value, map[n] == nil {
                        map[n] = (path, keepsSyntax ? syntax : nil)
                    }
                }
            }
            byName = map
        }
        return byName?[name]
    }
}
