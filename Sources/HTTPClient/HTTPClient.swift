import CCurl
import Glibc

/// A blocking HTTP client that owns one libcurl easy handle and reuses its
/// connections between requests.
///
/// `send` blocks the calling thread for the whole transfer: use one client per
/// worker thread, never from Swift's cooperative pool. Not `Sendable` on purpose.
public final class HTTPClient {
    private var handle: UnsafeMutableRawPointer?
    public var timeouts: HTTPTimeouts
    /// Asked about ten times a second during a transfer; `true` aborts it with `.cancelled` (a stopping worker).
    public var isCancelled: (@Sendable () -> Bool)?

    public init(timeouts: HTTPTimeouts = HTTPTimeouts(), isCancelled: (@Sendable () -> Bool)? = nil) {
        _ = Self.globalInit
        self.timeouts = timeouts
        self.isCancelled = isCancelled
        handle = curl_easy_init()
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }

    /// `curl_global_init` is not thread-safe: run it once, before any handle exists.
    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// Sends the request and reads the whole response.
    /// Throws `HTTPError` when no HTTP status could be read; any status, 4xx and 5xx included, is returned.
    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let h = handle else { throw HTTPError(.other, "HTTP client could not be initialised") }
        curl_easy_reset(h)

        let sink = ResponseSink(limit: timeouts.maxResponseBytes, isCancelled: isCancelled)
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // An empty Expect header stops libcurl from waiting for "100 Continue" on larger bodies.
        headerList = curl_slist_append(headerList, "Expect:")

        prerender_curl_setopt_string(h, CURLOPT_URL, request.url)
        prerender_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        prerender_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        prerender_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connect * 1000))
        prerender_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(timeouts.total * 1000))
        prerender_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)
        prerender_curl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, writeCallback)
        prerender_curl_setopt_pointer(h, CURLOPT_WRITEDATA, sinkPointer)
        prerender_curl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, headerCallback)
        prerender_curl_setopt_pointer(h, CURLOPT_HEADERDATA, sinkPointer)
        if isCancelled != nil {
            prerender_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
            prerender_curl_setopt_progress_callback(h, CURLOPT_XFERINFOFUNCTION, progressCallback)
            prerender_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, sinkPointer)
        }

        let method = request.method.uppercased()
        let code: CURLcode = withExtendedLifetime(sink) {
            if let body = request.body {
                return body.withUnsafeBufferPointer { buffer in
                    prerender_curl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
                    prerender_curl_setopt_pointer(h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
                    if method != "POST" { prerender_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method) }
                    return curl_easy_perform(h)
                }
            }
            switch method {
            case "GET": prerender_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
            case "HEAD": prerender_curl_setopt_long(h, CURLOPT_NOBODY, 1)
            default: prerender_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method)
            }
            return curl_easy_perform(h)
        }

        if code != CURLE_OK {
            throw Self.error(code, sink: sink, timeouts: timeouts, url: request.url)
        }
        var status = 0
        prerender_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    private static func error(_ code: CURLcode, sink: ResponseSink, timeouts: HTTPTimeouts, url: String) -> HTTPError {
        let reason = String(cString: curl_easy_strerror(code))
        let target = Self.redactedURL(url)
        switch code {
        case CURLE_ABORTED_BY_CALLBACK:
            return HTTPError(.cancelled, "\(target): cancelled")
        case CURLE_WRITE_ERROR where sink.overflowed:
            return HTTPError(.tooLarge, "response from \(target) is larger than \(timeouts.maxResponseBytes) bytes")
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPError(.timeout, "\(target): timed out (connect \(timeouts.connect) s, total \(timeouts.total) s)")
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SEND_ERROR,
             CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_SSL_CONNECT_ERROR:
            return HTTPError(.connection, "\(target): \(reason)")
        case CURLE_PARTIAL_FILE:
            return HTTPError(.truncated, "\(target): the transfer ended before the whole body arrived (\(sink.body.count) bytes)")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return HTTPError(.badURL, "\(target): \(reason)")
        default:
            return HTTPError(.other, "\(target): \(reason)")
        }
    }

    /// Scheme, host and path only: query strings can carry signed tokens.
    static func redactedURL(_ url: String) -> String {
        var text = url
        if let q = text.firstIndex(of: "?") { text = String(text[..<q]) }
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") {
            text = String(text[..<scheme.upperBound]) + String(text[text.index(after: at)...])
        }
        return text
    }
}

/// Collects the body and headers of one transfer. Lives only for the length of `send`.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    let limit: Int
    let isCancelled: (@Sendable () -> Bool)?
    var overflowed = false

    init(limit: Int, isCancelled: (@Sendable () -> Bool)?) {
        self.limit = limit
        self.isCancelled = isCancelled
    }
}

private let progressCallback: prerender_curl_progress_callback = { userdata, _, _, _, _ in
    guard let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    return sink.isCancelled?() == true ? 1 : 0
}

private let writeCallback: prerender_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    if sink.body.count + length > sink.limit {
        sink.overflowed = true
        return 0
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        sink.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}

private let headerCallback: prerender_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: length) { start in
        let line = UnsafeBufferPointer(start: start, count: length)
        if line.starts(with: "HTTP/".utf8) {
            // A new response (after a redirect or 100 Continue) starts a new set of headers.
            sink.headers = [:]
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            // Bytes, not Foundation's trimming: this runs for every header of every response.
            func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0a }
            var from = colon + 1, to = length
            while from < to && isSpace(line[from]) { from += 1 }
            while to > from && isSpace(line[to - 1]) { to -= 1 }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[from..<to], as: UTF8.self)
            sink.headers[name] = value
            // The body's room at once, rather than doubling (and copying) as curl's 16 KB pieces arrive.
            if name == "content-length", let length = Int(value), length > 0 {
                sink.body.reserveCapacity(min(length, sink.limit))
            }
        }
    }
    return length
}

import Foundation
