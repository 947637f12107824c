import AsyncHTTPClient
import Foundation
import Interpreter
import NIOCore
import NIOPosix
import StateLang

/// How one HTTP call's result becomes an outcome with a failure name, and what it says about the
/// service's health (the circuit breaker's verdict).
///
/// | what happened                         | outcome                                 | breaker |
/// |---------------------------------------|-----------------------------------------|---------|
/// | 2xx, JSON body                        | success(body)                           | success |
/// | 2xx, empty body                       | success(null)                           | success |
/// | 2xx, body not JSON                    | `ActionError.InvalidResponse`           | success |
/// | any body over `maxResponseBytes`      | `ActionError.ResponseTooLarge`          | success |
/// | 4xx, body `{"error": "X", ...}`       | `ActionError.X` (message from `message`)| success |
/// | 4xx, other body                       | `HTTP.4xx`                              | success |
/// | 5xx                                   | `HTTP.5xx`                              | failure |
/// | 1xx, 3xx (redirects are not followed) | `ActionError.InvalidResponse`           | success |
/// | connection refused                    | `ConnectionRefused`                     | failure |
/// | deadline passed, task cancelled       | `Timeout`                               | failure |
/// | reset, closed early, DNS, TLS, other  | `NetworkError` (the cause in the message)| failure |
struct ResponseClassifier: Sendable {
    typealias Result = (ActionOutcome, CircuitBreakerMachine.Verdict)

    var displayURL: String
    var timeoutSeconds: Double
    var maxResponseBytes: Int

    /// Error bodies are read up to this many bytes, for their `error` field and an excerpt.
    static let errorBodyBytes = 64 * 1024
    static let excerptCharacters = 200

    /// Classifies a response; rethrows transport errors met while reading the body.
    func classify(_ response: HTTPClientResponse) async throws -> Result {
        let code = Int(response.status.code)
        let status = "\(code) \(response.status.reasonPhrase)"
        switch code {
        case 200..<300:
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: maxResponseBytes)
            } catch is NIOTooManyBytesError {
                return (failure(.action("ResponseTooLarge"),
                                "\(displayURL) answered \(status) with a body over \(maxResponseBytes) bytes; reading stopped at the limit"),
                        .success)
            }
            let text = String(buffer: body)
            if text.allSatisfy(\.isWhitespace) { return (.success(.null), .success) }
            do {
                return (.success(try JSONValue(parsing: text)), .success)
            } catch {
                return (failure(.action("InvalidResponse"),
                                "\(displayURL) answered \(status) with a body that is not JSON (\(error.message) at \(error.position)): \(Self.excerpt(text))"),
                        .success)
            }
        case 400..<500:
            let body = try await errorBody(response)
            if let (name, message) = Self.serviceError(in: body) {
                return (failure(.action(name), message ?? "\(displayURL) answered \(status)"), .success)
            }
            return (failure(.http4xx, "\(displayURL) answered \(status)" + Self.describe(body)), .success)
        case 500..<600:
            let body = try await errorBody(response)
            return (failure(.http5xx, "\(displayURL) answered \(status)" + Self.describe(body)), .failure)
        default:
            return (failure(.action("InvalidResponse"),
                            "\(displayURL) answered \(status); redirects are not followed, point URL at the final address"),
                    .success)
        }
    }

    /// Classifies an error thrown while connecting, sending or reading.
    func classify(transportError error: any Error, cancelled: Bool, elapsed: Duration) -> Result {
        let seconds = String(format: "%.2f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        if cancelled || error is CancellationError {
            return (failure(.timeout, "the call to \(displayURL) was cancelled after \(seconds) s (its deadline passed or sagactl is stopping)"),
                    .failure)
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .getConnectionFromPoolTimeout:
                return (failure(.timeout, "no answer from \(displayURL) within \(Self.format(timeoutSeconds)) s"), .failure)
            case .remoteConnectionClosed:
                return (failure(.networkError, "\(displayURL) closed the connection before a complete answer"), .failure)
            case .alreadyShutdown, .cancelled:
                return (failure(.networkError, "the HTTP client stopped before \(displayURL) answered (\(error))"), .failure)
            default:
                return (failure(.networkError, "\(displayURL): \(error)"), .failure)
            }
        }
        if Self.isRefused(error) {
            return (failure(.connectionRefused, "nothing accepts connections at \(displayURL)"), .failure)
        }
        if let error = error as? NIOConnectionError, let dns = error.dnsAError ?? error.dnsAAAAError, error.connectionErrors.isEmpty {
            return (failure(.networkError, "cannot resolve the host '\(error.host)' of \(displayURL): \(dns)"), .failure)
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return (failure(.timeout, "no connection to \(displayURL) within \(Self.format(timeoutSeconds)) s"), .failure)
        }
        if let error = error as? IOError, error.errnoCode == ECONNRESET {
            return (failure(.networkError, "\(displayURL) reset the connection (\(error))"), .failure)
        }
        // TLS failures (NIOSSL), other socket errors: the cause says what happened.
        return (failure(.networkError, "\(displayURL): \(String(describing: error))"), .failure)
    }

    static func isRefused(_ error: any Error) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        if let error = error as? NIOConnectionError {
            return !error.connectionErrors.isEmpty && error.connectionErrors.allSatisfy { isRefused($0.error) }
        }
        return false
    }

    /// An error body, read up to `errorBodyBytes`; the Bool says it was cut there.
    func errorBody(_ response: HTTPClientResponse) async throws -> (text: String, complete: Bool) {
        var buffer = ByteBuffer()
        for try await chunk in response.body {
            let room = Self.errorBodyBytes - buffer.readableBytes
            if chunk.readableBytes > room {
                var part = chunk
                if let slice = part.readSlice(length: room) { buffer.writeImmutableBuffer(slice) }
                // Leaving the loop drops the rest: the client closes that connection.
                return (String(buffer: buffer), false)
            }
            buffer.writeImmutableBuffer(chunk)
        }
        return (String(buffer: buffer), true)
    }

    /// `{"error": "X", "message": "..."}` → ("X", "..."), when the body is complete and `error`
    /// is a name (`InsufficientStock`, `ActionError.InsufficientStock`).
    static func serviceError(in body: (text: String, complete: Bool)) -> (String, String?)? {
        guard body.complete, let json = try? JSONValue(parsing: body.text),
            var name = json["error"]?.stringValue
        else { return nil }
        if name.hasPrefix("ActionError.") { name.removeFirst("ActionError.".count) }
        guard isName(name) else { return nil }
        let message = json["message"]?.stringValue.map { String($0.prefix(2000)) }
        return (name, message)
    }

    /// Letters, digits, `.`, `_`, `-`, starting with a letter, at most 100 characters.
    static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter, first.isASCII, text.count <= 100 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    static func describe(_ body: (text: String, complete: Bool)) -> String {
        let text = body.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return "" }
        return ": " + excerpt(text)
    }

    /// The first characters of a body, on one line.
    static func excerpt(_ text: String) -> String {
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .map { $0.isNewline || $0 == "\t" ? " " : $0 }
        let cut = line.prefix(excerptCharacters)
        return String(cut) + (line.count > excerptCharacters ? "…" : "")
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.3g", seconds)
    }

    func failure(_ name: ErrorName, _ message: String) -> ActionOutcome {
        .failure(ActionFailure(name, message))
    }
}
