import Foundation

/// One HTTP exchange made by the `curl` CLI.
public struct CurlResponse: Sendable {
    /// curl's exit status: 0, or e.g. 18 when the body ended early.
    public let exitCode: Int32
    /// The HTTP status of the last response (0 when none arrived).
    public let status: Int
    /// Response headers of the last response, names lowercased.
    public let headers: [String: String]
    /// The body bytes received.
    public let body: Data
    /// curl's error text, if any.
    public let stderr: String
}

/// Independent HTTP access for tests: the `curl` command line tool, not our libcurl code.
public enum CurlCLI {
    /// Performs one request. `headers` are full header lines (`"Accept: ..."`);
    /// `arguments` are extra curl options (`--cacert`, `-r 0-99`, ...).
    public static func request(
        _ method: String = "GET", _ url: URL, headers: [String] = [], arguments: [String] = []
    ) async throws -> CurlResponse {
        let scratch = try TemporaryDirectory(prefix: "curl")
        defer { scratch.remove() }
        let bodyPath = scratch.url.appendingPathComponent("body").path
        let headerPath = scratch.url.appendingPathComponent("headers").path
        var args = ["-sS", "-o", bodyPath, "-D", headerPath, "-w", "%{http_code}"]
        args += method == "HEAD" ? ["-I"] : ["-X", method]
        for header in headers { args += ["-H", header] }
        args += arguments + [url.absoluteString]
        let result = try await ProcessRunner.run("curl", args)
        let rawHeaders = (try? String(contentsOfFile: headerPath, encoding: .utf8)) ?? ""
        var parsed: [String: String] = [:]
        for line in rawHeaders.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("HTTP/") {
                parsed = [:]  // a later response (after 100 Continue or a redirect) replaces it
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            parsed[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return CurlResponse(
            exitCode: result.status, status: Int(result.output) ?? 0, headers: parsed,
            body: method == "HEAD" ? Data() : FileManager.default.contents(atPath: bodyPath) ?? Data(),
            stderr: String(decoding: result.stderr, as: UTF8.self))
    }

    /// A GET request.
    public static func get(_ url: URL, headers: [String] = [], arguments: [String] = []) async throws -> CurlResponse {
        try await request("GET", url, headers: headers, arguments: arguments)
    }

    /// All four manifest and index media types, for a registry `Accept` header.
    public static let manifestAccept =
        "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
        + "application/vnd.docker.distribution.manifest.v2+json, "
        + "application/vnd.docker.distribution.manifest.list.v2+json"
}
