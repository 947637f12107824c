import ArgumentParser
import Foundation
import Interpreter
import StateLang

/// `sagactl`: validate, draw and durably run saga workflows.
public struct SagaCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sagactl",
        abstract: "Validate, draw and durably run saga workflows written in the Seata state language.",
        discussion: """
            A workflow is a YAML (or Seata JSON) state machine: each step has an \
            undo, and an instance either completes or is compensated in reverse \
            order, even across crashes.

            Start here:
              sagactl validate workflows/order-payment.yaml
              sagactl graph workflows/order-payment.yaml | dot -Tsvg > flow.svg
              sagactl run workflows/order-payment.yaml --input '{"productId": 1}'
              sagactl list && sagactl history ID
            """,
        version: "0.1.0",
        subcommands: [
            ValidateCommand.self, GraphCommand.self, RunCommand.self, StartCommand.self, ResumeCommand.self,
            ForwardCommand.self, CompensateCommand.self, SkipCommand.self, RecoverCommand.self, WorkerCommand.self,
            ListCommand.self, StatusCommand.self, HistoryCommand.self, OutboxCommand.self, BenchCommand.self, DemoCommand.self, MigrateCommand.self,
        ])

    public init() {}

    /// Runs the command line: errors are printed as `sagactl: error: …` with a hint, never as a
    /// Swift error dump; the exit status follows DESIGN §7.
    public static func runMain(_ arguments: [String]? = nil) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // --help, --version, and usage errors from the argument parser.
            let code = exitCode(for: error).rawValue
            if code == 0 {
                Terminal.out(fullMessage(for: error) + "\n")
                return 0
            }
            Terminal.err(fullMessage(for: error) + "\n")
            return SagaExit.usage
        }
        let resources = CommandResources()
        let code = await CommandResources.$current.withValue(resources) { await execute(command) }
        for error in await resources.close() {
            Terminal.err("sagactl: warning: could not close a connection pool cleanly: \(error)\n")
        }
        return code
    }

    /// Runs a parsed command and maps how it ended to an exit status.
    static func execute(_ command: ParsableCommand) async -> Int32 {
        var command = command
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch let failure as CommandFailure {
            let label = Terminal.paint("error", "1;31", enabled: Terminal.colourErr)
            Terminal.err("sagactl: \(label): \(failure.message)\n")
            if let hint = failure.hint { Terminal.err("  hint: \(hint)\n") }
            return failure.code
        } catch let error as StoreError {
            Terminal.err("sagactl: error: \(error.description)\n")
            return SagaExit.database
        } catch let error as EngineError {
            Terminal.err("sagactl: error: \(error.description)\n")
            return SagaExit.internalError
        } catch let error as ValidationError {
            Terminal.err("sagactl: error: \(error.message)\n")
            return SagaExit.usage
        } catch where exitCode(for: error).isSuccess {
            // `sagactl` alone or `sagactl --help`: the root command's run shows the help.
            Terminal.out(fullMessage(for: error) + "\n")
            return 0
        } catch {
            Terminal.err("sagactl: internal error: \(error)\n  please report this with the command that caused it\n")
            return SagaExit.internalError
        }
    }
}
