import Foundation
import Interpreter
import StateLang

/// Prints `sagactl run`'s progress state by state (to standard error, so standard output
/// stays the result) and the final summary.
final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private let colour = Terminal.colourErr
    private let quiet: Bool
    private var calls = 0
    private var compensations = 0
    private var retries = 0

    init(quiet: Bool) { self.quiet = quiet }

    func handle(_ event: EngineEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .called(_, let state, let phase, let outcome, let seconds):
            if phase == .compensation { compensations += 1 } else { calls += 1 }
            guard !quiet else { return }
            let arrow = phase == .compensation ? "↩ " : "  "
            let ms = String(format: "%6.1f ms", seconds * 1000)
            switch outcome {
            case .success:
                Terminal.err("\(arrow)\(pad(state))\(Terminal.paint("ok", "32", enabled: colour))      \(ms)\n")
            case .failure(let failure):
                Terminal.err("\(arrow)\(pad(state))\(Terminal.paint("failed", "31", enabled: colour))  \(ms)  \(failure.name): \(failure.message)\n")
            }
        case .retryScheduled(_, let due):
            retries += 1
            guard !quiet else { return }
            Terminal.err("  \(pad(""))retry in \(String(format: "%.1f", max(0, due.timeIntervalSinceNow))) s\n")
        case .started(let id, let workflow):
            guard !quiet else { return }
            Terminal.err("▸ \(workflow) \(Terminal.paint(id, "2", enabled: colour))\n")
        case .resumed(let id, let workflow):
            guard !quiet else { return }
            Terminal.err("▸ \(workflow) \(Terminal.paint(id, "2", enabled: colour)) (resumed)\n")
        case .failedToRun(let id, let reason):
            Terminal.err("sagactl: instance \(id) could not run: \(reason)\n")
        case .leaseRenewalFailed(let reason):
            Terminal.err("sagactl: renewing the leases failed (retried in a third of the lease): \(reason)\n")
        case .outbox(let message):
            guard !quiet else { return }
            switch message.status {
            case .delivered:
                Terminal.err("✉ \(pad(message.stateName))\(Terminal.paint("delivered", "32", enabled: colour)) (outbox, attempt \(message.attempts))\n")
            case .pending:
                Terminal.err("✉ \(pad(message.stateName))\(Terminal.paint("retrying", "33", enabled: colour))  \(message.lastError.map { "\($0.name): \($0.message)" } ?? "")\n")
            case .failed:
                Terminal.err("✉ \(pad(message.stateName))\(Terminal.paint("failed", "31", enabled: colour))    after \(message.attempts) attempts: \(message.lastError.map { "\($0.name): \($0.message)" } ?? ""); `sagactl outbox retry \(message.id)` sends it again\n")
            }
        case .calling, .finished:
            break
        }
    }

    func summary(_ record: InstanceRecord, seconds: Double) -> String {
        lock.lock()
        defer { lock.unlock() }
        let code: String
        switch record.status {
        case .succeeded: code = "32"
        case .failed, .compensated: code = "33"
        default: code = "31"
        }
        var line = "\(Terminal.paint(record.status.rawValue, "1;\(code)", enabled: colour)) in \(String(format: "%.2f", seconds)) s"
        line += " — \(calls) call\(calls == 1 ? "" : "s"), \(retries) retr\(retries == 1 ? "y" : "ies"), \(compensations) compensation\(compensations == 1 ? "" : "s")"
        if let failure = record.failure { line += "\n  \(failure.name): \(failure.message)" }
        switch record.status {
        case .unknown:
            line += "\n  next: `sagactl recover` applies the workflow's RecoverStrategy, or `sagactl compensate \(record.id)` / `sagactl forward \(record.id)`"
        case .needsIntervention:
            line += "\n  next: fix the service, then `sagactl compensate \(record.id)`; or record a manual fix with `sagactl skip \(record.id) --state STATE`"
        default: break
        }
        return line + "\n"
    }

    private func pad(_ text: String) -> String {
        text.count >= 24 ? text + " " : text + String(repeating: " ", count: 24 - text.count)
    }
}
