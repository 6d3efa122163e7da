#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ImageStore
import Prometheus

/// A minimal HTTP/1.1 server that answers `GET /metrics` with the Prometheus text format.
///
/// Prometheus scrapes a few times a minute, so one blocking accept loop on a
/// ``BlockingExecutor`` thread is enough; pulling in an HTTP framework would cost minutes of
/// build on every CI run. Any other path gets 404; the connection closes after each answer.
final class MetricsServer: Sendable {
    private let socket: Int32
    private let registry: PrometheusCollectorRegistry
    /// The address actually bound (the port is chosen by the kernel when asked for 0).
    let boundAddress: String

    /// Binds `address` (`host:port`, IPv4).
    init(address: String, registry: PrometheusCollectorRegistry) throws {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw MetricsServerError.invalidAddress(address)
        }
        let host = String(address[..<colon])
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host.isEmpty ? "0.0.0.0" : host, &socketAddress.sin_addr) == 1 else {
            throw MetricsServerError.invalidAddress(address)
        }
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw MetricsServerError.bind(address, errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw MetricsServerError.bind(address, errno: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.socket = fd
        self.registry = registry
        self.boundAddress = "\(host):\(UInt16(bigEndian: actual.sin_port))"
    }

    /// Serves until ``shutdown()`` closes the socket.
    func run() async throws {
        try await BlockingExecutor.shared.run { [self] in
            while true {
                let client = accept(socket, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                answer(client)
                close(client)
            }
        }
    }

    /// Stops the accept loop.
    func shutdown() {
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    private func answer(_ client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8](repeating: 0, count: 8192)
        let count = read(client, &request, request.count)
        guard count > 0 else { return }
        let line = String(decoding: request[..<count].prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let body: [UInt8]
        let status: String
        if parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1].hasPrefix("/metrics?") {
            status = "200 OK"
            body = registry.emitToBuffer()
        } else {
            status = "404 Not Found"
            body = Array("not found; try /metrics\n".utf8)
        }
        let head = "HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        writeAll(client, Array(head.utf8))
        writeAll(client, body)
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            // send with MSG_NOSIGNAL: a scraper that hung up is EPIPE here, not a SIGPIPE that
            // would end the worker.
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// Why the metrics endpoint could not start.
enum MetricsServerError: ClassifiedError {
    case invalidAddress(String)
    case bind(String, errno: Int32)

    /// A bad or taken address stays bad until the operator changes it.
    var kind: ErrorKind { .permanent }

    var description: String {
        switch self {
        case .invalidAddress(let address):
            return "metrics: \"\(address)\" is not host:port (IPv4), e.g. 127.0.0.1:9464"
        case .bind(let address, let code):
            return "metrics: cannot listen on \(address): \(String(cString: strerror(code))); choose another --metrics-addr"
        }
    }
}
