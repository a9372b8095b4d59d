// An incremental HTTP/1.x request parser for the IDS: fed the in-order,
// reassembled client→server bytes of one TCP flow in chunks of any size, it
// builds one `HTTPTransaction` per request and reports when its buffers are
// ready. RFC 9112 framing, libhtp/Suricata buffer semantics. It never logs
// and never decides: odd input becomes `HTTPAnomalies` flags.
//
// Split by concern:
//   HTTPRequestParser.swift        — state, feed loop, request line, junk, giving up
//   HTTPRequestParser+Head.swift   — header section, buffer building, framing
//   HTTPRequestParser+Body.swift   — Content-Length and chunked bodies
//   HTTPRequestParser+ASCII.swift  — byte classes and searches

/// Bounds on what one request may make the parser buffer. Everything past a
/// bound is skipped (not buffered) and flagged; parsing goes on.
public struct HTTPLimits: Sendable, Equatable {
    /// Request line bytes kept (CRLF excluded); a longer line is cut
    /// (`requestLineTooLong`).
    public var requestLineBytes: Int
    /// Bytes of the header section kept (every line after the request line,
    /// the blank line included); a line that does not fit is skipped
    /// (`headerTooLong`), later ones are kept while they fit.
    public var headerBytes: Int
    /// Header lines parsed; more are ignored (`tooManyHeaders`) but stay in
    /// the raw header buffer.
    public var headers: Int
    /// Body bytes buffered for `httpClientBody`; the rest is skipped.
    public var bodyInspectBytes: Int
    /// Bytes of non-request data tolerated between two requests of a flow
    /// that already carried HTTP before the parser gives up.
    public var junkBytes: Int
    /// Store capacity kept between requests (a typical request needs about
    /// three times its head); a store grown past it by a big request is
    /// released when the next request starts.
    public var retainedBytes: Int

    /// Limits, each clamped to a sane range (at least 64 request-line bytes;
    /// offsets must fit in 32 bits).
    public init(requestLineBytes: Int = 8 * 1024, headerBytes: Int = 32 * 1024, headers: Int = 100,
                bodyInspectBytes: Int = 16 * 1024, junkBytes: Int = 8 * 1024, retainedBytes: Int = 16 * 1024) {
        // Floors keep the method sniff (21 bytes) and a blank line inside
        // the bounds; ceilings keep every offset in an Int32.
        self.requestLineBytes = min(max(requestLineBytes, 64), 1 << 24)
        self.headerBytes = min(max(headerBytes, 2), 1 << 26)
        self.headers = min(max(headers, 0), 1 << 16)
        self.bodyInspectBytes = min(max(bodyInspectBytes, 0), 1 << 28)
        self.junkBytes = max(junkBytes, 0)
        self.retainedBytes = max(retainedBytes, 0)
    }
}

/// What `HTTPRequestParser.feed` reports about the current transaction.
public enum HTTPParseEvent: Sendable, Equatable {
    /// The request line and header section are parsed: every buffer but
    /// `httpClientBody` is ready. Always followed, for the same request, by
    /// `bodyComplete` (at once when `hasBody` is false).
    case headersComplete
    /// The body ended (`bodyComplete`), or reached
    /// `HTTPLimits.bodyInspectBytes` (`bodyTruncated`: the rest is skipped
    /// silently), or ended early (`finish`, a chunk framing error: both flags
    /// false). Last event of a request.
    case bodyComplete
    /// The stream is not (or no longer) HTTP requests; the parser gave up
    /// and ignores further bytes. The transaction passed along is whatever
    /// was being parsed (possibly empty).
    case notHTTP
}

/// Parses the client→server byte stream of one TCP flow into HTTP/1.x
/// request transactions.
///
/// One value per flow, kept in the owner's flow table and fed the stream's
/// bytes in order, in chunks cut anywhere; pipelined requests are parsed one
/// after the other. Events are delivered synchronously from `feed`.
///
/// Cost: when a feed completes nothing, it only copies the bytes of the
/// request head into the transaction's store (the body up to the inspection
/// limit) and allocates nothing once the store has grown to the flow's usual
/// request size. A stream whose first bytes cannot start a request line (a
/// non-token byte, or 20 bytes without a space: TLS, SSH, binary) is given
/// up at once (`notHTTP`), and every later feed returns immediately.
///
/// Tolerated per RFC 9112: empty lines before a request (§2.2), bare LF line
/// ends (§2.2, flagged), obs-fold (§5.2, flagged), HTTP/0.9 `GET /path`
/// (no headers, no body). Lines that are not requests between two requests
/// (a body the headers did not announce, a broken chunk) are skipped up to
/// `HTTPLimits.junkBytes` and flagged on the next request; after CONNECT or
/// an Upgrade request they end parsing instead (the stream became a tunnel).
///
/// ```swift
/// flow.http.feed(segment) { event, tx in
///     switch event {
///     case .headersComplete: engine.inspect(tx)     // every buffer but the body
///     case .bodyComplete: if tx.hasBody { engine.inspectBody(tx) }
///     case .notHTTP: break                          // stream rules only from now on
///     }
/// }
/// ```
public struct HTTPRequestParser: Sendable {
    /// Where in a request the next byte goes.
    enum State: UInt8, Sendable {
        /// Between requests: skipping CR and LF.
        case idle
        /// The first bytes of a request line: the method must be a token.
        case method
        /// The rest of the request line.
        case requestLine
        /// The request line outgrew its limit: skipping to its LF.
        case requestLineOverflow
        case headerLines
        /// A header line outgrew the header section's limit: skipping it.
        case headerOverflow
        case identityBody
        case chunkSizeLine
        case chunkData
        /// The CRLF after chunk data.
        case chunkDataEnd
        case trailers
        /// Skipping a line that is not a request (see `junkBeforeRequest`).
        case junkLine
        case gaveUp
    }

    /// Phases of a chunk-size line: `1*HEXDIG [BWS] *( ";" chunk-ext ) CRLF`.
    enum ChunkLinePhase: UInt8, Sendable {
        case leadingWhitespace, digits, afterDigits, extensions
    }

    /// The request line as split by `parseRequestLine` (offsets into the store).
    struct RequestLineLayout: Sendable {
        var lineCount = 0
        var methodCount = 0
        var targetStart = 0
        var targetCount = 0
        var protocolStart = 0
        var protocolCount = 0
        var versionMajor = 1
        var versionMinor = 1
        var isHTTP09 = false
        var isConnect = false
        var anomalies: HTTPAnomalies = []
    }

    enum RequestLineVerdict {
        case request(RequestLineLayout)
        case notARequest
        /// `PRI * HTTP/2.0`: the HTTP/2 connection preface (RFC 9113 §3.4).
        case http2Preface
    }

    /// Longest method accepted while sniffing a stream (`VERSION-CONTROL`
    /// and the other WebDAV methods fit).
    static let methodBytes = 20
    /// Longest chunk-size line (digits, extensions and CRLF).
    static let chunkLineBytes = 4 * 1024

    /// The bounds this parser buffers within.
    public let limits: HTTPLimits
    var transaction = HTTPTransaction()
    var state: State = .idle

    /// A valid request line has been seen on this flow.
    public private(set) var isHTTP = false
    /// Requests whose request line was accepted so far.
    public private(set) var requestCount = 0
    /// Anomalies to put on the next request (junk seen before it).
    var pendingAnomalies: HTTPAnomalies = []
    /// Junk bytes since the last request.
    var junkSeen = 0
    /// After CONNECT or an Upgrade request the stream may stop being HTTP:
    /// anything but a request line then means "give up", not "junk".
    var expectTunnel = false
    var tunnelAfterRequest = false

    // Head parsing.
    var methodCount = 0
    var layout = RequestLineLayout()
    var headersStart = 0
    var lineStart = 0
    /// A header line was dropped (too long): its obs-fold lines go too.
    var droppingFolds = false
    /// A line being skipped: its length so far (LF excluded) and first byte,
    /// enough to tell a blank line (empty, or a lone CR).
    var skippedLineBytes = 0
    var skippedLineFirstByte: UInt8 = 0

    // Body parsing.
    var bodyStart = 0
    var bodyBuffered = 0
    /// Identity body: bytes left; chunked: bytes left in the current chunk.
    var bodyRemaining = 0
    var bodyEventSent = false
    var chunkSize: UInt64 = 0
    var chunkDigits = 0
    var chunkLineSeen = 0
    var chunkPhase: ChunkLinePhase = .leadingWhitespace

    /// Build the normalised header buffers (`http.header`, `http.start`,
    /// `http.header_names` and the single-header buffers such as
    /// `http.user_agent`). When no signature reads them, clearing this saves
    /// about a third of the parsing work; header values stay available
    /// through `headerValue(named:)`. Requests with folded or repeated
    /// headers always get them.
    public var buildsHeaderBuffers = true

    /// A parser for one flow.
    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// The parser gave up on this flow (`notHTTP` was reported); feeding
    /// it is then a no-op.
    public var gaveUp: Bool { state == .gaveUp }

    /// Back to a fresh flow's state, keeping buffer capacity.
    public mutating func reset() {
        transaction.reset(retainedBytes: limits.retainedBytes)
        state = .idle
        isHTTP = false
        requestCount = 0
        pendingAnomalies = []
        junkSeen = 0
        expectTunnel = false
        tunnelAfterRequest = false
        bodyEventSent = false
    }

    /// Frees what the parser keeps between requests (a few KiB: the store
    /// and header tables). For flows gone idle; does nothing while a request
    /// is being parsed.
    public mutating func releaseMemory() {
        guard state == .idle || state == .junkLine || state == .gaveUp else { return }
        transaction = HTTPTransaction()
    }

    // MARK: - Feeding

    /// Parses the next bytes of the client→server stream, calling `onEvent`
    /// synchronously for each event, in order, with the transaction it
    /// concerns (the parser's own: read it inside the callback).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer,
                              onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        guard state != .gaveUp, let raw = bytes.baseAddress, bytes.count > 0 else { return }
        // Octets are read as UInt8 whatever the caller's buffer held.
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let end = bytes.count
        var pos = 0
        while pos < end {
            switch state {
            case .idle: pos = skipBlankLines(p, pos, end)
            case .method: pos = scanMethod(p, pos, end, onEvent)
            case .requestLine: pos = scanRequestLine(p, pos, end, onEvent)
            case .requestLineOverflow: pos = skipRequestLineOverflow(p, pos, end, onEvent)
            case .headerLines: pos = scanHeaderLines(p, pos, end, onEvent)
            case .headerOverflow: pos = skipHeaderOverflow(p, pos, end, onEvent)
            case .identityBody: pos = consumeIdentityBody(p, pos, end, onEvent)
            case .chunkSizeLine: pos = scanChunkSizeLine(p, pos, end, onEvent)
            case .chunkData: pos = consumeChunkData(p, pos, end, onEvent)
            case .chunkDataEnd: pos = scanChunkDataEnd(p, pos, end, onEvent)
            case .trailers: pos = skipTrailers(p, pos, end, onEvent)
            case .junkLine: pos = skipJunkLine(p, pos, end, onEvent)
            case .gaveUp: return
            }
        }
    }

    /// `feed` for bytes in an array.
    public mutating func feed(_ bytes: [UInt8], onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        bytes.withUnsafeBytes { feed($0, onEvent: onEvent) }
    }

    /// The flow ended (FIN, RST or timeout): reports what the stream left
    /// unfinished. A header section cut short is completed as it stands
    /// (`incompleteRequest`) and reported with `headersComplete`, then
    /// `bodyComplete`; a body cut short is reported with `bodyComplete`
    /// (neither `bodyComplete` nor `bodyTruncated` set on the transaction).
    /// The parser is then idle.
    public mutating func finish(onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        switch state {
        case .headerLines, .headerOverflow:
            transaction.anomalies.insert(.incompleteRequest)
            completeHead(onEvent)
            if state != .idle { endBody(complete: false, onEvent) }
        case .identityBody, .chunkSizeLine, .chunkData, .chunkDataEnd, .trailers:
            endBody(complete: false, onEvent)
        case .idle, .method, .requestLine, .requestLineOverflow, .junkLine, .gaveUp:
            break
        }
        if state != .gaveUp { state = .idle }
    }

    /// Hands the transaction to the owner. The callback may keep a copy:
    /// the store is made unique again before the parser writes to it.
    @inline(__always)
    mutating func emit(_ event: HTTPParseEvent, _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        onEvent(event, transaction)
        transaction.makeStoreUnique()
    }

    // MARK: - Between requests

    mutating func skipBlankLines(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int) -> Int {
        var i = pos
        while i < end && (p[i] == HTTPASCII.cr || p[i] == HTTPASCII.lf) { i += 1 }
        if i < end {
            transaction.reset(retainedBytes: limits.retainedBytes)
            methodCount = 0
            state = .method
        }
        return i
    }

    /// The stream gives up being HTTP: report it once and drop the store.
    mutating func giveUp(_ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        state = .gaveUp
        emit(.notHTTP, onEvent)
        transaction = HTTPTransaction()
    }

    /// `consumed` bytes of a line (already read) cannot start a request.
    /// Before the first request of a flow (or after a tunnel request) that
    /// means "not HTTP"; between requests it is junk to skip, within
    /// `HTTPLimits.junkBytes`.
    mutating func rejectLine(consumed: Int, _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        transaction.store.truncate(to: 0)
        junkSeen += consumed
        if !isHTTP || expectTunnel || junkSeen > limits.junkBytes {
            giveUp(onEvent)
        } else {
            pendingAnomalies.insert(.junkBeforeRequest)
            state = .junkLine
        }
    }

    mutating func skipJunkLine(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                               _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        let lf = HTTPASCII.index(of: HTTPASCII.lf, in: p, from: pos, to: end)
        let next = lf.map { $0 + 1 } ?? end
        junkSeen += next - pos
        if junkSeen > limits.junkBytes {
            giveUp(onEvent)
            return end
        }
        if lf != nil { state = .idle }
        return next
    }

    // MARK: - Request line

    /// Checks the method token byte by byte: the cheap "is this HTTP at all" test.
    mutating func scanMethod(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                             _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        var i = pos
        while i < end {
            let b = p[i]
            if HTTPASCII.isWhitespace(b) && methodCount > 0 {
                transaction.store.append(p + pos, count: i + 1 - pos)
                state = .requestLine
                return i + 1
            }
            guard HTTPASCII.isToken(b), methodCount < Self.methodBytes else {
                rejectLine(consumed: methodCount, onEvent)
                return i // the junk line (if any) goes on from this byte
            }
            methodCount += 1
            i += 1
        }
        transaction.store.append(p + pos, count: end - pos)
        return end
    }

    mutating func scanRequestLine(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                                  _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        let room = limits.requestLineBytes - transaction.store.count
        guard let lf = HTTPASCII.index(of: HTTPASCII.lf, in: p, from: pos, to: end) else {
            if end - pos > room {
                transaction.store.append(p + pos, count: room)
                state = .requestLineOverflow
            } else {
                transaction.store.append(p + pos, count: end - pos)
            }
            return end
        }
        if lf - pos > room {
            transaction.store.append(p + pos, count: room)
            completeRequestLine(truncated: true, onEvent)
        } else {
            transaction.store.append(p + pos, count: lf + 1 - pos)
            completeRequestLine(truncated: false, onEvent)
        }
        return lf + 1
    }

    mutating func skipRequestLineOverflow(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                                          _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        guard let lf = HTTPASCII.index(of: HTTPASCII.lf, in: p, from: pos, to: end) else { return end }
        completeRequestLine(truncated: true, onEvent)
        return lf + 1
    }

    /// The store holds the request line (with its line end unless cut).
    mutating func completeRequestLine(truncated: Bool, _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        var lineEnd = transaction.store.count
        var anomalies: HTTPAnomalies = truncated ? .requestLineTooLong : []
        if !truncated {
            lineEnd -= 1 // LF
            if lineEnd > 0 && transaction.store[lineEnd - 1] == HTTPASCII.cr {
                lineEnd -= 1
            } else {
                anomalies.insert(.bareLineFeed)
            }
        }
        let verdict = Self.parseRequestLine(transaction.store.base, count: lineEnd, truncated: truncated)
        switch verdict {
        case .notARequest:
            // Its bytes were consumed: count them as junk, the line is over.
            let consumed = transaction.store.count
            rejectLine(consumed: consumed, onEvent)
            if state == .junkLine { state = .idle }
        case .http2Preface:
            giveUp(onEvent)
        case .request(var line):
            line.anomalies.formUnion(anomalies)
            acceptRequestLine(line, onEvent)
        }
    }

    mutating func acceptRequestLine(_ line: RequestLineLayout, _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        layout = line
        transaction.index = requestCount
        requestCount += 1
        isHTTP = true
        junkSeen = 0
        expectTunnel = false
        transaction.anomalies = pendingAnomalies.union(line.anomalies)
        pendingAnomalies = []
        transaction.versionMajor = line.versionMajor
        transaction.versionMinor = line.versionMinor
        transaction.setSpan(.httpMethod, start: 0, count: line.methodCount)
        transaction.setSpan(.httpRawURI, start: line.targetStart, count: line.targetCount)
        if line.protocolCount > 0 {
            transaction.setSpan(.httpProtocol, start: line.protocolStart, count: line.protocolCount)
        }
        transaction.setSpan(.httpRequestLine, start: 0, count: line.lineCount)
        headersStart = transaction.store.count
        lineStart = headersStart
        droppingFolds = false
        if line.isHTTP09 {
            completeHead(onEvent)
        } else {
            state = .headerLines
        }
    }

    /// Splits `METHOD SP target SP protocol` as libhtp does: whitespace
    /// runs separate the parts, the protocol is the rest of the line.
    static func parseRequestLine(_ p: UnsafePointer<UInt8>, count n: Int, truncated: Bool) -> RequestLineVerdict {
        var line = RequestLineLayout()
        line.lineCount = n
        var i = 0
        while i < n && HTTPASCII.isToken(p[i]) { i += 1 }
        line.methodCount = i
        guard i > 0, i < n, HTTPASCII.isWhitespace(p[i]) else { return .notARequest }

        var gap = i
        while i < n && HTTPASCII.isWhitespace(p[i]) { i += 1 }
        if i - gap != 1 || p[gap] != HTTPASCII.space { line.anomalies.insert(.requestLineWhitespace) }
        line.targetStart = i
        while i < n && !HTTPASCII.isWhitespace(p[i]) { i += 1 }
        line.targetCount = i - line.targetStart
        guard line.targetCount > 0 else { return .notARequest }

        gap = i
        while i < n && HTTPASCII.isWhitespace(p[i]) { i += 1 }
        var protocolEnd = n
        while protocolEnd > i && HTTPASCII.isWhitespace(p[protocolEnd - 1]) { protocolEnd -= 1 }
        if protocolEnd < n { line.anomalies.insert(.requestLineWhitespace) }
        if protocolEnd > i && (i - gap != 1 || p[gap] != HTTPASCII.space) {
            line.anomalies.insert(.requestLineWhitespace)
        }
        line.protocolStart = i
        line.protocolCount = protocolEnd - i

        let method = UnsafeBufferPointer(start: p, count: line.methodCount)
        line.isConnect = HTTPASCII.equals(p, count: method.count, "CONNECT")

        if line.protocolCount == 0 {
            if truncated { return .request(line) } // the version was cut off: assume 1.x
            // HTTP/0.9 (RFC 1945 §4.1): "GET" SP path, nothing else.
            guard HTTPASCII.equals(p, count: method.count, "GET"), p[line.targetStart] == HTTPASCII.slash else {
                return .notARequest
            }
            line.isHTTP09 = true
            line.versionMajor = 0
            line.versionMinor = 9
            return .request(line)
        }

        // The version: the protocol itself, or (space inside the target)
        // the last "HTTP/" the protocol part holds after whitespace.
        var versionAt = -1
        if startsWithHTTPSlash(p, at: line.protocolStart, end: protocolEnd) {
            versionAt = line.protocolStart
            let exact = line.protocolCount == 8 && p[versionAt] == 0x48 && p[versionAt + 1] == 0x54
                && p[versionAt + 2] == 0x54 && p[versionAt + 3] == 0x50 && HTTPASCII.isDigit(p[versionAt + 5])
                && p[versionAt + 6] == HTTPASCII.dot && HTTPASCII.isDigit(p[versionAt + 7])
            if !exact { line.anomalies.insert(.invalidRequestLine) }
        } else {
            var k = protocolEnd - 5
            while k > line.protocolStart {
                if HTTPASCII.isWhitespace(p[k - 1]) && startsWithHTTPSlash(p, at: k, end: protocolEnd) {
                    versionAt = k
                    break
                }
                k -= 1
            }
            guard versionAt >= 0 else {
                if truncated { return .request(line) }
                return .notARequest
            }
            line.anomalies.insert(.invalidRequestLine)
        }
        if versionAt + 5 < protocolEnd && HTTPASCII.isDigit(p[versionAt + 5]) {
            line.versionMajor = Int(p[versionAt + 5] - 0x30)
            line.versionMinor = versionAt + 7 < protocolEnd && HTTPASCII.isDigit(p[versionAt + 7])
                ? Int(p[versionAt + 7] - 0x30) : 0
        } else {
            line.versionMajor = 1
            line.versionMinor = 0
        }
        if line.versionMajor == 2 && HTTPASCII.equals(p, count: method.count, "PRI")
            && line.targetCount == 1 && p[line.targetStart] == HTTPASCII.asterisk
        {
            return .http2Preface
        }
        if line.versionMajor != 1 { line.anomalies.insert(.invalidRequestLine) }
        return .request(line)
    }

    /// `HTTP/` in any case at `p[at...]`.
    @inline(__always)
    static func startsWithHTTPSlash(_ p: UnsafePointer<UInt8>, at i: Int, end: Int) -> Bool {
        i + 5 <= end && HTTPASCII.lower(p[i]) == 0x68 && HTTPASCII.lower(p[i + 1]) == 0x74
            && HTTPASCII.lower(p[i + 2]) == 0x74 && HTTPASCII.lower(p[i + 3]) == 0x70 && p[i + 4] == HTTPASCII.slash
    }
}
