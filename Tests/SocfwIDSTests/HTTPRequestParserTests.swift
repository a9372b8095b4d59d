import Foundation
import Testing
import SocfwIDS

// Requests below are written the way browsers, curl and common attack tools
// send them (Firefox 128 and curl 8.5 header sets, sqlmap/nikto-style
// traversal), with the exact bytes every Suricata buffer must hold.

/// Everything a transaction exposes at one event, for exact comparisons.
struct HTTPSnapshot: Equatable, CustomStringConvertible {
    var event: HTTPParseEvent
    var index: Int
    var buffers: [SignatureBuffer: [UInt8]] = [:]
    var anomalies: HTTPAnomalies
    var hasBody: Bool
    var isChunked: Bool
    var bodyComplete: Bool
    var bodyTruncated: Bool
    var contentLength: Int?
    var version: String

    init(_ event: HTTPParseEvent, _ tx: HTTPTransaction) {
        self.event = event
        index = tx.index
        anomalies = tx.anomalies
        hasBody = tx.hasBody
        isChunked = tx.isChunked
        bodyComplete = tx.bodyComplete
        bodyTruncated = tx.bodyTruncated
        contentLength = tx.contentLength
        version = "\(tx.versionMajor).\(tx.versionMinor)"
        for buffer in SignatureBuffer.allCases where buffer.isHTTP {
            if let bytes = tx.bytes(buffer) { buffers[buffer] = Array(bytes) }
        }
    }

    subscript(_ buffer: SignatureBuffer) -> String? {
        buffers[buffer].map { String(decoding: $0, as: UTF8.self) }
    }

    var description: String {
        let shown = buffers.keys.sorted { $0.rawValue < $1.rawValue }.map { "\($0.name)=\(self[$0]!.debugDescription)" }
        return "\(event) #\(index) \(anomalies) body=\(hasBody)/\(bodyComplete)/\(bodyTruncated) " + shown.joined(separator: " ")
    }
}

/// Feeds `stream` in chunks of `chunk` bytes (all at once when nil) and
/// records every event.
func parseHTTP(_ stream: [UInt8], chunk: Int? = nil, limits: HTTPLimits = HTTPLimits(),
           finish: Bool = false) -> [HTTPSnapshot] {
    var parser = HTTPRequestParser(limits: limits)
    var events: [HTTPSnapshot] = []
    let step = max(chunk ?? stream.count, 1)
    var i = 0
    while i < stream.count {
        let piece = Array(stream[i..<min(i + step, stream.count)])
        parser.feed(piece) { events.append(HTTPSnapshot($0, $1)) }
        i += step
    }
    if finish { parser.finish { events.append(HTTPSnapshot($0, $1)) } }
    return events
}

func parseHTTP(_ text: String, chunk: Int? = nil, limits: HTTPLimits = HTTPLimits(), finish: Bool = false) -> [HTTPSnapshot] {
    parseHTTP(Array(text.utf8), chunk: chunk, limits: limits, finish: finish)
}

/// The snapshots taken at `headersComplete`, one per request.
func httpHeads(_ events: [HTTPSnapshot]) -> [HTTPSnapshot] {
    events.filter { $0.event == .headersComplete }
}

/// The snapshots taken at `bodyComplete`, one per request.
func httpBodies(_ events: [HTTPSnapshot]) -> [HTTPSnapshot] {
    events.filter { $0.event == .bodyComplete }
}

@Suite struct HTTPRequestParserTests {
    // MARK: - Real-world requests, every buffer exact

    @Test func browserGETWithQueryFillsEveryHeaderBuffer() throws {
        let headerLines = [
            "Host: www.Example.com:8080",
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language: en-US,en;q=0.5",
            "Accept-Encoding: gzip, deflate, br, zstd",
            "Referer: https://www.example.com/",
            "Cookie: session=abc123; theme=dark",
            "Connection: keep-alive",
        ]
        let requestLine = "GET /search?q=suricata+rules&lang=en HTTP/1.1"
        let request = requestLine + "\r\n" + headerLines.map { $0 + "\r\n" }.joined() + "\r\n"
        let events = parseHTTP(request)
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete])
        let tx = try #require(events.first)

        #expect(tx[.httpMethod] == "GET")
        #expect(tx[.httpRawURI] == "/search?q=suricata+rules&lang=en")
        #expect(tx[.httpURI] == "/search?q=suricata+rules&lang=en")
        #expect(tx[.httpProtocol] == "HTTP/1.1")
        #expect(tx[.httpRequestLine] == requestLine)
        #expect(tx[.httpHost] == "www.example.com")
        #expect(tx[.httpUserAgent] == "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
        #expect(tx[.httpAccept] == "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        #expect(tx[.httpAcceptLanguage] == "en-US,en;q=0.5")
        #expect(tx[.httpAcceptEncoding] == "gzip, deflate, br, zstd")
        #expect(tx[.httpReferer] == "https://www.example.com/")
        #expect(tx[.httpCookie] == "session=abc123; theme=dark")
        #expect(tx[.httpConnection] == "keep-alive")
        #expect(tx[.httpContentLength] == nil)
        #expect(tx[.httpContentType] == nil)
        #expect(tx[.httpClientBody] == nil)
        #expect(tx[.httpHeader] == headerLines.filter { !$0.hasPrefix("Cookie") }.map { $0 + "\r\n" }.joined())
        #expect(tx[.httpRawHeader] == headerLines.map { $0 + "\r\n" }.joined() + "\r\n")
        #expect(tx[.httpHeaderNames]
            == "\r\nHost\r\nUser-Agent\r\nAccept\r\nAccept-Language\r\nAccept-Encoding\r\nReferer\r\nCookie\r\nConnection\r\n\r\n")
        #expect(tx[.httpStart] == request) // already in normal form
        #expect(tx.anomalies.isEmpty)
        #expect(!tx.hasBody)
        #expect(tx.version == "1.1")
    }

    @Test func postFormCarriesItsBody() throws {
        let body = "username=admin&password=hunter2&remember=on"
        let request = "POST /login.php HTTP/1.1\r\nHost: example.com\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let events = parseHTTP(request)
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete])
        let head = events[0]
        #expect(head.hasBody && !head.isChunked)
        #expect(head.contentLength == body.utf8.count)
        #expect(head[.httpClientBody] == nil)
        #expect(head[.httpContentType] == "application/x-www-form-urlencoded")
        #expect(head[.httpContentLength] == "\(body.utf8.count)")
        let done = events[1]
        #expect(done[.httpClientBody] == body)
        #expect(done.bodyComplete && !done.bodyTruncated)
        #expect(done.anomalies.isEmpty)
    }

    @Test func chunkedPostIsDechunkedWithExtensionsAndTrailers() throws {
        let request = "POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "7\r\nMozilla\r\n9;name=\"x\"\r\nDeveloper\r\nA \r\n Network!!\r\n0\r\nX-Checksum: 42\r\n\r\n"
        let events = parseHTTP(request)
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete])
        #expect(events[0].isChunked && events[0].hasBody)
        #expect(events[0].contentLength == nil)
        #expect(events[1][.httpClientBody] == "MozillaDeveloper Network!!")
        #expect(events[1].bodyComplete)
        #expect(events[1].anomalies.isEmpty)
    }

    @Test func pipelinedRequestsAreParsedInOrder() throws {
        let stream = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /c?x=%41 HTTP/1.1\r\nHost: h\r\n\r\n"
        let events = parseHTTP(stream)
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete, .headersComplete, .bodyComplete,
                                         .headersComplete, .bodyComplete])
        #expect(httpHeads(events).map(\.index) == [0, 1, 2])
        #expect(httpHeads(events).map { $0[.httpURI] } == ["/a", "/b", "/c?x=A"])
        #expect(httpBodies(events).map { $0[.httpClientBody] } == [nil, "hello", nil])
    }

    @Test func obsFoldedHeaderIsJoinedWithOneSpace() throws {
        let request = "GET / HTTP/1.1\r\nHost: example.com\r\nX-Folded: first\r\n   second  \r\n\tthird\r\n"
            + "User-Agent:   curl/8.5.0   \r\n\r\n"
        let tx = try #require(parseHTTP(request).first)
        #expect(tx[.httpHeader] == "Host: example.com\r\nX-Folded: first second third\r\nUser-Agent: curl/8.5.0\r\n")
        #expect(tx[.httpUserAgent] == "curl/8.5.0")
        #expect(tx[.httpRawHeader] == "Host: example.com\r\nX-Folded: first\r\n   second  \r\n\tthird\r\n"
            + "User-Agent:   curl/8.5.0   \r\n\r\n")
        #expect(tx[.httpHeaderNames] == "\r\nHost\r\nX-Folded\r\nUser-Agent\r\n\r\n")
        #expect(tx.anomalies == .headerFolding)
    }

    @Test func repeatedHeadersAreMergedLikeSuricata() throws {
        let request = "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n"
            + "user-agent: Chrome/121.0.0\r\n\r\n"
        let tx = try #require(parseHTTP(request).first)
        #expect(tx[.httpUserAgent] == "Mozilla/5.0, Chrome/121.0.0")
        #expect(tx[.httpHeader] == "Host: example.com\r\nUser-Agent: Mozilla/5.0, Chrome/121.0.0\r\nAccept: */*\r\n")
        #expect(tx[.httpHeaderNames] == "\r\nHost\r\nUser-Agent\r\nAccept\r\n\r\n")
        #expect(tx.anomalies.isEmpty)
    }

    @Test func missingHostIsFlaggedOnlyFromHTTP11() throws {
        let v11 = try #require(parseHTTP("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n").first)
        #expect(v11.anomalies == .missingHost)
        #expect(v11[.httpHost] == nil)
        let v10 = try #require(parseHTTP("GET / HTTP/1.0\r\nUser-Agent: x\r\n\r\n").first)
        #expect(v10.anomalies.isEmpty)
        #expect(v10.version == "1.0")
    }

    @Test func absoluteURIGivesPathAndHost() throws {
        let request = "GET http://Evil.Example.com:81/a/../b.php?x=1 HTTP/1.1\r\nHost: other.example\r\n\r\n"
        let tx = try #require(parseHTTP(request).first)
        #expect(tx[.httpRawURI] == "http://Evil.Example.com:81/a/../b.php?x=1")
        #expect(tx[.httpURI] == "/b.php?x=1")
        #expect(tx[.httpHost] == "evil.example.com")
        #expect(tx.anomalies == [.absoluteURI, .ambiguousHost])
    }

    @Test func proxyRequestWithMatchingHostIsNotAmbiguous() throws {
        let tx = try #require(parseHTTP("GET http://example.com/ HTTP/1.1\r\nHost: Example.COM.\r\n\r\n").first)
        #expect(tx[.httpHost] == "example.com")
        #expect(tx.anomalies == .absoluteURI)
    }

    @Test func hostIsLowercasedWithoutPortAndIPv6Kept() throws {
        let v6 = try #require(parseHTTP("GET / HTTP/1.1\r\nHost: [2001:DB8::1]:8443\r\n\r\n").first)
        #expect(v6[.httpHost] == "[2001:db8::1]")
        let repeated = try #require(parseHTTP("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n").first)
        #expect(repeated[.httpHost] == "a.example")
        #expect(repeated.anomalies == .ambiguousHost)
    }

    @Test func traversalVariantsNormaliseToTheSamePath() throws {
        let targets = [
            "/a/%2e%2e/%2e%2e/etc/passwd",
            "/a/b/..%5c..%5c..%5cetc/passwd",
            "/%252e%252e%252fetc%252fpasswd",
            "/%u002e%u002e/etc/passwd",
            "/..%c0%af..%c0%afetc/passwd",
            "//./etc//passwd",
        ]
        for target in targets {
            let tx = try #require(parseHTTP("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n").first)
            #expect(tx[.httpURI] == "/etc/passwd", "\(target)")
            #expect(tx[.httpRawURI] == target)
        }
    }

    @Test func encodingAnomaliesReachTheTransaction() throws {
        let tx = try #require(parseHTTP("GET /%252e%252e/x%zz?q=%u0041 HTTP/1.1\r\nHost: h\r\n\r\n").first)
        #expect(tx[.httpURI] == "/x%zz?q=A")
        #expect(tx.anomalies == [.doubleEncoding, .dotSegmentAboveRoot, .invalidPercentEncoding, .uEncoding])
    }

    // MARK: - Framing and smuggling signals

    @Test func requestWithoutBodyCompletesAtOnce() throws {
        var order: [HTTPParseEvent] = []
        var parser = HTTPRequestParser()
        parser.feed(Array("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n".utf8)) { event, tx in
            order.append(event)
            #expect(!tx.hasBody)
            #expect(!tx.bodyComplete)
        }
        #expect(order == [.headersComplete, .bodyComplete])
        #expect(parser.isHTTP && !parser.gaveUp)
    }

    @Test func twoDifferentContentLengthsAreFlagged() throws {
        let events = parseHTTP("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\n"
            + "abcde\r\nGET /n HTTP/1.1\r\nHost: h\r\n\r\n")
        let tx = try #require(events.first)
        #expect(tx.anomalies == [.multipleContentLength, .conflictingContentLength])
        #expect(tx.contentLength == 3)
        #expect(tx[.httpContentLength] == "3, 5")
        // The first length frames the body; "de" is then junk before /n.
        #expect(httpBodies(events).first?[.httpClientBody] == "abc")
        #expect(httpHeads(events).last?[.httpURI] == "/n")
        #expect(httpHeads(events).last?.anomalies == .junkBeforeRequest)
    }

    @Test func contentLengthWithChunkedUsesChunked() throws {
        let events = parseHTTP("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3\r\nabc\r\n0\r\n\r\n")
        let tx = try #require(httpBodies(events).first)
        #expect(tx.anomalies == .contentLengthAndChunked)
        #expect(tx.isChunked)
        #expect(tx[.httpClientBody] == "abc")
        #expect(tx.bodyComplete)
    }

    @Test func smugglingStyleHeadersAreFlagged() throws {
        let spaced = try #require(parseHTTP("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n").first)
        #expect(spaced.anomalies == .invalidHeader)
        #expect(spaced.isChunked)
        let notLast = try #require(parseHTTP("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").first)
        #expect(notLast.anomalies == .invalidTransferEncoding)
        #expect(!notLast.hasBody)
        let badLength = try #require(parseHTTP("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +12\r\n\r\n").first)
        #expect(badLength.anomalies == .invalidContentLength)
        #expect(!badLength.hasBody)
    }

    @Test func badChunkSizeEndsTheBodyAndResynchronises() throws {
        let events = parseHTTP("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3\r\nabc\r\nzz\r\nmore junk\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete, .headersComplete, .bodyComplete])
        #expect(events[1][.httpClientBody] == "abc")
        #expect(events[1].anomalies == .invalidChunkSize)
        #expect(!events[1].bodyComplete)
        #expect(events[2][.httpURI] == "/next")
        #expect(events[2].anomalies == .junkBeforeRequest)
    }

    @Test func chunkDataWithoutCRLFIsFlagged() throws {
        let events = parseHTTP("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY\r\n0\r\n\r\n")
        let done = try #require(httpBodies(events).first)
        #expect(done[.httpClientBody] == "abc")
        #expect(done.anomalies == .invalidChunkFraming)
        #expect(done.bodyComplete)
    }

    @Test func bodyBeyondTheLimitIsTruncatedAndSkipped() throws {
        let limits = HTTPLimits(bodyInspectBytes: 10)
        let body = String(repeating: "x", count: 100)
        let stream = "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n" + body
            + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n"
        for chunk in [nil, 1, 7, 64] {
            let events = parseHTTP(stream, chunk: chunk, limits: limits)
            #expect(events.map(\.event) == [.headersComplete, .bodyComplete, .headersComplete, .bodyComplete])
            #expect(events[1][.httpClientBody] == "xxxxxxxxxx")
            #expect(events[1].bodyTruncated && !events[1].bodyComplete)
            #expect(events[2][.httpURI] == "/after")
            #expect(events[2].anomalies.isEmpty)
        }
    }

    @Test func chunkedBodyBeyondTheLimitIsTruncated() throws {
        let limits = HTTPLimits(bodyInspectBytes: 5)
        let events = parseHTTP("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                           limits: limits)
        let done = try #require(httpBodies(events).first)
        #expect(done[.httpClientBody] == "hello")
        #expect(done.bodyTruncated)
        let fits = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        let exact = try #require(httpBodies(parseHTTP(fits, limits: limits)).first)
        #expect(exact.bodyComplete && !exact.bodyTruncated)
    }

    @Test func bodyBytesSeenCountsSkippedBytesToo() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(bodyInspectBytes: 4))
        var seen: [Int] = []
        let stream = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n0\r\n\r\n"
            + "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        parser.feed(Array(stream.utf8)) { event, tx in
            if event == .bodyComplete { seen.append(tx.bodyBytesSeen) }
        }
        // The first body is reported when it outgrows the limit (so at 9
        // here, the whole chunk having come in one feed); the second whole.
        #expect(seen == [9, 3])
    }

    // MARK: - Tolerated irregularities

    @Test func leadingEmptyLinesAreIgnored() throws {
        let tx = try #require(parseHTTP("\r\n\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").first)
        #expect(tx[.httpRequestLine] == "GET / HTTP/1.1")
        #expect(tx.anomalies.isEmpty)
    }

    @Test func bareLineFeedsAreAccepted() throws {
        let tx = try #require(parseHTTP("GET /x HTTP/1.1\nHost: h\nAccept: */*\n\n").first)
        #expect(tx[.httpRequestLine] == "GET /x HTTP/1.1")
        #expect(tx[.httpRawHeader] == "Host: h\nAccept: */*\n\n")
        #expect(tx[.httpHeader] == "Host: h\r\nAccept: */*\r\n")
        #expect(tx[.httpStart] == "GET /x HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n")
        #expect(tx.anomalies == .bareLineFeed)
    }

    @Test func http09RequestHasNoHeaders() throws {
        let events = parseHTTP("GET /index.html\r\n")
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete])
        let tx = events[0]
        #expect(tx[.httpProtocol] == nil)
        #expect(tx[.httpRawHeader] == nil)
        #expect(tx[.httpHeader] == nil)
        #expect(tx[.httpHeaderNames] == nil)
        #expect(tx[.httpStart] == "GET /index.html\r\n")
        #expect(tx.version == "0.9")
    }

    @Test func spaceInsideTheTargetIsSplitLikeLibhtp() throws {
        let tx = try #require(parseHTTP("GET /example spaces HTTP/1.1\r\nHost: h\r\n\r\n").first)
        #expect(tx[.httpRawURI] == "/example")
        #expect(tx[.httpProtocol] == "spaces HTTP/1.1")
        #expect(tx.anomalies == .invalidRequestLine)
        #expect(tx.version == "1.1")
    }

    @Test func oddRequestLineWhitespaceIsFlagged() throws {
        let tx = try #require(parseHTTP("GET\t/a  HTTP/1.1 \r\nHost: h\r\n\r\n").first)
        #expect(tx[.httpMethod] == "GET")
        #expect(tx[.httpRawURI] == "/a")
        #expect(tx[.httpProtocol] == "HTTP/1.1")
        #expect(tx.anomalies == .requestLineWhitespace)
    }

    @Test func junkBetweenRequestsIsSkippedAndFlagged() throws {
        let events = parseHTTP("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nthis is not http\r\n\u{1}\u{2}\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(httpHeads(events).map { $0[.httpURI] } == ["/1", "/2"])
        #expect(httpHeads(events).map(\.anomalies) == [[], .junkBeforeRequest])
    }

    // MARK: - Giving up

    @Test func tlsClientHelloIsNotHTTP() throws {
        var parser = HTTPRequestParser()
        var events: [HTTPParseEvent] = []
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        parser.feed(hello) { event, _ in events.append(event) }
        #expect(events == [.notHTTP])
        #expect(parser.gaveUp && !parser.isHTTP)
        parser.feed(Array("GET / HTTP/1.1\r\n\r\n".utf8)) { event, _ in events.append(event) }
        #expect(events == [.notHTTP])
    }

    @Test func otherProtocolsAreNotHTTP() throws {
        let banners = [
            "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n",
            "EHLO mail.example.com\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "GETTING-A-VERY-LONG-TOKEN-WITHOUT-SPACE",
            " GET / HTTP/1.1\r\n",
        ]
        for banner in banners {
            #expect(parseHTTP(banner).map(\.event) == [.notHTTP], "\(banner)")
        }
    }

    @Test func connectTunnelStopsAtTheFirstNonHTTPByte() throws {
        var stream = Array("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".utf8)
        stream += [0x16, 0x03, 0x01, 0x00, 0x10]
        let events = parseHTTP(stream)
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete, .notHTTP])
        #expect(events[0][.httpURI] == "example.com:443")
        #expect(events[0][.httpHost] == "example.com")
    }

    @Test func tooMuchJunkGivesUp() throws {
        let junk = String(repeating: "garbage line\r\n", count: 1000)
        let events = parseHTTP("GET / HTTP/1.1\r\nHost: h\r\n\r\n" + junk + "GET /late HTTP/1.1\r\n\r\n")
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete, .notHTTP])
    }

    // MARK: - Limits

    @Test func overlongRequestLineIsCutAndFlagged() throws {
        let limits = HTTPLimits(requestLineBytes: 100)
        let target = "/" + String(repeating: "a", count: 200)
        let events = parseHTTP("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n", chunk: 33, limits: limits)
        let tx = try #require(events.first)
        #expect(tx.anomalies == .requestLineTooLong)
        #expect(tx[.httpRequestLine]?.utf8.count == 100)
        #expect(tx[.httpHost] == "h")
    }

    @Test func overlongHeaderSectionKeepsWhatFits() throws {
        let limits = HTTPLimits(headerBytes: 64)
        let request = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "b", count: 500) + "\r\nAccept: */*\r\n\r\n"
            + "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
        for chunk in [nil, 1, 5, 100] {
            let events = parseHTTP(request, chunk: chunk, limits: limits)
            #expect(httpHeads(events).count == 2)
            let tx = httpHeads(events)[0]
            #expect(tx.anomalies == .headerTooLong)
            #expect(tx[.httpHeader] == "Host: h\r\nAccept: */*\r\n")
            #expect(httpHeads(events)[1][.httpURI] == "/2")
        }
    }

    @Test func headersBeyondTheCountLimitAreIgnored() throws {
        let limits = HTTPLimits(headers: 2)
        let tx = try #require(parseHTTP("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: limits).first)
        #expect(tx.anomalies == .tooManyHeaders)
        #expect(tx[.httpHeaderNames] == "\r\nHost\r\nA\r\n\r\n")
        #expect(tx[.httpRawHeader] == "Host: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
    }

    // MARK: - End of flow, lookups, reuse

    @Test func finishReportsAnUnfinishedBody() throws {
        let events = parseHTTP("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc", finish: true)
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete])
        #expect(events[1][.httpClientBody] == "abc")
        #expect(!events[1].bodyComplete && !events[1].bodyTruncated)
    }

    @Test func finishCompletesACutHeaderSection() throws {
        let events = parseHTTP("GET /cut HTTP/1.1\r\nHost: h\r\nUser-Agent: sqlmap/1.8", finish: true)
        #expect(events.map(\.event) == [.headersComplete, .bodyComplete])
        #expect(events[0][.httpUserAgent] == "sqlmap/1.8")
        #expect(events[0].anomalies == .incompleteRequest)
    }

    @Test func headerLookupIsCaseInsensitive() throws {
        var parser = HTTPRequestParser()
        var forwarded: String?
        var names: [String] = []
        let request = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For:  10.0.0.1 \r\nx-forwarded-for: 10.0.0.2\r\n\r\n"
        parser.feed(Array(request.utf8)) { event, tx in
            guard event == .headersComplete else { return }
            forwarded = tx.headerValue(named: "x-FORWARDED-for").map { String(decoding: $0, as: UTF8.self) }
            tx.forEachHeader { name, _ in names.append(String(decoding: name, as: UTF8.self)) }
            #expect(tx.headerValue(named: "Missing") == nil)
            #expect(tx.headerCount == 2)
            #expect(tx.method == "GET")
            #expect(tx.host == "h")
            #expect(tx.userAgent == nil)
        }
        #expect(forwarded == "10.0.0.1, 10.0.0.2")
        #expect(names == ["Host", "X-Forwarded-For"])
    }

    @Test func eveStringsAreDerivedFromTheBuffers() throws {
        var parser = HTTPRequestParser()
        parser.feed(Array("GET /a/../b%20c HTTP/1.1\r\nHost: WWW.Example.com\r\nUser-Agent: curl/8.5.0\r\n\r\n".utf8)) { event, tx in
            guard event == .headersComplete else { return }
            #expect(tx.uriRaw == "/a/../b%20c")
            #expect(tx.uriNormalized == "/b c")
            #expect(tx.protocolVersion == "HTTP/1.1")
            #expect(tx.host == "www.example.com")
            #expect(tx.userAgent == "curl/8.5.0")
            tx.withBuffer(.httpMethod) { #expect(Array($0) == Array("GET".utf8)) }
            let range = tx.range(of: .httpURI)
            tx.withStorage { storage in
                #expect(range.map { Array(storage[$0]) } == Array("/b c".utf8))
            }
        }
    }

    @Test func releasingMemoryBetweenRequestsKeepsParsing() throws {
        var parser = HTTPRequestParser()
        var uris: [String] = []
        parser.feed(Array("GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /tw".utf8)) { event, tx in
            if event == .headersComplete { uris.append(tx.uriNormalized) }
        }
        parser.releaseMemory() // mid-request: ignored
        parser.feed(Array("o HTTP/1.1\r\nHost: h\r\n\r\n".utf8)) { event, tx in
            if event == .headersComplete { uris.append(tx.uriNormalized) }
        }
        parser.releaseMemory()
        parser.feed(Array("GET /three HTTP/1.1\r\nHost: h\r\n\r\n".utf8)) { event, tx in
            if event == .headersComplete { uris.append(tx.uriNormalized) }
        }
        #expect(uris == ["/one", "/two", "/three"])
    }

    @Test func aTransactionKeptAfterTheCallbackDoesNotChange() throws {
        var parser = HTTPRequestParser()
        var kept: HTTPTransaction?
        parser.feed(Array("POST /first HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n".utf8)) { event, tx in
            if event == .headersComplete { kept = tx }
        }
        parser.feed(Array("abcGET /second HTTP/1.1\r\nHost: other\r\n\r\n".utf8)) { _, _ in }
        let first = try #require(kept)
        #expect(first.uriNormalized == "/first")
        #expect(first.host == "h")
        #expect(first.bytes(.httpClientBody) == nil)
    }

    @Test func resetStartsAFreshFlow() throws {
        var parser = HTTPRequestParser()
        parser.feed(Array("\u{16}\u{3}".utf8)) { _, _ in }
        #expect(parser.gaveUp)
        parser.reset()
        var uris: [String?] = []
        parser.feed(Array("GET /again HTTP/1.1\r\nHost: h\r\n\r\n".utf8)) { event, tx in
            if event == .headersComplete { uris.append(tx.bytes(.httpURI).map { String(decoding: $0, as: UTF8.self) }) }
        }
        #expect(uris == ["/again"])
        #expect(parser.requestCount == 1)
    }

    // MARK: - Throughput (printed, not asserted)

    /// 100,000 typical ~400-byte GETs, pipelined and fed in 1460-byte
    /// segments (one TCP MSS). Run with `swift test -c release` for figures.
    @Test func throughputOfTypicalGETs() throws {
        var stream: [UInt8] = []
        let count = 100_000
        for i in 0..<count {
            let request = "GET /catalog/items/\(i % 977)/detail.html?ref=home&sort=price&page=\(i % 13) HTTP/1.1\r\n"
                + "Host: shop.example.com\r\n"
                + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
                + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                + "Accept-Language: en-US,en;q=0.5\r\n"
                + "Accept-Encoding: gzip, deflate, br\r\n"
                + "Cookie: sid=4f2a9c1e7b; cart=3\r\n"
                + "Connection: keep-alive\r\n\r\n"
            stream += request.utf8
        }
        // Best of 5 rounds (a fresh parser each): the machine is shared.
        var best = Duration.seconds(1_000)
        var completed = 0
        var uriBytes = 0
        let clock = ContinuousClock()
        for _ in 0..<5 {
            var parser = HTTPRequestParser()
            completed = 0
            let elapsed = clock.measure {
                stream.withUnsafeBytes { all in
                    var offset = 0
                    while offset < all.count {
                        let segment = UnsafeRawBufferPointer(rebasing: all[offset..<min(offset + 1460, all.count)])
                        parser.feed(segment) { event, tx in
                            if event == .headersComplete {
                                completed += 1
                                uriBytes += tx.range(of: .httpURI)?.count ?? 0
                            }
                        }
                        offset += 1460
                    }
                }
            }
            best = min(best, elapsed)
            #expect(completed == count)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        let perRequest = Double(stream.count) / Double(count)
        print(String(format: "HTTP parser: %d requests (%.0f B avg) in %.3f s (best of 5): %.0f req/s, %.1f MB/s",
                     count, perRequest, seconds, Double(count) / seconds, Double(stream.count) / seconds / 1e6))
        #expect(uriBytes > 0)
    }
}
