import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StateLang

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let sagaInstance = Self("Saga-Instance")!
    static let sagaState = Self("Saga-State")!
}

/// Serves `POST /{operation}` for one service: applies the fault decision, validates the saga
/// headers and the JSON body, runs the operation through the service's database and writes
/// the reply as JSON.
struct ShopResponder: HTTPResponder {
    typealias Context = ShopRequestContext

    let database: ServiceDatabase
    let injector: FaultInjector
    /// Ends injected delays early when the service goes down or stops.
    let holdRelease: HoldRelease

    /// Largest request body accepted, in bytes.
    static let maxBodySize = 1 << 20

    var service: ShopService { database.service }

    func respond(to request: Request, context: ShopRequestContext) async throws -> Response {
        let name = String(request.uri.path.drop { $0 == "/" })
        guard let operation = ShopOperation(rawValue: name), operation.service == service else {
            let names = service.operations.map(\.rawValue).joined(separator: ", ")
            return Self.response(
                ShopReply(ShopRefusal.notFound("UnknownOperation", "\(service) has no operation '\(name)'; it serves \(names)")))
        }
        guard request.method == .post else {
            return Self.response(
                ShopReply(
                    ShopRefusal(
                        status: 405, code: "MethodNotAllowed",
                        message: "'\(operation)' is called with POST /\(operation), not \(request.method)")))
        }
        let key = request.headers[.idempotencyKey]
        let decision = injector.decide(service, operation, idempotencyKey: key)
        do {
            // Going down or stopping ends delays early: drop the request like a crash.
            guard try await holdRelease.sleep(for: decision.delay) else { return await abandon(context) }
            switch decision.action {
            case .serverError(let status):
                return Self.response(
                    ShopReply(
                        status: status,
                        body: [
                            "error": "InjectedFault",
                            "message": .string("fault '\(decision.rule ?? "")' answered \(status) before doing anything"),
                        ]))
            case .reset:
                return await abandon(context)
            case .hold(let duration):
                guard try await holdRelease.sleep(for: duration) else { return await abandon(context) }
            case .serve, .dropReply:
                break
            }
        } catch is CancellationError {
            // The shop's task was cancelled (it was dropped without `stop()`).
            return await abandon(context)
        }

        let parsed: OperationRequest
        do {
            parsed = try await self.parse(request, operation: operation, key: key)
        } catch let refusal as ShopRefusal {
            return Self.response(ShopReply(refusal))
        }
        let reply: ShopReply
        do {
            reply = try await database.handle(parsed)
        } catch is CancellationError {
            return await abandon(context)
        } catch {
            context.logger.error("\(service).\(operation) failed: \(error)")
            return Self.response(
                ShopReply(status: 500, body: ["error": "InternalError", "message": .string("\(service) could not \(operation): \(error)")]))
        }
        if decision.action == .dropReply { return await abandon(context) }
        return Self.response(reply)
    }

    private func parse(_ request: Request, operation: ShopOperation, key: String?) async throws -> OperationRequest {
        guard let key, !key.isEmpty else {
            throw ShopRefusal(status: 400, code: "MissingHeader", message: "'\(operation)' needs an Idempotency-Key header")
        }
        guard let saga = request.headers[.sagaInstance], !saga.isEmpty else {
            throw ShopRefusal(status: 400, code: "MissingHeader", message: "'\(operation)' needs a Saga-Instance header")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxBodySize)
        } catch is NIOTooManyBytesError {
            throw ShopRefusal(status: 413, code: "BodyTooLarge", message: "the body is larger than \(Self.maxBodySize) bytes")
        }
        let text = String(buffer: buffer)
        let body: JSONValue
        do {
            body = try JSONValue(parsing: text)
        } catch {
            throw ShopRefusal.badRequest("the body is not JSON: \(error)")
        }
        guard let object = body.objectValue else {
            throw ShopRefusal.badRequest("the body must be a JSON object, got \(body.kindDescription)")
        }
        return OperationRequest(
            operation: operation, idempotencyKey: key, sagaInstance: saga, sagaState: request.headers[.sagaState],
            body: object)
    }

    /// Closes the connection so that the client gets no reply. The returned response is never
    /// written (the channel is closed first).
    private func abandon(_ context: ShopRequestContext) async -> Response {
        do {
            try await context.channel.close()
        } catch ChannelError.alreadyClosed {
            // The client hung up first: there is nobody left to answer.
        } catch {
            context.logger.warning("\(service): closing a connection without a reply failed: \(error)")
        }
        return Response(status: .internalServerError)
    }

    static func response(_ reply: ShopReply) -> Response {
        Response(
            status: HTTPResponse.Status(code: reply.status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body.jsonString())))
    }
}
