import Foundation

/// One fault rule of the `FaultServer`: it fires for requests whose path contains `path`
/// (and whose method is `method`, when set), at most `times` times (-1: every time), once
/// `after` matching requests went by it.
public struct Fault: Sendable, Encodable {
    enum Action: String, Encodable {
        case status, drop, wrongBytes, omitDigest, slow, challenge, redirect, header, ignoreRange, hold
    }

    let action: Action
    let match: String
    let times: Int
    let method: String?
    let status: Int?
    let retryAfter: String?
    let afterBytes: Int?
    var bytesPerSecond: Int? = nil
    var code: String? = nil
    var message: String? = nil
    var realm: String? = nil
    var location: String? = nil
    var name: String? = nil
    var value: String? = nil
    var after: Int? = nil

    /// Answer `status` (e.g. 500, 503) with an error body, `times` times, then serve normally.
    public static func status(_ status: Int, times: Int = 1, path: String, method: String? = nil) -> Fault {
        Fault(
            action: .status, match: path, times: times, method: method, status: status, retryAfter: nil,
            afterBytes: nil)
    }

    /// Answer `status` (default 429) with `Retry-After: seconds`, `times` times.
    public static func retryAfter(
        seconds: Int, status: Int = 429, times: Int = 1, path: String, method: String? = nil
    ) -> Fault {
        Fault(
            action: .status, match: path, times: times, method: method, status: status, retryAfter: String(seconds),
            afterBytes: nil)
    }

    /// Answer `status` with `Retry-After: text` sent as is (huge, negative, garbage), `times` times.
    public static func retryAfter(
        text: String, status: Int = 429, times: Int = -1, path: String, method: String? = nil
    ) -> Fault {
        Fault(
            action: .status, match: path, times: times, method: method, status: status, retryAfter: text,
            afterBytes: nil)
    }

    /// Answer `status` with the registry error body `{"errors":[{"code": code, "message": message}]}`.
    public static func status(
        _ status: Int, code: String, message: String, times: Int = -1, path: String, method: String? = nil
    ) -> Fault {
        Fault(
            action: .status, match: path, times: times, method: method, status: status, retryAfter: nil,
            afterBytes: nil, code: code, message: message)
    }

    /// Answer 401 with `WWW-Authenticate: Bearer realm="realm",service="fault"`.
    public static func challenge(realm: String, times: Int = -1, path: String) -> Fault {
        Fault(
            action: .challenge, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: nil, realm: realm)
    }

    /// Answer 302 with `Location: location`.
    public static func redirect(to location: String, times: Int = -1, path: String) -> Fault {
        Fault(
            action: .redirect, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: nil, location: location)
    }

    /// Send header `name` as `value` instead of its real value (`Content-Length` too), then close.
    public static func header(_ name: String, _ value: String, times: Int = -1, path: String) -> Fault {
        Fault(
            action: .header, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: nil, name: name, value: value)
    }

    /// Send the headers (full Content-Length) and `afterBytes` body bytes, then close the connection.
    public static func dropConnection(afterBytes: Int, times: Int = 1, path: String) -> Fault {
        Fault(
            action: .drop, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: afterBytes)
    }

    /// Answer a `Range` request with 200 and the whole body (a server that ignores ranges).
    public static func ignoreRange(times: Int = -1, path: String) -> Fault {
        Fault(
            action: .ignoreRange, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: nil)
    }

    /// Serve a body of the right length with every byte inverted.
    public static func wrongBytes(times: Int = -1, path: String) -> Fault {
        Fault(
            action: .wrongBytes, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: nil)
    }

    /// Send the body at about `bytesPerSecond` (a slow registry, so a test can act mid-download).
    public static func slow(bytesPerSecond: Int, times: Int = -1, path: String) -> Fault {
        Fault(
            action: .slow, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: nil, bytesPerSecond: bytesPerSecond)
    }

    /// Answer only once ``FaultServer/release()`` was called (or after 120 s), the first
    /// `after` matching requests excepted: a test looks at a client while it waits.
    public static func hold(after: Int = 0, times: Int = 1, path: String) -> Fault {
        Fault(
            action: .hold, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: nil, after: after)
    }

    /// Leave out the `Docker-Content-Digest` header.
    public static func omitDigest(times: Int = -1, path: String) -> Fault {
        Fault(
            action: .omitDigest, match: path, times: times, method: nil, status: nil, retryAfter: nil,
            afterBytes: nil)
    }
}

/// A request the `FaultServer` saw, in arrival order.
public struct RecordedRequest: Sendable, Decodable, Equatable {
    public let method: String
    /// The request target, e.g. `/v2/x/blobs/sha256:...`.
    public let path: String
    /// The `Range` header, if any (`bytes=1000-`).
    public let range: String?
    /// The status it answered.
    public let status: Int
    /// The fault actions that fired: `status`, `drop`, `wrongBytes`, `omitDigest`, `slow`, ….
    public let faults: [String]
    /// The scheme of the `Authorization` header sent (`Basic`, `Bearer`), if any.
    public let authorization: String?
}

/// A manifest the `FaultServer` derives from the layout's `latest` one: the descriptor
/// `target` (`config`, `layer0`, `layer1`, …) gets the raw JSON text `sizeText` as its size,
/// served under `tag`.
public struct ManifestVariant: Sendable, Encodable {
    public let tag: String
    public let target: String
    public let sizeText: String

    public init(tag: String, target: String, sizeText: String) {
        self.tag = tag
        self.target = target
        self.sizeText = sizeText
    }
}

/// A real HTTP server (Tests/Fixtures/faultserver.py) that serves a fixture layout as a
/// read-only registry under any repository name and injects the configured faults.
/// Tags are the layout's `org.opencontainers.image.ref.name` annotations (`latest`).
public final class FaultServer: Sendable {
    private struct Info: Decodable {
        let url: String
        let hostPort: String
        let caPath: String?
    }

    /// `http://127.0.0.1:PORT` (`https://` with `tls`).
    public let baseURL: URL
    /// `127.0.0.1:PORT`.
    public let hostPort: String
    /// PEM of the CA that signed the server's certificate (`tls` only).
    public let caPath: String?
    private let helper: BackgroundHelper

    private init(baseURL: URL, hostPort: String, caPath: String?, helper: BackgroundHelper) {
        self.baseURL = baseURL
        self.hostPort = hostPort
        self.caPath = caPath
        self.helper = helper
    }

    /// Starts serving `layout` (plus `variants`) with `faults` (tried in order) and returns
    /// once listening; `tls` serves HTTPS with a certificate signed by a fresh CA (``caPath``).
    public static func start(
        layout: URL, faults: [Fault] = [], variants: [ManifestVariant] = [], tls: Bool = false
    ) async throws -> FaultServer {
        let encoder = JSONEncoder()
        let rules = String(decoding: try encoder.encode(faults), as: UTF8.self)
        let derived = String(decoding: try encoder.encode(variants), as: UTF8.self)
        let (helper, info) = try await BackgroundHelper.launch(script: "faultserver.py", as: Info.self) { scratch in
            ["--layout", layout.path, "--faults", rules, "--variants", derived]
                + (tls ? ["--tls-dir", scratch.appendingPathComponent("tls").path] : [])
        }
        guard let url = URL(string: info.url) else {
            await helper.stop()
            throw TestSupportError.badOutput(helper: "faultserver.py", detail: info.url)
        }
        return FaultServer(baseURL: url, hostPort: info.hostPort, caPath: info.caPath, helper: helper)
    }

    /// Runs `body` with a fresh server and stops it afterwards, also when `body` throws.
    public static func with<T>(
        layout: URL, faults: [Fault] = [], _ body: (FaultServer) async throws -> T
    ) async throws -> T {
        let server = try await start(layout: layout, faults: faults)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Every request served so far (from `GET /__log`).
    public func requests() async throws -> [RecordedRequest] {
        let response = try await CurlCLI.get(
            baseURL.appendingPathComponent("__log"), arguments: caPath.map { ["--cacert", $0] } ?? [])
        do {
            return try JSONDecoder().decode([RecordedRequest].self, from: response.body)
        } catch {
            throw TestSupportError.badOutput(helper: "faultserver.py", detail: "\(error)")
        }
    }

    /// Lets every held request (``Fault/hold(after:times:path:)``) go on, and the later ones.
    public func release() async throws {
        _ = try await CurlCLI.get(
            baseURL.appendingPathComponent("__release"), arguments: caPath.map { ["--cacert", $0] } ?? [])
    }

    /// `127.0.0.1:PORT/REPOSITORY:TAG`.
    public func reference(repository: String, tag: String = "latest") -> String {
        "\(hostPort)/\(repository):\(tag)"
    }

    /// Stops the server and waits for it to exit.
    public func stop() async {
        await helper.stop()
    }
}
