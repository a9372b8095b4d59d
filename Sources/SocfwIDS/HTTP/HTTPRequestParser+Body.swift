// Request bodies (RFC 9112 §6): Content-Length, or chunked (§7.1: size
// lines with extensions, data, CRLF, a last chunk of size 0, trailers).
// The first `bodyInspectBytes` dechunked bytes are buffered for
// http.request_body; the rest is counted and skipped.

extension HTTPRequestParser {
    mutating func consumeIdentityBody(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                                      _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        let n = min(end - pos, bodyRemaining)
        bodyRemaining -= n
        appendBody(p + pos, count: n, moreFollows: bodyRemaining > 0, onEvent)
        if bodyRemaining == 0 { endBody(complete: true, onEvent) }
        return pos + n
    }

    /// Buffers what fits of `count` body bytes. The body is reported
    /// truncated as soon as it is known to outgrow the limit: when the
    /// buffer is full and `moreFollows` (Content-Length), or when a byte
    /// beyond the limit arrives (chunked).
    mutating func appendBody(_ p: UnsafePointer<UInt8>, count: Int, moreFollows: Bool,
                             _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        let kept = min(count, limits.bodyInspectBytes - bodyBuffered)
        if kept > 0 {
            transaction.store.append(p, count: kept)
            bodyBuffered += kept
            transaction.setSpan(.httpClientBody, start: bodyStart, count: bodyBuffered)
        }
        transaction.bodyBytesSeen += count
        if !bodyEventSent && (kept < count || (moreFollows && bodyBuffered == limits.bodyInspectBytes)) {
            transaction.bodyTruncated = true
            bodyEventSent = true
            emit(.bodyComplete, onEvent)
        }
    }

    /// The request is over (or, `complete == false`, given up on): report
    /// `bodyComplete` unless already done, and wait for the next request.
    mutating func endBody(complete: Bool, _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        if !bodyEventSent {
            transaction.bodyComplete = complete && !transaction.bodyTruncated
            bodyEventSent = true
            emit(.bodyComplete, onEvent)
        }
        state = .idle
        expectTunnel = tunnelAfterRequest
    }

    // MARK: - Chunked

    mutating func beginChunkSizeLine() {
        chunkSize = 0
        chunkDigits = 0
        chunkLineSeen = 0
        chunkPhase = .leadingWhitespace
        state = .chunkSizeLine
    }

    /// `chunk-size [ chunk-ext ] CRLF`, parsed byte by byte (the line is short).
    mutating func scanChunkSizeLine(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                                    _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        var i = pos
        while i < end {
            let b = p[i]
            chunkLineSeen += 1
            if chunkLineSeen > Self.chunkLineBytes { return chunkFramingLost(at: i, onEvent) }
            if b == HTTPASCII.lf {
                guard chunkDigits > 0 else { return chunkFramingLost(at: i, onEvent) }
                if chunkSize == 0 {
                    skippedLineBytes = 0
                    state = .trailers
                } else {
                    bodyRemaining = Int(chunkSize)
                    state = .chunkData
                }
                return i + 1
            }
            switch chunkPhase {
            case .leadingWhitespace where HTTPASCII.isWhitespace(b):
                // libhtp accepts LWS before the size; servers disagree: flag.
                transaction.anomalies.insert(.invalidChunkFraming)
            case .leadingWhitespace, .digits:
                let nibble = HTTPASCII.hexValue(b)
                if nibble != 0xFF {
                    // 15 hex digits (2^60) is already absurd for one chunk.
                    guard chunkDigits < 15 else { return chunkFramingLost(at: i, onEvent) }
                    chunkSize = chunkSize << 4 | UInt64(nibble)
                    chunkDigits += 1
                    chunkPhase = .digits
                } else if chunkPhase == .digits && (HTTPASCII.isWhitespace(b) || b == HTTPASCII.cr) {
                    chunkPhase = .afterDigits
                } else if chunkPhase == .digits && b == HTTPASCII.semicolon {
                    chunkPhase = .extensions
                } else {
                    return chunkFramingLost(at: i, onEvent)
                }
            case .afterDigits:
                if b == HTTPASCII.semicolon {
                    chunkPhase = .extensions
                } else if !HTTPASCII.isWhitespace(b) && b != HTTPASCII.cr {
                    return chunkFramingLost(at: i, onEvent)
                }
            case .extensions:
                break // chunk-ext is not interpreted
            }
            i += 1
        }
        return end
    }

    /// A chunk-size line that is not one: the body cannot be delimited any
    /// more. End it, and look for the next request line from this byte on.
    mutating func chunkFramingLost(at i: Int, _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        transaction.anomalies.insert(.invalidChunkSize)
        endBody(complete: false, onEvent)
        pendingAnomalies.insert(.junkBeforeRequest)
        state = .junkLine
        return i
    }

    mutating func consumeChunkData(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                                   _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        let n = min(end - pos, bodyRemaining)
        bodyRemaining -= n
        appendBody(p + pos, count: n, moreFollows: false, onEvent)
        if bodyRemaining == 0 {
            chunkLineSeen = 0
            state = .chunkDataEnd
        }
        return pos + n
    }

    /// The CRLF after chunk data. Anything else is flagged and, like libhtp,
    /// skipped up to the next LF.
    mutating func scanChunkDataEnd(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                                   _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        var i = pos
        while i < end {
            let b = p[i]
            if b == HTTPASCII.lf {
                beginChunkSizeLine()
                return i + 1
            }
            if b != HTTPASCII.cr || chunkLineSeen > 0 {
                transaction.anomalies.insert(.invalidChunkFraming)
            }
            chunkLineSeen += 1
            if chunkLineSeen > Self.chunkLineBytes { return chunkFramingLost(at: i, onEvent) }
            i += 1
        }
        return end
    }

    /// Trailer fields (RFC 9112 §7.1.2) are skipped up to the blank line.
    mutating func skipTrailers(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                               _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        let (next, blankLineEnded) = skipLines(p, pos, end)
        if blankLineEnded { endBody(complete: true, onEvent) }
        return next
    }
}
