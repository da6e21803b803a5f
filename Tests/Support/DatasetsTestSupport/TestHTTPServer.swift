import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for download tests. It serves fixed bodies,
/// honours "Range: bytes=N-" with 206, and can misbehave on purpose: cut a transfer off half-way,
/// stall without answering, or ignore Range. Every connection is handled on its own thread; `stop()`
/// closes the listening socket and wakes stalled handlers. Bounded: at most `maxConnections` accepted.
/// A stalled connection that the client closes is counted (`clientHangups`): a test learns that the
/// client's timeout fired from that event, not from how long it took.
public final class TestHTTPServer: @unchecked Sendable {
    public enum Behaviour: Sendable {
        case serve
        /// The first `times` responses send only `bytes` of the body, then close the connection.
        case cutOff(bytes: Int, times: Int)
        /// Accept, read the request, never answer (until the client hangs up, or the server stops, or 10 s).
        case stall
        /// Answer 200 with the whole body even when a Range was asked for.
        case ignoreRange
    }

    public struct Request: Sendable { public let path: String; public let range: String? }

    public let port: UInt16
    private let listener: Int32
    private let bodies: [String: [UInt8]]
    private let lock = NSLock()
    /// Closed by `stop()`: its read end becomes readable, which wakes every stalled handler at once.
    private let stopRead: Int32
    private var stopWrite: Int32
    private var hangups = 0
    private var behaviour: Behaviour
    private var cutsLeft: Int
    private var log: [Request] = []
    private let maxConnections: Int

    public var requests: [Request] { lock.lock(); defer { lock.unlock() }; return log }
    /// Stalled connections the client closed while the server was still waiting on them.
    public var clientHangups: Int { lock.lock(); defer { lock.unlock() }; return hangups }

    public init(bodies: [String: [UInt8]], behaviour: Behaviour = .serve, maxConnections: Int = 32) throws {
        self.bodies = bodies
        self.behaviour = behaviour
        self.maxConnections = maxConnections
        if case .cutOff(_, let times) = behaviour { cutsLeft = times } else { cutsLeft = 0 }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { close(listener); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { close(listener); throw POSIXError(.EMFILE) }
        stopRead = fds[0]
        stopWrite = fds[1]
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit {
        if stopWrite >= 0 { close(stopWrite) }
        close(stopRead)
    }

    public func url(_ path: String) -> URL {
        URL(string: "http://127.0.0.1:\(port)\(path)")!
    }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        lock.lock()
        if stopWrite >= 0 { close(stopWrite) }
        stopWrite = -1
        lock.unlock()
    }

    /// A port on 127.0.0.1 that nothing listens on: bind one, note it, close it.
    public static func closedPort() -> UInt16 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
        }
        close(s)
        return UInt16(bigEndian: address.sin_port)
    }

    private func acceptLoop() {
        for _ in 0..<maxConnections {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            Thread { [self] in handle(fd) }.start()
        }
    }

    private func handle(_ fd: Int32) {
        defer { close(fd) }
        guard let request = readRequest(fd) else { return }
        lock.lock()
        log.append(request)
        let mode = behaviour
        var cut: Int? = nil
        if case .cutOff(let bytes, _) = mode, cutsLeft > 0 { cutsLeft -= 1; cut = bytes }
        lock.unlock()

        if case .stall = mode {
            if waitForHangup(fd) { lock.lock(); hangups += 1; lock.unlock() }
            return
        }
        guard let body = bodies[request.path] else {
            send(fd, Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
            return
        }
        var start = 0
        if case .ignoreRange = mode {
            start = 0
        } else if let range = request.range, range.hasPrefix("bytes="),
                  let n = Int(range.dropFirst(6).prefix { $0.isNumber }) {
            start = n
        }
        if start >= body.count && start > 0 {
            send(fd, Array("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */\(body.count)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
            return
        }
        let part = Array(body[start...])
        var head = start > 0 ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n"
        if start > 0 { head += "Content-Range: bytes \(start)-\(body.count - 1)/\(body.count)\r\n" }
        head += "Content-Type: application/octet-stream\r\nContent-Length: \(part.count)\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"
        send(fd, Array(head.utf8))
        send(fd, cut.map { Array(part.prefix($0)) } ?? part)
    }

    /// True if the client closed `fd` first; false if the server stopped or 10 s passed.
    private func waitForHangup(_ fd: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopRead, events: Int16(POLLIN), revents: 0)]
        while poll(&fds, 2, 10_000) > 0 {
            if fds[1].revents != 0 { return false }
            var byte: UInt8 = 0
            if recv(fd, &byte, 1, 0) <= 0 { return true }
        }
        return false
    }

    private func readRequest(_ fd: Int32) -> Request? {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while buffer.count < 65_536 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
            if let text = String(bytes: buffer, encoding: .utf8), text.contains("\r\n\r\n") {
                let lines = text.components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count >= 2 else { return nil }
                let range = lines.first { $0.lowercased().hasPrefix("range:") }
                    .map { $0.dropFirst(6).trimmingCharacters(in: .whitespaces) }
                return Request(path: String(parts[1]), range: range)
            }
        }
        return nil
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}
