import CCurl
import Foundation
import Synchronization

/// One HTTP request as the registry client builds it.
struct HTTPRequest: Sendable {
    enum Method: String, Sendable {
        case get = "GET"
        case head = "HEAD"
    }

    var method: Method = .get
    var url: String
    /// Complete header lines, `Name: value`.
    var headers: [String] = []
    /// Ask for the bytes from this offset on (`Range: bytes=N-`).
    var rangeStart: Int64?
    /// Whole-request limit; `nil` leaves only the low-speed limit (blob downloads).
    var timeout: Duration?
    /// A body larger than this is refused: at once when Content-Length says so (curl 63,
    /// mapped to `RegistryError.sizeExceeded`), else by the body handler. `nil`: no limit.
    var maxBodySize: Int64?
}

/// The final response of a transfer (after redirects).
struct HTTPResponse: Sendable {
    var status: Int
    /// Header names lowercased; the last value of a repeated header wins.
    var headers: [String: String]
    /// The body of a non-2xx response, capped at ``CurlHandle/errorBodyLimit`` bytes.
    var errorBody: Data
    /// The URL that answered, after redirects.
    var effectiveURL: String

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Connection settings for one transfer, resolved from ``RegistryConfiguration``.
struct TransferOptions: Sendable {
    var connectTimeout: Duration
    var lowSpeedLimit: Int
    var lowSpeedTime: Duration
    /// PEM bundle to verify the registry's certificate with instead of the system store.
    var caFile: String?
    /// The only schemes this transfer and its redirects may use (`CURLOPT_PROTOCOLS_STR`,
    /// `CURLOPT_REDIR_PROTOCOLS_STR`): `https` for a TLS registry, `http,https` for one
    /// allowed insecure. Never anything else: a redirect or realm to `file:`, `gopher:`,
    /// `ftp:`, `dict:`… fails with curl 1 (unsupported protocol).
    var protocols: String
}

/// Receives the body of a 2xx response: the status, then the bytes as they arrive.
typealias BodyHandler = (_ status: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void

/// Owns one libcurl easy handle; the only type that talks to libcurl.
///
/// A handle lives inside one ``BlockingExecutor`` job: it is made, performs one request and is
/// freed there, so it never crosses threads while in use. Bodies stream through the write
/// callback into a ``BodyHandler``; a Swift error thrown there is kept in the transfer's box,
/// the callback returns curl's abort value and ``perform(_:options:cancel:body:)`` rethrows it.
final class CurlHandle {
    /// Bodies of error responses kept for the registry's JSON error, at most this many bytes.
    static let errorBodyLimit = 64 * 1024

    /// curl_global_init runs once per process, before the first handle; SIGPIPE is ignored
    /// first (``BrokenPipes``), since `CURLOPT_NOSIGNAL` leaves it to us.
    private static let globalInit: CURLcode = {
        BrokenPipes.ignore()
        return ccurl_global_init()
    }()

    private let handle: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: curl writes its detailed message here; read by ``check(_:_:)``.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init(url: String) throws(RegistryError) {
        guard CurlHandle.globalInit == CURLE_OK, let handle = curl_easy_init() else {
            throw .transport(
                url: url, curlCode: Int32(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Performs `request` and returns the final response.
    ///
    /// - Throws: `RegistryError.transport` with curl's code and message, `CancellationError`
    ///   when `cancel` was set, or what `body` threw.
    func perform(
        _ request: HTTPRequest, options: TransferOptions, cancel: CancellationFlag,
        body: @escaping BodyHandler
    ) throws -> HTTPResponse {
        let box = TransferBox(body: body, cancel: cancel)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for line in request.headers { headerList = curl_slist_append(headerList, line) }

        return try withExtendedLifetime(box) {
            let url = request.url
            let userdata = Unmanaged.passUnretained(box).toOpaque()
            try check(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), url)
            try check(ccurl_setopt_string(handle, CURLOPT_URL, url), url)
            try check(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), url)
            try check(ccurl_setopt_long(handle, CURLOPT_BUFFERSIZE, 128 * 1024), url)
            if request.method == .head { try check(ccurl_setopt_long(handle, CURLOPT_NOBODY, 1), url) }
            try check(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), url)
            if let start = request.rangeStart, start > 0 {
                try check(ccurl_setopt_string(handle, CURLOPT_RANGE, "\(start)-"), url)
            }
            // Blob GETs redirect to storage; libcurl drops Authorization on a host change
            // (CURLOPT_UNRESTRICTED_AUTH stays 0), which is what we want.
            try check(ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, options.protocols), url)
            try check(ccurl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, options.protocols), url)
            try check(ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1), url)
            try check(ccurl_setopt_long(handle, CURLOPT_MAXREDIRS, 10), url)
            try check(ccurl_setopt_long(handle, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS), url)
            try check(
                ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeout.wholeMilliseconds),
                url)
            try check(ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedLimit), url)
            try check(
                ccurl_setopt_long(
                    handle, CURLOPT_LOW_SPEED_TIME, max(1, options.lowSpeedTime.wholeMilliseconds / 1000)), url)
            if let timeout = request.timeout {
                try check(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout.wholeMilliseconds), url)
            }
            if let limit = request.maxBodySize, limit > 0 {
                try check(ccurl_setopt_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limit)), url)
            }
            if let caFile = options.caFile {
                try check(ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile), url)
            }
            try check(ccurl_setopt_write_callback(handle, curlWriteCallback), url)
            try check(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata), url)
            try check(ccurl_setopt_header_callback(handle, curlHeaderCallback), url)
            try check(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata), url)
            try check(ccurl_setopt_xferinfo_callback(handle, curlProgressCallback), url)
            try check(ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, userdata), url)
            try check(ccurl_setopt_long(handle, CURLOPT_NOPROGRESS, 0), url)

            let code = curl_easy_perform(handle)
            if let error = box.error { throw error }
            if cancel.isCancelled { throw CancellationError() }
            try check(code, url)

            var status = 0
            try check(ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), url)
            var effective: UnsafeMutablePointer<CChar>?
            try check(ccurl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective), url)
            return HTTPResponse(
                status: status, headers: box.headers, errorBody: box.errorBody,
                effectiveURL: effective.map { String(cString: $0) } ?? url)
        }
    }

    /// Turns a curl return code into `RegistryError.transport`, keeping curl's own message.
    private func check(_ code: CURLcode, _ url: String) throws(RegistryError) {
        guard code != CURLE_OK else { return }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        throw .transport(url: url, curlCode: Int32(code.rawValue), message: message)
    }
}

/// What the C callbacks of one transfer share, passed to them as userdata.
final class TransferBox {
    let body: BodyHandler
    let cancel: CancellationFlag
    var status = 0
    var headers: [String: String] = [:]
    var errorBody = Data()
    var error: (any Error)?

    init(body: @escaping BodyHandler, cancel: CancellationFlag) {
        self.body = body
        self.cancel = cancel
    }
}
