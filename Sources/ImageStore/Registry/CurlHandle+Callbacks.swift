import CCurl
import Foundation

// The C callbacks of ``CurlHandle``. They capture nothing: the ``TransferBox`` arrives as
// userdata. A Swift error never unwinds through libcurl: it is stored in the box and the
// callback returns the value that makes curl abort the transfer.

/// CURLOPT_WRITEFUNCTION: a 2xx body goes to the handler, any other body is kept (capped) for
/// the registry's JSON error. Returning a short count aborts with CURLE_WRITE_ERROR.
let curlWriteCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, userdata in
    guard let userdata else { return 0 }
    let box = Unmanaged<TransferBox>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    if (200..<300).contains(box.status) {
        do {
            try box.body(box.status, bytes)
        } catch {
            box.error = error
            return 0
        }
    } else if box.errorBody.count < CurlHandle.errorBodyLimit {
        box.errorBody.append(contentsOf: bytes.prefix(CurlHandle.errorBodyLimit - box.errorBody.count))
    }
    return length
}

/// CURLOPT_HEADERFUNCTION: a status line starts a new response (redirects, 100-continue), so
/// only the final response's headers remain.
let curlHeaderCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, userdata in
    guard let userdata else { return 0 }
    let box = Unmanaged<TransferBox>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        let parts = line.split(separator: " ")
        box.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        box.headers = [:]
        box.errorBody = Data()
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        box.headers[name] = value
    }
    return length
}

/// CURLOPT_XFERINFOFUNCTION: non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
let curlProgressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = {
    userdata, _, _, _, _ in
    guard let userdata else { return 0 }
    let box = Unmanaged<TransferBox>.fromOpaque(userdata).takeUnretainedValue()
    return box.cancel.isCancelled ? 1 : 0
}
