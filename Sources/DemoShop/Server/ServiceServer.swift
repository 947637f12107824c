import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import ServiceLifecycle

/// Runs one service's HTTP server on loopback and takes it down and up on command.
///
/// `run()` is a loop of two phases: *up* (a hummingbird `Application` listens on the port)
/// and *down* (nothing listens, so connecting is refused). Going down or stopping releases
/// injected delays (those requests get no reply) and shuts the application down gracefully:
/// the listener closes at once, idle connections close, requests being served finish.
/// Coming up binds the same port again. `run()` returns after `.stop`, or when its task is
/// cancelled (the fallback when a shop is dropped without `stop()`).
final class ServiceServer: Sendable {
    typealias Ack = @Sendable (Result<Void, any Error>) -> Void

    enum Command: Sendable {
        /// Stop listening, for a while (then come up by itself) or (nil) until `.up`.
        case down(Duration?, ack: Ack)
        case up(ack: Ack)
        case stop
    }

    let service: ShopService
    let database: ServiceDatabase
    private let responder: ShopResponder
    let holdRelease = HoldRelease()
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
    ///   - onReady: called once with the bound port when the server is in its initial state
    ///     (listening, or down when `initiallyDown` says so), or with the error that stopped it.
    init(
        database: ServiceDatabase, injector: FaultInjector, host: String, port: Int, initiallyDown: Duration??,
        onReady: @escaping @Sendable (Result<Int, any Error>) -> Void
    ) {
        self.service = database.service
        self.database = database
        self.responder = ShopResponder(database: database, injector: injector, holdRelease: holdRelease)
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
                case .stop: break
                }
            }
            upAck?(.failure(stopped))
            ServiceServer.signalReady(readiness, .failure(stopped))
        }
        while !Task.isCancelled {
            let onRunning = upAck
            upAck = nil
            holdRelease.reset()
            let (command, boundPort) = try await serve(port: port, onRunning: onRunning)
            port = boundPort ?? port
            guard case .down(let duration, let downAck)? = command else { return }
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

    /// Serves until `.down` (returned, not yet acknowledged) or `.stop` arrives, or the task is
    /// cancelled (nil). `.up` commands while up are acknowledged at once. Also returns the
    /// bound port when the server got to listen.
    private func serve(port: Int, onRunning: Ack?) async throws -> (Command?, Int?) {
        let boundPort = Locked<Int?>(nil)
        // Answered exactly once: when listening, or when this phase ends before it listens.
        let pendingAck = Locked<Ack?>(onRunning)
        let takeAck: @Sendable () -> Ack? = { pendingAck.withLock { ack in defer { ack = nil }; return ack } }
        let accepted = AcceptedConnections<HTTPRequestPart, HTTPResponsePart>()
        let application = Application(
            responder: responder,
            server: .http1(admittingTo: accepted),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { [readiness] channel in
                let actual = channel.localAddress?.port ?? port
                boundPort.withLock { $0 = actual }
                readiness.withLock { $0.port = actual }
                takeAck()?(.success(()))
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
        enum Outcome: Sendable {
            case applicationEnded
            case command(Command?)
        }
        // Set before the graceful shutdown starts: the application may end before the mailbox
        // task's result is seen, and must not then look like an unexpected end.
        let shutdownRequested = Locked(false)
        let (command, failure) = await withThrowingTaskGroup(of: Outcome.self) { tasks -> (Command?, (any Error)?) in
            tasks.addTask { [holdRelease] in
                // Cancelling a hummingbird server's task can drop connections it accepted but
                // has not handed to a handler yet, and NIO traps on those ("Deinited
                // NIOAsyncWriter without calling finish()"). So the group runs in a task that
                // does not inherit cancellation, and cancellation becomes a graceful shutdown,
                // which drains the accepted connections before the listener's stream ends.
                let running = Task { try await group.run() }
                try await withTaskCancellationHandler {
                    try await running.value
                } onCancel: {
                    shutdownRequested.withLock { $0 = true }
                    holdRelease.fire()
                    Task { await group.triggerGracefulShutdown() }
                }
                return .applicationEnded
            }
            tasks.addTask { [mailbox, holdRelease] in
                while let command = await mailbox.receive() {
                    switch command {
                    case .up(let ack):
                        ack(.success(()))
                    case .down, .stop:
                        holdRelease.fire()
                        shutdownRequested.withLock { $0 = true }
                        await group.triggerGracefulShutdown()
                        return .command(command)
                    }
                }
                return .command(nil)
            }
            var command: Command?
            var failure: (any Error)?
            var expectingEnd = false
            while true {
                do {
                    guard let outcome = try await tasks.next() else { break }
                    switch outcome {
                    case .command(let received):
                        command = received
                        expectingEnd = true
                    case .applicationEnded where !expectingEnd && !shutdownRequested.withLock({ $0 }) && !Task.isCancelled:
                        failure = ServerEndedError(service: service)
                        tasks.cancelAll()
                    case .applicationEnded:
                        break
                    }
                } catch is CancellationError where expectingEnd || shutdownRequested.withLock({ $0 }) || Task.isCancelled {
                    // The application ends this way when its task is cancelled.
                } catch {
                    failure = failure ?? error
                    tasks.cancelAll()
                }
            }
            return (command, failure)
        }
        // The application has ended, so its listener is closed.
        await accepted.finishUnclaimed()
        if let failure {
            if case .down(_, let ack)? = command { ack(.failure(failure)) }
            takeAck()?(.failure(failure))
            throw failure
        }
        if let ack = takeAck() {
            // Taken down again before it listened, the `.up` was still carried out; stopped, it was not.
            if case .down? = command { ack(.success(())) } else { ack(.failure(ShopStoppedError(service: service))) }
        }
        return (command, boundPort.withLock { $0 })
    }

    /// Waits while down: returns the acknowledgement of the `.up` that ends the wait (a no-op
    /// when the down time passed), or nil on `.stop` or cancellation. A `.down` while down
    /// restarts the wait with its own duration.
    private func waitWhileDown(_ duration: Duration?) async -> Ack? {
        var deadline = duration.map { ContinuousClock.now + $0 }
        while true {
            switch await nextEvent(until: deadline) {
            case nil, .command(.stop)?:
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
                    return nil  // Task.sleep throws only CancellationError: the other task ended first.
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

/// A service's HTTP server ended without being asked to.
struct ServerEndedError: Error, Sendable, CustomStringConvertible {
    var service: ShopService
    var description: String { "the \(service) server ended without being asked to" }
}
