#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// One HTTP/1.x request as the IDS sees it: every Suricata-style HTTP buffer
// as a byte range of one contiguous store, plus the anomalies met while
// parsing it. Built by `HTTPRequestParser`; read by the detection engine
// and, when an alert is written, by the EVE output.

/// Things a request did that a well-behaved client does not: Suricata's HTTP
/// decoder events, as flags. Setting one never stops parsing; signatures
/// and policy decide what they mean.
public struct HTTPAnomalies: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// One bit per anomaly (stable: stored and compared across versions).
    public let rawValue: UInt64

    /// The anomalies of `rawValue`'s bits.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    // Request line.
    /// A request line that is not `METHOD SP target SP HTTP/d.d`: a protocol
    /// token that is not exactly `HTTP/d.d`, a version other than 1.x, or
    /// whitespace inside the target (`GET /a b HTTP/1.1`: the target is
    /// `/a`, the protocol `b HTTP/1.1`, as libhtp splits it).
    public static let invalidRequestLine = HTTPAnomalies(rawValue: 1 << 0)
    /// Longer than `HTTPLimits.requestLineBytes`: cut there.
    public static let requestLineTooLong = HTTPAnomalies(rawValue: 1 << 1)
    /// Delimiters other than one SP between the request-line parts (HTAB,
    /// runs of SP, trailing whitespace).
    public static let requestLineWhitespace = HTTPAnomalies(rawValue: 1 << 2)
    /// Bytes that were not a request came before this request (after a
    /// framing error or a body the headers did not announce); skipped.
    public static let junkBeforeRequest = HTTPAnomalies(rawValue: 1 << 3)
    /// A line ended with a bare LF instead of CRLF (accepted, RFC 9112 §2.2).
    public static let bareLineFeed = HTTPAnomalies(rawValue: 1 << 4)

    // Header section.
    /// The header section is longer than `HTTPLimits.headerBytes`: the
    /// lines that did not fit (and their obs-fold lines) were skipped.
    public static let headerTooLong = HTTPAnomalies(rawValue: 1 << 5)
    /// More header lines than `HTTPLimits.headers`: the rest ignored (but
    /// kept in the raw header buffer).
    public static let tooManyHeaders = HTTPAnomalies(rawValue: 1 << 6)
    /// A header line without a colon, with an empty or non-token name, or
    /// with whitespace before the colon (`Transfer-Encoding : chunked`, a
    /// smuggling device RFC 9112 §5.1 says to reject).
    public static let invalidHeader = HTTPAnomalies(rawValue: 1 << 7)
    /// obs-fold continuation lines (RFC 9112 §5.2): joined with one SP.
    public static let headerFolding = HTTPAnomalies(rawValue: 1 << 8)
    /// HTTP/1.1 or later without a Host header (RFC 9112 §3.2).
    public static let missingHost = HTTPAnomalies(rawValue: 1 << 9)
    /// Several Host headers, or an absolute-form URI whose host differs from
    /// the Host header (the URI's host is used, as Suricata does).
    public static let ambiguousHost = HTTPAnomalies(rawValue: 1 << 10)

    // URI.
    /// The target is in absolute-form (`http://host/path`).
    public static let absoluteURI = HTTPAnomalies(rawValue: 1 << 11)
    /// `%` not followed by two hex digits (or `%u` by four): kept literally.
    public static let invalidPercentEncoding = HTTPAnomalies(rawValue: 1 << 12)
    /// An escape survived one decoding round (`%252e`): decoded twice.
    public static let doubleEncoding = HTTPAnomalies(rawValue: 1 << 13)
    /// IIS `%uXXXX` escapes.
    public static let uEncoding = HTTPAnomalies(rawValue: 1 << 14)
    /// A NUL byte in the URI, raw or decoded (kept).
    public static let nulInURI = HTTPAnomalies(rawValue: 1 << 15)
    /// `/` or `\` encoded in the path (`%2f`, `%5c`, `%u002f`).
    public static let encodedSeparator = HTTPAnomalies(rawValue: 1 << 16)
    /// `..` segments that would climb above the root (`/a/../../etc`).
    public static let dotSegmentAboveRoot = HTTPAnomalies(rawValue: 1 << 17)
    /// Overlong UTF-8 in the path (`%c0%af` for `/`).
    public static let utf8Overlong = HTTPAnomalies(rawValue: 1 << 18)
    /// Full-width forms U+FF01...U+FF5E (`%uff0f`, UTF-8 `%ef%bc%8f`), read as ASCII.
    public static let halfFullWidth = HTTPAnomalies(rawValue: 1 << 19)

    // Body framing: request-smuggling signals (RFC 9112 §6).
    /// A Content-Length that is not a plain decimal number: ignored (no body).
    public static let invalidContentLength = HTTPAnomalies(rawValue: 1 << 20)
    /// More than one Content-Length header (the first is used).
    public static let multipleContentLength = HTTPAnomalies(rawValue: 1 << 21)
    /// Content-Length headers with different values.
    public static let conflictingContentLength = HTTPAnomalies(rawValue: 1 << 22)
    /// Both Content-Length and Transfer-Encoding (Transfer-Encoding wins, RFC 9112 §6.3).
    public static let contentLengthAndChunked = HTTPAnomalies(rawValue: 1 << 23)
    /// A Transfer-Encoding whose last coding is not `chunked`: no body is read.
    public static let invalidTransferEncoding = HTTPAnomalies(rawValue: 1 << 24)
    /// A chunk-size line that is not hex (or too long): the body ends there
    /// and the parser looks for the next request line.
    public static let invalidChunkSize = HTTPAnomalies(rawValue: 1 << 25)
    /// Chunk data not followed by CRLF, or whitespace before a chunk size.
    public static let invalidChunkFraming = HTTPAnomalies(rawValue: 1 << 26)
    /// The flow ended inside the header section (see `HTTPRequestParser.finish`).
    public static let incompleteRequest = HTTPAnomalies(rawValue: 1 << 27)

    private static let namedFlags: [(HTTPAnomalies, String)] = [
        (.invalidRequestLine, "invalid_request_line"), (.requestLineTooLong, "request_line_too_long"),
        (.requestLineWhitespace, "request_line_whitespace"), (.junkBeforeRequest, "junk_before_request"),
        (.bareLineFeed, "bare_line_feed"), (.headerTooLong, "header_too_long"),
        (.tooManyHeaders, "too_many_headers"), (.invalidHeader, "invalid_header"),
        (.headerFolding, "header_folding"), (.missingHost, "missing_host"), (.ambiguousHost, "ambiguous_host"),
        (.absoluteURI, "absolute_uri"), (.invalidPercentEncoding, "invalid_percent_encoding"),
        (.doubleEncoding, "double_encoding"), (.uEncoding, "u_encoding"), (.nulInURI, "nul_in_uri"),
        (.encodedSeparator, "encoded_separator"), (.dotSegmentAboveRoot, "dot_segment_above_root"),
        (.utf8Overlong, "utf8_overlong"), (.halfFullWidth, "half_full_width"),
        (.invalidContentLength, "invalid_content_length"), (.multipleContentLength, "multiple_content_length"),
        (.conflictingContentLength, "conflicting_content_length"),
        (.contentLengthAndChunked, "content_length_and_chunked"),
        (.invalidTransferEncoding, "invalid_transfer_encoding"), (.invalidChunkSize, "invalid_chunk_size"),
        (.invalidChunkFraming, "invalid_chunk_framing"), (.incompleteRequest, "incomplete_request"),
    ]

    /// snake_case names of the flags set, in bit order (for EVE and reports).
    public var names: [String] {
        Self.namedFlags.compactMap { contains($0.0) ? $0.1 : nil }
    }

    /// `[name, name]`, for logs and test output.
    public var description: String {
        "[" + names.joined(separator: ", ") + "]"
    }
}

/// The bytes of one transaction: a growable buffer with a single writer.
///
/// Not an Array: the parser appends many small pieces per request and
/// copies parts of the buffer onto its own end, which an Array can only do
/// with a zero-fill per copy and a uniqueness check per append (measured:
/// about a third of the parse time). `HTTPTransaction` keeps value semantics
/// over it by copy-on-write at the one place a copy can leave the parser
/// (see `HTTPTransaction.makeStoreUnique`).
final class HTTPByteStore: @unchecked Sendable {
    // @unchecked: a store is written only through the HTTPTransaction value
    // holding the only reference to it; `makeStoreUnique` runs after every
    // callback, the only place another value can start sharing it, so a
    // shared store is only ever read (Array's own argument).
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    /// The store of transactions that have not parsed anything yet. Never
    /// written: being shared, it is never uniquely referenced, so `reset`
    /// replaces it before the first write.
    static let empty = HTTPByteStore()

    deinit {
        base.deallocate()
    }

    func copy() -> HTTPByteStore {
        let other = HTTPByteStore(capacity: count)
        other.base.initialize(from: base, count: count)
        other.count = count
        return other
    }

    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    @inline(__always)
    subscript(i: Int) -> UInt8 {
        assert(i >= 0 && i < count)
        return base[i]
    }

    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    @inline(never)
    private func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2, 512)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Appends bytes from outside the store.
    @inline(__always)
    func append(_ p: UnsafePointer<UInt8>, count n: Int) {
        guard n > 0 else { return }
        reserve(n)
        (base + count).initialize(from: p, count: n)
        count += n
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(_ first: UInt8, _ second: UInt8) {
        reserve(2)
        base[count] = first
        base[count + 1] = second
        count += 2
    }

    /// Appends a copy of `self[start..<start + n]`.
    @inline(__always)
    func appendCopy(from start: Int, count n: Int) {
        guard n > 0 else { return }
        assert(start >= 0 && start + n <= count)
        reserve(n)
        (base + count).initialize(from: base + start, count: n)
        count += n
    }

    func truncate(to newCount: Int) {
        assert(newCount >= 0 && newCount <= count)
        count = newCount
    }

    func bytesEqual(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        a.count == b.count && memcmp(base + a.lowerBound, base + b.lowerBound, a.count) == 0
    }

    func array(_ r: Range<Int>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: base + r.lowerBound, count: r.count))
    }
}

/// A byte range of `HTTPTransaction.store`; `count < 0` is "absent".
struct HTTPBufferSpan: Sendable, Equatable {
    var start: Int32
    var count: Int32

    static let absent = HTTPBufferSpan(start: 0, count: -1)

    init(start: Int32, count: Int32) {
        self.start = start
        self.count = count
    }

    init(_ start: Int, _ count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }

    var isPresent: Bool { count >= 0 }
    var range: Range<Int> { Int(start)..<Int(start) + Int(count) }
}

/// Header names the parser gives a buffer or a framing meaning.
enum HTTPKnownHeader: UInt8, Sendable {
    case other, host, userAgent, cookie, referer, contentType, accept, acceptLanguage, acceptEncoding
    case connection, contentLength, transferEncoding, upgrade

    /// The header a lowercase-insensitive `name[0..<count]` is.
    static func classify(_ name: UnsafePointer<UInt8>, count: Int) -> HTTPKnownHeader {
        switch count {
        case 4: if HTTPASCII.equalsIgnoringCase(name, count: count, "host") { return .host }
        case 6:
            if HTTPASCII.equalsIgnoringCase(name, count: count, "cookie") { return .cookie }
            if HTTPASCII.equalsIgnoringCase(name, count: count, "accept") { return .accept }
        case 7:
            if HTTPASCII.equalsIgnoringCase(name, count: count, "referer") { return .referer }
            if HTTPASCII.equalsIgnoringCase(name, count: count, "upgrade") { return .upgrade }
        case 10:
            if HTTPASCII.equalsIgnoringCase(name, count: count, "user-agent") { return .userAgent }
            if HTTPASCII.equalsIgnoringCase(name, count: count, "connection") { return .connection }
        case 12: if HTTPASCII.equalsIgnoringCase(name, count: count, "content-type") { return .contentType }
        case 14: if HTTPASCII.equalsIgnoringCase(name, count: count, "content-length") { return .contentLength }
        case 15:
            if HTTPASCII.equalsIgnoringCase(name, count: count, "accept-language") { return .acceptLanguage }
            if HTTPASCII.equalsIgnoringCase(name, count: count, "accept-encoding") { return .acceptEncoding }
        case 17:
            if HTTPASCII.equalsIgnoringCase(name, count: count, "transfer-encoding") { return .transferEncoding }
        default: break
        }
        return .other
    }

    /// The single-value buffer of this header (Host has its own, normalised).
    var buffer: SignatureBuffer? {
        switch self {
        case .userAgent: .httpUserAgent
        case .cookie: .httpCookie
        case .referer: .httpReferer
        case .contentType: .httpContentType
        case .accept: .httpAccept
        case .acceptLanguage: .httpAcceptLanguage
        case .acceptEncoding: .httpAcceptEncoding
        case .connection: .httpConnection
        case .contentLength: .httpContentLength
        case .other, .host, .transferEncoding, .upgrade: nil
        }
    }
}

/// One header line as parsed (offsets into the transaction's store).
struct HTTPHeaderEntry: Sendable {
    /// The name as sent (raw header section).
    var nameStart: Int32
    var nameCount: Int32
    /// The value of the first line, OWS-trimmed (raw header section).
    var valueStart: Int32
    var valueCount: Int32
    /// Index of the first entry with the same name, or -1 for that first
    /// entry itself: later duplicates are merged into it as `a, b`.
    var mergedInto: Int32 = -1
    var kind: HTTPKnownHeader
    /// obs-fold continuation lines follow (see `HTTPFoldedLine`).
    var folded = false
    /// The merged, folded value and its whole `Name: value\r\n` line in the
    /// http.start region (first entries only; set when buffers are built).
    var normalizedValue = HTTPBufferSpan.absent
    var normalizedLine = HTTPBufferSpan.absent
}

/// An obs-fold continuation line, OWS-trimmed, belonging to `entry`.
struct HTTPFoldedLine: Sendable {
    var entry: Int32
    var start: Int32
    var count: Int32
}

/// One HTTP request: every HTTP signature buffer as a range of one
/// contiguous byte store, reused from request to request of a flow.
///
/// Buffers follow Suricata's definitions (http-keywords of the Suricata 8
/// user guide, and libhtp for the raw header):
/// - `httpMethod`, `httpRawURI`, `httpProtocol`: the request-line parts as
///   sent. `httpRequestLine`: the line without its CRLF.
/// - `httpURI`: the target normalised by `URINormalizer`.
/// - `httpRawHeader`: the header lines as sent, *including* the final blank
///   line: libhtp hands Suricata the header block up to and including the
///   terminator (`htp_connp_req_receiver_finalize_clear` runs after the
///   blank line is consumed).
/// - `httpHeader`: `Name: value\r\n` per header, value OWS-trimmed, obs-fold
///   lines joined with one SP, repeated names merged into the first as
///   `v1, v2` (Suricata's documented normalisation); Cookie left out; no
///   final blank line. Absent when no other header was sent.
/// - `httpHeaderNames`: `\r\nName1\r\nName2\r\n\r\n` (merged names once);
///   absent when the request has no header.
/// - `httpStart`: the request line, CRLF, then every header (Cookie too)
///   normalised as in `httpHeader`, then CRLF: what Suricata's `http.start`
///   builds (it is *normalised*, not as sent). With no header at all it is
///   the request line and one CRLF.
/// - `httpHost`: from the absolute-form URI if there is one, else the Host
///   header; lowercased, without the port, trailing dots removed.
/// - `httpCookie`, `httpUserAgent`, `httpReferer`, `httpContentType`,
///   `httpAccept`, `httpAcceptLanguage`, `httpAcceptEncoding`,
///   `httpConnection`, `httpContentLength`: the (merged, trimmed) value;
///   absent when the header is, present but empty for an empty value.
/// - `httpClientBody`: the dechunked body, at most
///   `HTTPLimits.bodyInspectBytes`; absent when empty.
///
/// A transaction handed to an `HTTPRequestParser` callback is the parser's
/// own, so reading it costs nothing. Keeping a copy after the callback is
/// allowed (value semantics) but makes the parser copy the store once; on
/// the hot path read what you need inside the callback.
public struct HTTPTransaction: Sendable {
    /// Raw head, then built buffers, then the body. Only grows while a
    /// request is parsed; emptied (capacity kept) when the next one starts.
    /// Starts as the shared empty store, so creating a transaction (and a
    /// parser) allocates nothing.
    var store = HTTPByteStore.empty
    /// Indexed by `SignatureBuffer.rawValue`.
    var spans: [HTTPBufferSpan] = []
    var entries: [HTTPHeaderEntry] = []
    var foldedLines: [HTTPFoldedLine] = []

    /// Position of this request on its flow, from 0 (EVE's `tx_id`).
    public internal(set) var index = 0
    /// What the request did wrong so far.
    public internal(set) var anomalies: HTTPAnomalies = []
    /// The request announced a body (Content-Length > 0 or chunked).
    public internal(set) var hasBody = false
    /// The body is chunked (`Transfer-Encoding: ..., chunked`).
    public internal(set) var isChunked = false
    /// The Content-Length used for framing (the first one when repeated).
    public internal(set) var contentLength: Int? = nil
    /// Body bytes seen so far, buffered or skipped (dechunked). When the body
    /// is reported truncated it includes the rest of the segment that
    /// crossed the limit, so its value then depends on segmentation.
    public internal(set) var bodyBytesSeen = 0
    /// The whole body was seen and is in `httpClientBody`. False for
    /// a request without a body.
    public internal(set) var bodyComplete = false
    /// The body was longer than `HTTPLimits.bodyInspectBytes`: the buffer
    /// holds its first bytes only, the rest was skipped.
    public internal(set) var bodyTruncated = false
    /// The protocol version's major digit (1 when the line gave none that
    /// could be read; 0 with minor 9 for an HTTP/0.9 request line).
    public internal(set) var versionMajor = 1
    /// The protocol version's minor digit.
    public internal(set) var versionMinor = 1

    /// An empty transaction: every buffer absent.
    public init() {}

    // MARK: - Buffers

    /// Where `buffer` lies in the store (see `withStorage`), or nil if absent.
    public func range(of buffer: SignatureBuffer) -> Range<Int>? {
        let i = Int(buffer.rawValue)
        guard i < spans.count, spans[i].isPresent else { return nil }
        return spans[i].range
    }

    /// Calls `body` with the whole store; `range(of:)` locates each buffer in
    /// it. One call for all the buffers of a request.
    public func withStorage<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(store) { try body(store.bytes) }
    }

    /// Calls `body` with the bytes of `buffer` (no copy); nil (and `body`
    /// not called) when the request has no such buffer.
    public func withBuffer<Result>(_ buffer: SignatureBuffer,
                                   _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        guard let r = range(of: buffer) else { return nil }
        return try withExtendedLifetime(store) { try body(UnsafeRawBufferPointer(rebasing: store.bytes[r])) }
    }

    /// A copy of the bytes of `buffer`, nil if absent (for tests and EVE;
    /// use `withBuffer` on the hot path).
    public func bytes(_ buffer: SignatureBuffer) -> [UInt8]? {
        range(of: buffer).map { store.array($0) }
    }

    /// Number of distinct header names (repeated names count once).
    public var headerCount: Int {
        entries.reduce(0) { $0 + ($1.mergedInto < 0 ? 1 : 0) }
    }

    /// A copy of the normalised (trimmed, folded, merged) value of header
    /// `name`, compared case-insensitively; nil if the request has no such header.
    public func headerValue(named name: String) -> [UInt8]? {
        for entry in entries where entry.mergedInto < 0 && entry.normalizedValue.isPresent
            && Int(entry.nameCount) == name.utf8.count
        {
            var equal = true
            var i = Int(entry.nameStart)
            for c in name.utf8 {
                if HTTPASCII.lower(store[i]) != HTTPASCII.lower(c) { equal = false; break }
                i += 1
            }
            if equal { return store.array(entry.normalizedValue.range) }
        }
        return nil
    }

    /// Calls `body` with each header's name as sent and normalised value
    /// (no copies), in order, repeated names once (EVE's `request_headers`).
    public func forEachHeader(
        _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try withExtendedLifetime(store) {
            let all = store.bytes
            for entry in entries where entry.mergedInto < 0 && entry.normalizedValue.isPresent {
                let name = Int(entry.nameStart)..<Int(entry.nameStart) + Int(entry.nameCount)
                try body(UnsafeRawBufferPointer(rebasing: all[name]),
                         UnsafeRawBufferPointer(rebasing: all[entry.normalizedValue.range]))
            }
        }
    }

    // MARK: - Text for EVE (built on demand, when an alert is written)

    /// `http_method`.
    public var method: String { text(.httpMethod) ?? "" }
    /// The target as sent.
    public var uriRaw: String { text(.httpRawURI) ?? "" }
    /// `url`: the normalised target.
    public var uriNormalized: String { text(.httpURI) ?? "" }
    /// `protocol` (`HTTP/1.1`), nil for an HTTP/0.9 request.
    public var protocolVersion: String? { text(.httpProtocol) }
    /// `hostname` (normalised), nil when neither the URI nor a header gave one.
    public var host: String? { text(.httpHost) }
    /// `http_user_agent`.
    public var userAgent: String? { text(.httpUserAgent) }
    /// `http_refer` (sic, EVE's name).
    public var referer: String? { text(.httpReferer) }
    /// `http_content_type`.
    public var contentType: String? { text(.httpContentType) }

    private func text(_ buffer: SignatureBuffer) -> String? {
        withBuffer(buffer) { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: - Building (parser only)

    /// Empties the transaction for the next request, keeping the store's
    /// capacity unless a big request grew it past `retainedBytes`. Must run
    /// before the first write to a transaction (see `HTTPByteStore.empty`).
    mutating func reset(retainedBytes: Int) {
        if !isKnownUniquelyReferenced(&store) {
            // A first request starts with room for a typical head (one
            // allocation instead of growing 512, 1 K, 2 K as it is parsed).
            store = HTTPByteStore(capacity: min(max(store.capacity, 2048), retainedBytes))
        } else if store.capacity > retainedBytes {
            store = HTTPByteStore()
        } else {
            store.truncate(to: 0)
        }
        if spans.isEmpty {
            spans = Array(repeating: .absent, count: Int(SignatureBuffer.httpStart.rawValue) + 1)
        } else {
            for i in spans.indices { spans[i] = .absent }
        }
        // removeAll(keepingCapacity:) on an array without storage of its own
        // (empty, capacity 0) takes the unspecialized allocation path: skip it.
        if !entries.isEmpty { entries.removeAll(keepingCapacity: true) }
        if entries.capacity < 16 { entries.reserveCapacity(16) }
        if !foldedLines.isEmpty { foldedLines.removeAll(keepingCapacity: true) }
        index = 0
        anomalies = []
        hasBody = false
        isChunked = false
        contentLength = nil
        bodyBytesSeen = 0
        bodyComplete = false
        bodyTruncated = false
        versionMajor = 1
        versionMinor = 1
    }

    /// Copy-on-write for the store. The parser calls it after handing the
    /// transaction to a callback, the only place a second value can appear;
    /// between two callbacks every write goes to a store nobody else holds.
    mutating func makeStoreUnique() {
        if !isKnownUniquelyReferenced(&store) { store = store.copy() }
    }

    @inline(__always)
    mutating func setSpan(_ buffer: SignatureBuffer, start: Int, count: Int) {
        spans[Int(buffer.rawValue)] = HTTPBufferSpan(start, count)
    }

    @inline(__always)
    mutating func setSpan(_ buffer: SignatureBuffer, _ span: HTTPBufferSpan) {
        spans[Int(buffer.rawValue)] = span
    }

    @inline(__always)
    func appendCopy(_ span: HTTPBufferSpan) {
        if span.count > 0 { store.appendCopy(from: Int(span.start), count: Int(span.count)) }
    }
}
