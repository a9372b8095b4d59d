// The header section: gathered raw into the store line by line (only the
// blank line ending it is looked for while bytes arrive), then parsed in one
// pass, turned into the Suricata buffers, and used to frame the body
// (RFC 9112 §5 and §6.3).

extension HTTPRequestParser {
    // MARK: - Gathering

    mutating func scanHeaderLines(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                                  _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        var i = pos
        while i < end {
            if droppingFolds && transaction.store.count == lineStart {
                // obs-fold lines of a dropped header go with it.
                if HTTPASCII.isWhitespace(p[i]) {
                    state = .headerOverflow
                    return i
                }
                droppingFolds = false
            }
            guard let lf = HTTPASCII.index(of: HTTPASCII.lf, in: p, from: i, to: end) else {
                // A partial line: drop it already when it cannot fit (the +1
                // is its LF); a lone CR may still become the blank line.
                let partial = transaction.store.count - lineStart + end - i
                let firstByte = transaction.store.count > lineStart ? transaction.store[lineStart] : p[i]
                let mayBeBlank = partial == 1 && firstByte == HTTPASCII.cr
                if !mayBeBlank && lineStart + partial + 1 - headersStart > limits.headerBytes {
                    dropHeaderLine()
                    state = .headerOverflow
                    return end
                }
                transaction.store.append(p + i, count: end - i)
                return end
            }
            let lineBytes = transaction.store.count - lineStart + lf - i // LF excluded
            let firstByte = transaction.store.count > lineStart ? transaction.store[lineStart] : p[i]
            let isBlank = lineBytes == 0 || (lineBytes == 1 && firstByte == HTTPASCII.cr)
            if !isBlank && lineStart + lineBytes + 1 - headersStart > limits.headerBytes {
                dropHeaderLine()
                i = lf + 1
                continue
            }
            transaction.store.append(p + i, count: lf + 1 - i)
            i = lf + 1
            if isBlank {
                completeHead(onEvent)
                return i
            }
            lineStart = transaction.store.count
        }
        return end
    }

    /// The current header line does not fit in `headerBytes`: forget what
    /// the store has of it. Later lines are still kept while they fit, so
    /// one huge header cannot hide the ones after it.
    mutating func dropHeaderLine() {
        transaction.anomalies.insert(.headerTooLong)
        transaction.store.truncate(to: lineStart)
        droppingFolds = true
    }

    /// Skips the rest of a dropped header line.
    mutating func skipHeaderOverflow(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int,
                                     _ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) -> Int {
        guard let lf = HTTPASCII.index(of: HTTPASCII.lf, in: p, from: pos, to: end) else { return end }
        droppingFolds = true
        state = .headerLines
        return lf + 1
    }

    /// Skips whole lines until a blank one ends; returns where it stopped and
    /// whether a blank line ended there (chunked trailers).
    mutating func skipLines(_ p: UnsafePointer<UInt8>, _ pos: Int, _ end: Int) -> (Int, Bool) {
        var i = pos
        while i < end {
            guard let lf = HTTPASCII.index(of: HTTPASCII.lf, in: p, from: i, to: end) else {
                if skippedLineBytes == 0 { skippedLineFirstByte = p[i] }
                skippedLineBytes += end - i
                return (end, false)
            }
            if skippedLineBytes == 0 && lf > i { skippedLineFirstByte = p[i] }
            skippedLineBytes += lf - i
            let isBlank = skippedLineBytes == 0 || (skippedLineBytes == 1 && skippedLineFirstByte == HTTPASCII.cr)
            skippedLineBytes = 0
            i = lf + 1
            if isBlank { return (i, true) }
        }
        return (end, false)
    }

    // MARK: - Completing the head

    /// The store holds the whole head (what fitted of it): parse the header
    /// lines, build every buffer, frame the body and report.
    mutating func completeHead(_ onEvent: (HTTPParseEvent, HTTPTransaction) -> Void) {
        let headEnd = transaction.store.count
        if !layout.isHTTP09 && headEnd > headersStart {
            transaction.setSpan(.httpRawHeader, start: headersStart, count: headEnd - headersStart)
        }
        parseHeaderLines(headEnd: headEnd)
        let headers = transaction.buildHeaderBuffers(requestLineCount: layout.lineCount, full: buildsHeaderBuffers)
        buildURIAndHost(headers)
        frameBody(headers)

        emit(.headersComplete, onEvent)
        tunnelAfterRequest = layout.isConnect || headers.upgrade >= 0
        bodyStart = transaction.store.count
        bodyBuffered = 0
        bodyEventSent = false
        if transaction.hasBody {
            if transaction.isChunked {
                beginChunkSizeLine()
            } else {
                bodyRemaining = transaction.contentLength ?? 0
                state = .identityBody
            }
        } else {
            endBody(complete: false, onEvent)
        }
    }

    /// One pass over `store[headersStart..<headEnd]`: header entries,
    /// folded lines, header anomalies.
    mutating func parseHeaderLines(headEnd: Int) {
        var entries = transaction.entries
        var folded = transaction.foldedLines
        transaction.entries = []
        transaction.foldedLines = []
        Self.parseHeaderLines(transaction.store.base, from: headersStart, to: headEnd, maxHeaders: limits.headers,
                              entries: &entries, folded: &folded, anomalies: &transaction.anomalies)
        transaction.entries = entries
        transaction.foldedLines = folded
    }

    static func parseHeaderLines(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int, maxHeaders: Int,
                                 entries: inout [HTTPHeaderEntry], folded: inout [HTTPFoldedLine],
                                 anomalies: inout HTTPAnomalies) {
        var i = start
        var lastAccepted = false // the previous line made an entry (folding target)
        while i < end {
            let lf = HTTPASCII.index(of: HTTPASCII.lf, in: p, from: i, to: end)
            var lineEnd = lf ?? end
            let next = lf.map { $0 + 1 } ?? end
            if lineEnd > i && p[lineEnd - 1] == HTTPASCII.cr {
                lineEnd -= 1
            } else if lf != nil {
                anomalies.insert(.bareLineFeed)
            }
            defer { i = next }
            if lineEnd == i { continue } // the blank line

            if HTTPASCII.isWhitespace(p[i]) {
                // obs-fold (RFC 9112 §5.2): belongs to the previous header.
                anomalies.insert(.headerFolding)
                guard lastAccepted, let last = entries.indices.last else {
                    anomalies.insert(.invalidHeader)
                    continue
                }
                let (s, e) = trim(p, i, lineEnd)
                entries[last].folded = true
                folded.append(HTTPFoldedLine(entry: Int32(last), start: Int32(s), count: Int32(e - s)))
                continue
            }

            lastAccepted = false
            // Names are short: a loop beats a call to memchr for the colon.
            var colon = i
            while colon < lineEnd && p[colon] != HTTPASCII.colon { colon += 1 }
            guard colon < lineEnd else {
                anomalies.insert(.invalidHeader)
                continue
            }
            var nameEnd = colon
            while nameEnd > i && HTTPASCII.isWhitespace(p[nameEnd - 1]) { nameEnd -= 1 }
            if nameEnd != colon { anomalies.insert(.invalidHeader) }
            guard nameEnd > i else {
                anomalies.insert(.invalidHeader)
                continue
            }
            for k in i..<nameEnd where !HTTPASCII.isToken(p[k]) {
                anomalies.insert(.invalidHeader)
                break
            }
            guard entries.count < maxHeaders else {
                anomalies.insert(.tooManyHeaders)
                continue
            }
            let (valueStart, valueEnd) = trim(p, colon + 1, lineEnd)
            let nameCount = nameEnd - i
            var entry = HTTPHeaderEntry(nameStart: Int32(i), nameCount: Int32(nameCount),
                                        valueStart: Int32(valueStart), valueCount: Int32(valueEnd - valueStart),
                                        kind: HTTPKnownHeader.classify(p + i, count: nameCount))
            for j in entries.indices where entries[j].mergedInto < 0 && Int(entries[j].nameCount) == nameCount {
                if HTTPASCII.equalsIgnoringCase(p + Int(entries[j].nameStart), p + i, count: nameCount) {
                    entry.mergedInto = Int32(j)
                    break
                }
            }
            entries.append(entry)
            lastAccepted = true
        }
    }

    /// `p[s..<e]` without leading and trailing SP / HTAB.
    @inline(__always)
    static func trim(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> (Int, Int) {
        var s = s
        var e = e
        while s < e && HTTPASCII.isWhitespace(p[s]) { s += 1 }
        while e > s && HTTPASCII.isWhitespace(p[e - 1]) { e -= 1 }
        return (s, e)
    }

    // MARK: - URI and host

    mutating func buildURIAndHost(_ headers: HTTPTransaction.HeaderSummary) {
        let target = HTTPBufferSpan(layout.targetStart, layout.targetCount)
        let isAsterisk = layout.targetCount == 1 && transaction.store[layout.targetStart] == HTTPASCII.asterisk
        if layout.isConnect || isAsterisk {
            transaction.setSpan(.httpURI, target) // authority-form / asterisk-form: nothing to normalise
        } else {
            let store = transaction.store
            let start = store.count
            transaction.appendCopy(target)
            let (end, anomalies) = URINormalizer.normalize(store.base, start: start, end: store.count)
            store.truncate(to: end)
            transaction.anomalies.formUnion(anomalies)
            transaction.setSpan(.httpURI, start: start, count: end - start)
        }

        // Host: the absolute-form URI's authority wins (RFC 9112 §3.2.2, and Suricata).
        var uriHost = HTTPBufferSpan.absent
        if layout.isConnect {
            uriHost = transaction.appendNormalizedHost(target, stripUserInfo: true)
        } else if !isAsterisk {
            let authority = URINormalizer.authority(in: transaction.store.base, start: layout.targetStart,
                                                    end: layout.targetStart + layout.targetCount)
            if let authority, !authority.isEmpty {
                uriHost = transaction.appendNormalizedHost(HTTPBufferSpan(authority.lowerBound, authority.count),
                                                           stripUserInfo: true)
            }
        }
        var headerHost = HTTPBufferSpan.absent
        if headers.host >= 0 {
            let entry = transaction.entries[headers.host]
            let value = HTTPBufferSpan(start: entry.valueStart, count: entry.valueCount)
            headerHost = transaction.appendNormalizedHost(value, stripUserInfo: false)
            if headers.hostRepeated { transaction.anomalies.insert(.ambiguousHost) }
        } else if transaction.versionMajor > 1 || (transaction.versionMajor == 1 && transaction.versionMinor >= 1) {
            transaction.anomalies.insert(.missingHost)
        }
        if uriHost.isPresent {
            if headerHost.isPresent && !transaction.store.bytesEqual(uriHost.range, headerHost.range) {
                transaction.anomalies.insert(.ambiguousHost)
            }
            transaction.setSpan(.httpHost, uriHost)
        } else if headerHost.isPresent {
            transaction.setSpan(.httpHost, headerHost)
        }
    }

    // MARK: - Body framing (RFC 9112 §6.3)

    mutating func frameBody(_ headers: HTTPTransaction.HeaderSummary) {
        if headers.contentLength >= 0 {
            let first = transaction.entries[headers.contentLength]
            let firstValue = HTTPBufferSpan(start: first.valueStart, count: first.valueCount)
            for entry in transaction.entries where entry.mergedInto == Int32(headers.contentLength) {
                transaction.anomalies.insert(.multipleContentLength)
                let value = HTTPBufferSpan(start: entry.valueStart, count: entry.valueCount)
                if !transaction.store.bytesEqual(value.range, firstValue.range) {
                    transaction.anomalies.insert(.conflictingContentLength)
                }
            }
            if let length = parseDecimal(firstValue) {
                transaction.contentLength = length
            } else {
                transaction.anomalies.insert(.invalidContentLength)
            }
        }
        if headers.transferEncoding >= 0 {
            if headers.contentLength >= 0 { transaction.anomalies.insert(.contentLengthAndChunked) }
            if lastCodingIsChunked(transaction.entries[headers.transferEncoding].normalizedValue) {
                transaction.isChunked = true
                transaction.hasBody = true
            } else {
                // RFC 9112 §6.3: the server must answer 400 and close; there
                // is no body we could delimit.
                transaction.anomalies.insert(.invalidTransferEncoding)
            }
        } else if let length = transaction.contentLength, length > 0 {
            transaction.hasBody = true
        }
    }

    /// `1*DIGIT`, at most 18 digits (no sign, no spaces: the value is trimmed).
    func parseDecimal(_ span: HTTPBufferSpan) -> Int? {
        guard span.count > 0, span.count <= 18 else { return nil }
        var value = 0
        for i in span.range {
            let b = transaction.store[i]
            guard HTTPASCII.isDigit(b) else { return nil }
            value = value * 10 + Int(b - 0x30)
        }
        return value
    }

    /// The last comma-separated coding of a Transfer-Encoding is `chunked`.
    func lastCodingIsChunked(_ span: HTTPBufferSpan) -> Bool {
        guard span.count > 0 else { return false }
        let p = UnsafePointer(transaction.store.base)
        var i = span.range.upperBound
        while i > span.range.lowerBound && p[i - 1] != HTTPASCII.comma { i -= 1 }
        let (s, e) = Self.trim(p, i, span.range.upperBound)
        return HTTPASCII.equalsIgnoringCase(p + s, count: e - s, "chunked")
    }
}

extension HTTPTransaction {
    /// What the header buffers' builder found (entry indices, -1 for none).
    struct HeaderSummary {
        var host = -1
        var hostRepeated = false
        var contentLength = -1
        var transferEncoding = -1
        var upgrade = -1
    }

    /// Builds http.start, http.header, http.header_names and the
    /// single-header buffers from the parsed entries; the request line is
    /// `store[0..<requestLineCount]`.
    mutating func buildHeaderBuffers(requestLineCount: Int, full: Bool = true) -> HeaderSummary {
        if !full && !entries.contains(where: { $0.folded || $0.mergedInto >= 0 }) {
            // Values as sent are the normalised values when nothing is folded or repeated.
            var summary = HeaderSummary()
            for i in entries.indices {
                entries[i].normalizedValue = HTTPBufferSpan(start: entries[i].valueStart, count: entries[i].valueCount)
                switch entries[i].kind {
                case .host: summary.host = i
                case .contentLength: summary.contentLength = i
                case .transferEncoding: summary.transferEncoding = i
                case .upgrade: summary.upgrade = i
                default: break
                }
            }
            return summary
        }
        let store = self.store
        let folded = foldedLines
        var spans = self.spans
        self.spans = []
        defer { self.spans = spans }
        return entries.withUnsafeMutableBufferPointer { entries in
            Self.buildHeaderBuffers(store, entries, folded, &spans, requestLineCount: requestLineCount)
        }
    }

    private static func buildHeaderBuffers(_ store: HTTPByteStore,
                                           _ entries: UnsafeMutableBufferPointer<HTTPHeaderEntry>,
                                           _ folded: [HTTPFoldedLine], _ spans: inout [HTTPBufferSpan],
                                           requestLineCount: Int) -> HeaderSummary {
        var summary = HeaderSummary()
        let startBegin = store.count
        store.appendCopy(from: 0, count: requestLineCount)
        store.append(HTTPASCII.cr, HTTPASCII.lf)
        let headersBegin = store.count
        var primaryCount = 0
        var hasCookie = false
        let hasDuplicates = entries.contains { $0.mergedInto >= 0 }

        for i in entries.indices where entries[i].mergedInto < 0 {
            primaryCount += 1
            let lineBegin = store.count
            store.appendCopy(from: Int(entries[i].nameStart), count: Int(entries[i].nameCount))
            store.append(HTTPASCII.colon, HTTPASCII.space)
            let valueBegin = store.count
            appendValue(of: i, entries, folded, store)
            if hasDuplicates {
                for j in (i + 1)..<entries.count where entries[j].mergedInto == Int32(i) {
                    store.append(HTTPASCII.comma, HTTPASCII.space)
                    appendValue(of: j, entries, folded, store)
                    if entries[i].kind == .host { summary.hostRepeated = true }
                }
            }
            let value = HTTPBufferSpan(valueBegin, store.count - valueBegin)
            entries[i].normalizedValue = value
            store.append(HTTPASCII.cr, HTTPASCII.lf)
            entries[i].normalizedLine = HTTPBufferSpan(lineBegin, store.count - lineBegin)

            let kind = entries[i].kind
            if let buffer = kind.buffer { spans[Int(buffer.rawValue)] = value }
            switch kind {
            case .host: summary.host = i
            case .cookie: hasCookie = true
            case .contentLength: summary.contentLength = i
            case .transferEncoding: summary.transferEncoding = i
            case .upgrade: summary.upgrade = i
            default: break
            }
        }
        if primaryCount > 0 { store.append(HTTPASCII.cr, HTTPASCII.lf) }
        spans[Int(SignatureBuffer.httpStart.rawValue)] = HTTPBufferSpan(startBegin, store.count - startBegin)
        guard primaryCount > 0 else { return summary }

        // http.header: the same lines without Cookie and the final CRLF.
        if !hasCookie {
            let count = store.count - 2 - headersBegin
            spans[Int(SignatureBuffer.httpHeader.rawValue)] = HTTPBufferSpan(headersBegin, count)
        } else {
            let begin = store.count
            for entry in entries where entry.mergedInto < 0 && entry.kind != .cookie {
                store.appendCopy(from: Int(entry.normalizedLine.start), count: Int(entry.normalizedLine.count))
            }
            if store.count > begin {
                spans[Int(SignatureBuffer.httpHeader.rawValue)] = HTTPBufferSpan(begin, store.count - begin)
            }
        }

        let namesBegin = store.count
        store.append(HTTPASCII.cr, HTTPASCII.lf)
        for entry in entries where entry.mergedInto < 0 {
            store.appendCopy(from: Int(entry.nameStart), count: Int(entry.nameCount))
            store.append(HTTPASCII.cr, HTTPASCII.lf)
        }
        store.append(HTTPASCII.cr, HTTPASCII.lf)
        spans[Int(SignatureBuffer.httpHeaderNames.rawValue)] = HTTPBufferSpan(namesBegin, store.count - namesBegin)
        return summary
    }

    /// Appends entry `i`'s value: the first line, then each folded line
    /// after one SP.
    private static func appendValue(of i: Int, _ entries: UnsafeMutableBufferPointer<HTTPHeaderEntry>,
                                    _ folded: [HTTPFoldedLine], _ store: HTTPByteStore) {
        let begin = store.count
        store.appendCopy(from: Int(entries[i].valueStart), count: Int(entries[i].valueCount))
        guard entries[i].folded else { return }
        for line in folded where line.entry == Int32(i) && line.count > 0 {
            if store.count > begin { store.append(HTTPASCII.space) }
            store.appendCopy(from: Int(line.start), count: Int(line.count))
        }
    }

    /// Appends the host of a Host value or URI authority, normalised as
    /// libhtp does (`htp_parse_hostport`, `htp_normalize_hostname_inplace`):
    /// userinfo dropped (URI only), `[v6]` kept whole, port dropped,
    /// lowercased, trailing dots removed. Absent when nothing is left.
    func appendNormalizedHost(_ source: HTTPBufferSpan, stripUserInfo: Bool) -> HTTPBufferSpan {
        guard source.count > 0 else { return .absent }
        let begin = store.count
        appendCopy(source)
        let p = store.base
        var s = begin
        var e = store.count
        if stripUserInfo {
            var k = e
            while k > s && p[k - 1] != HTTPASCII.at { k -= 1 }
            s = k
        }
        while s < e && HTTPASCII.isWhitespace(p[s]) { s += 1 }
        if s < e && p[s] == HTTPASCII.openBracket {
            var k = s
            while k < e && p[k] != HTTPASCII.closeBracket { k += 1 }
            if k < e { e = k + 1 }
        } else if let colon = HTTPASCII.index(of: HTTPASCII.colon, in: p, from: s, to: e) {
            e = colon
        }
        while e > s && HTTPASCII.isWhitespace(p[e - 1]) { e -= 1 }
        while e > s && p[e - 1] == HTTPASCII.dot { e -= 1 }
        var w = begin
        for r in s..<e {
            p[w] = HTTPASCII.lower(p[r])
            w += 1
        }
        store.truncate(to: w)
        return w > begin ? HTTPBufferSpan(begin, w - begin) : .absent
    }
}
