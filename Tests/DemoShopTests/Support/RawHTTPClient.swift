import Foundation
import StateLang

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a client sees of one HTTP exchange.
enum ClientOutcome: Equatable, CustomStringConvertible {
    case reply(status: Int, body: JSONValue)
    /// Nothing listens on the port (ECONNREFUSED).
    case refused
    /// The connection closed before a complete response arrived.
    case noReply
    /// No response within the client's deadline.
    case timedOut
    /// Any other socket error (errno), which no test expects.
    case failed(Int32)

    var status: Int? { if case .reply(let status, _) = self { status } else { nil } }
    var body: JSONValue? { if case .reply(_, let body) = self { body } else { nil } }
    var errorCode: String? { body?["error"]?.stringValue }

    var description: String {
        switch self {
        case .reply(let status, let body): "\(status) \(body)"
        case .refused: "connection refused"
        case .noReply: "no reply"
        case .timedOut: "timed out"
        case .failed(let code): "socket error \(code)"
        }
    }
}

/// A plain HTTP/1.1 client over a blocking socket, run on its own thread so that it never
/// blocks the cooperative pool the servers' handlers share. One request per connection
/// (`Connection: close`), so the reply is everything until the server closes.
enum RawHTTPClient {
    static func post(
        port: Int, path: String, headers: [String: String], body: String, timeout: Duration
    ) async -> ClientOutcome {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        return await exchange(port: port, request: Array((head + "\r\n" + body).utf8), timeout: timeout)
    }

    static func exchange(port: Int, request: [UInt8], timeout: Duration) async -> ClientOutcome {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: blockingExchange(port: port, request: request, timeout: timeout))
            }
            thread.start()
        }
    }

    private static func blockingExchange(port: Int, request: [UInt8], timeout: Duration) -> ClientOutcome {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return .failed(errno) }
        defer { close(fd) }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        var interval = timeval(tv_sec: Int(seconds), tv_usec: .init((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if connected != 0 { return errno == ECONNREFUSED ? .refused : .failed(errno) }

        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 { return errno == EPIPE || errno == ECONNRESET ? .noReply : .failed(errno) }
            sent += count
        }

        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[0..<count]
                if ContinuousClock.now > deadline { return .timedOut }
                continue
            }
            if count == 0 { break }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .timedOut }
            if errno == ECONNRESET { return parse(received) ?? .noReply }
            return .failed(errno)
        }
        return parse(received) ?? .noReply
    }

    /// A complete response (status line, headers and `Content-Length` bytes of JSON), or nil.
    private static func parse(_ bytes: [UInt8]) -> ClientOutcome? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var length = 0
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        let body = bytes[(end + separator.count)...]
        guard body.count >= length else { return nil }
        let text = String(decoding: body.prefix(length), as: UTF8.self)
        guard !text.isEmpty else { return .reply(status: status, body: .null) }
        guard let json = try? JSONValue(parsing: text) else { return .reply(status: status, body: .string(text)) }
        return .reply(status: status, body: json)
    }
}
