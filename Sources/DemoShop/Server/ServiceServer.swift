import Hummingbird
import Logging
import NIOCore

/// Runs one service's HTTP server on loopback and takes it down and up on command.
///
/// `run()` is a loop of two phases: *up* (a hummingbird `Application` listens on the port)
/// and *down* (nothing listens, so connecting is refused). Going down cancels the
/// application: the listener closes, open connections are dropped and requests in flight are
/// abandoned without a reply (their transactions either committed or roll back). Coming up
/// binds the same port again. `run()` returns when its task is cancelled.
final class ServiceServer: Sendable {
    typealias Ack = @Sendable (Result<Void, any Error>) -> Void

    enum Command: Sendable {
        /// Stop listening, for a while (then come up by itself) or (nil) until `.up`.
        case down(Duration?, ack: Ack)
        case up(ack: Ack)
    }

    let service: ShopService
    let database: ServiceDatabase
    private let responder: ShopResponder
    private let host: String
    private let requestedPort: Int
    private let initiallyDown: Duration??
    private let mailbox = Mailbox<Command>()
    private let readiness = Locked<(port: Int?, onReady: (@Sendable (Result<Int, any Error>) -> Void)?)>((nil, nil))
    private let logger: Logger

    /// - Parameters:
    ///   - port: 0 for any free port.
    ///   - initiallyDown: `.some(d)` starts refusing connections once the port is known, for
    ///     `d` or (nil) until `.up`.
    init(
        database: ServiceDatabase, injector: FaultInjector, host: String, port: Int, initiallyDown: Duration??,
        onReady: @escaping @Sendable (Result<Int, any Error>) -> Void
    ) {
        self.service = database.service
        self.database = database
        self.responder = ShopResponder(database: database, injector: injector)
        self.host = host
        self.requestedPort = port
        self.initiallyDown = initiallyDown
        self.readiness.withLock { $0.onReady = onReady }
        var logger = Logger(label: "sagactl.shop.\(database.service)")
        logger.logLevel = .error
        self.logger = logger
    }

    /// Sends a command; false when the server has stopped.
    func send(_ command: Command) -> Bool { mailbox.send(command) }

    func run() async throws {
        var port = requestedPort
        var upAck: Ack? = { [readiness, initiallyDown, mailbox] result in
            // The first start: report the bound port, or go down first when asked to.
            guard case .success = result, let initiallyDown else {
                ServiceServer.signalReady(readiness, result)
                return
            }
            let queued = mailbox.send(.down(initiallyDown, ack: { ServiceServer.signalReady(readiness, $0) }))
            if !queued { ServiceServer.signalReady(readiness, .failure(ShopStoppedError(service: nil))) }
        }
        defer {
            // Nobody will act on these any more.
            let stopped = ShopStoppedError(service: service)
            for command in mailbox.close() {
                switch command {
                case .down(_, let ack), .up(let ack): ack(.failure(stopped))
                }
            }
            upAck?(.failure(stopped))
            ServiceServer.signalReady(readiness, .failure(stopped))
        }
        while !Task.isCancelled {
            let onRunning = upAck
            upAck = nil
            let (downCommand, boundPort) = try await serve(port: port, onRunning: onRunning)
            port = boundPort ?? port
            guard case .down(let duration, let downAck)? = downCommand else { return }
            downAck(.success(()))
            guard let ack = await waitWhileDown(duration) else { return }
            upAck = ack
        }
    }

    private static func signalReady(
        _ readiness: Locked<(port: Int?, onReady: (@Sendable (Result<Int, any Error>) -> Void)?)>,
        _ result: Result<Void, any Error>
    ) {
        let (port, onReady) = readiness.withLock { state in
            defer { state.onReady = nil }
            return (state.port, state.onReady)
        }
        guard let onReady else { return }
        switch result {
        case .success:
            if let port { onReady(.success(port)) } else { onReady(.failure(ShopStoppedError(service: nil))) }
        case .failure(let error):
            onReady(.failure(error))
        }
    }

    /// Serves until a `.down` command arrives (returned, not yet acknowledged) or the task is
    /// cancelled (nil). `.up` commands while up are acknowledged at once. Also returns the
    /// bound port when the server got to listen.
    private func serve(port: Int, onRunning: Ack?) async throws -> (Command?, Int?) {
        let boundPort = Locked<Int?>(nil)
        let application = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { [readiness] channel in
                let actual = channel.localAddress?.port ?? port
                boundPort.withLock { $0 = actual }
                readiness.withLock { $0.port = actual }
                onRunning?(.success(()))
            },
            logger: logger
        )
        enum Outcome: Sendable {
            case applicationEnded
            case command(Command?)
        }
        let (command, failure) = await withThrowingTaskGroup(of: Outcome.self) { group -> (Command?, (any Error)?) in
            group.addTask {
                try await application.run()
                return .applicationEnded
            }
            group.addTask { [mailbox] in
                while let command = await mailbox.receive() {
                    switch command {
                    case .up(let ack): ack(.success(()))
                    case .down: return .command(command)
                    }
                }
                return .command(nil)
            }
            var command: Command?
            var failure: (any Error)?
            var first = true
            while true {
                do {
                    guard let outcome = try await group.next() else { break }
                    switch outcome {
                    case .command(let received): command = received
                    case .applicationEnded where first && !Task.isCancelled:
                        failure = ServerEndedError(service: service)
                    case .applicationEnded: break
                    }
                } catch is CancellationError {
                    // The application ends this way when it is cancelled.
                } catch {
                    failure = failure ?? error
                }
                first = false
                group.cancelAll()
            }
            return (command, failure)
        }
        if let failure {
            if case .down(_, let ack)? = command { ack(.failure(failure)) }
            if boundPort.withLock({ $0 }) == nil { onRunning?(.failure(failure)) }
            throw failure
        }
        return (command, boundPort.withLock { $0 })
    }

    /// Waits while down: returns the acknowledgement of the `.up` that ends the wait (a no-op
    /// when the down time passed), or nil when cancelled. A `.down` while down restarts the
    /// wait with its own duration.
    private func waitWhileDown(_ duration: Duration?) async -> Ack? {
        var deadline = duration.map { ContinuousClock.now + $0 }
        while true {
            switch await nextEvent(until: deadline) {
            case nil:
                return nil
            case .deadlinePassed?:
                return { _ in }
            case .command(.up(let ack))?:
                return ack
            case .command(.down(let newDuration, let ack))?:
                deadline = newDuration.map { ContinuousClock.now + $0 }
                ack(.success(()))
            }
        }
    }

    private enum DownEvent: Sendable {
        case command(Command)
        case deadlinePassed
    }

    /// The next command, or `.deadlinePassed`; nil when cancelled. A command that arrives as
    /// the deadline passes wins (it must be answered).
    private func nextEvent(until deadline: ContinuousClock.Instant?) async -> DownEvent? {
        guard let deadline else { return await mailbox.receive().map(DownEvent.command) }
        return await withTaskGroup(of: DownEvent?.self) { group in
            group.addTask { [mailbox] in await mailbox.receive().map(DownEvent.command) }
            group.addTask {
                do {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    return .deadlinePassed
                } catch {
                    return nil  // cancelled: the other task ended first
                }
            }
            var events: [DownEvent] = []
            while let next = await group.next() {
                if let next { events.append(next) }
                group.cancelAll()
            }
            return events.first { if case .command = $0 { true } else { false } } ?? events.first
        }
    }
}

/// A command or a start that could not complete because the shop stopped.
public struct ShopStoppedError: Error, Sendable, CustomStringConvertible {
    public var service: ShopService?
    public var description: String {
        "the demo shop\(service.map { "'s \($0) service" } ?? "") has stopped"
    }
}

/// A service's HTTP server ended on its own before it listened.
struct ServerEndedError: Error, Sendable, CustomStringConvertible {
    var service: ShopService
    var description: String { "the \(service) server ended before it listened" }
}
