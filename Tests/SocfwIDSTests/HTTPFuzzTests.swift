import Testing
import SocfwIDS
import SocfwWire // SplitMix64

// Property tests: the parser must never crash, and TCP segmentation must
// never change what it reports. Deterministic seeds keep failures
// reproducible; the seed is in every failure message.

/// Requests of every shape the parser knows, valid or deliberately odd.
let httpFuzzCorpus: [String] = [
    "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "GET /search?q=a+b%20c&x=%252e HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
    "POST /login HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: 27\r\n\r\nuser=admin&pass=hunter2&x=1",
    "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n7\r\n, world\r\n0\r\nT: 1\r\n\r\n",
    "GET /a/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
    "GET /..%c0%af..%c0%afwinnt/system32/cmd.exe?/c+dir HTTP/1.0\r\n\r\n",
    "GET http://proxy.example/%u002e%u002e/x HTTP/1.1\r\nHost: other\r\nX-F: a\r\n  b\r\n\r\n",
    "\r\nGET /bare HTTP/1.1\nHost: h\nAccept: */*\n\n",
    "GET /index.html\r\n",
    "HEAD /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
    "POST /s HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
    "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 300\r\n\r\n" + String(repeating: "0123456789", count: 30),
    "GET /sp ace HTTP/1.1\r\nHost: h\r\nUser-Agent:\r\n\r\n",
]

/// Feeds `stream` cut at `cuts` (sorted offsets) and records every event.
func parseHTTP(_ stream: [UInt8], cuts: [Int], limits: HTTPLimits) -> [HTTPSnapshot] {
    var parser = HTTPRequestParser(limits: limits)
    var events: [HTTPSnapshot] = []
    var start = 0
    for cut in cuts + [stream.count] where cut > start {
        parser.feed(Array(stream[start..<cut])) { events.append(HTTPSnapshot($0, $1)) }
        start = cut
    }
    return events
}

func httpRandomCuts(_ count: Int, _ rng: inout SplitMix64) -> [Int] {
    guard count > 1 else { return [] }
    let n = Int(rng.next() % 12)
    var cuts = (0..<n).map { _ in 1 + Int(rng.next() % UInt64(count - 1)) }
    if rng.next() % 4 == 0 { cuts = Array(stride(from: 1, to: count, by: 1 + Int(rng.next() % 3))) } // byte by byte
    return Array(Set(cuts)).sorted()
}

func httpCorpusStream(_ rng: inout SplitMix64, requests: Int) -> [UInt8] {
    var stream: [UInt8] = []
    for _ in 0..<requests {
        stream += httpFuzzCorpus[Int(rng.next() % UInt64(httpFuzzCorpus.count))].utf8
    }
    return stream
}

/// Byte-level damage of the kinds that trip HTTP parsers.
func mutateHTTP(_ stream: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var s = stream
    let interesting: [UInt8] = Array("\r\n :%/.\\;0Ff\t".utf8) + [0x00, 0xFF, 0xC0]
    for _ in 0..<(1 + Int(rng.next() % 6)) where !s.isEmpty {
        let i = Int(rng.next() % UInt64(s.count))
        switch rng.next() % 5 {
        case 0: s[i] = UInt8(truncatingIfNeeded: rng.next())
        case 1: s[i] = interesting[Int(rng.next() % UInt64(interesting.count))]
        case 2: s.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: i)
        case 3: s.removeSubrange(i..<min(s.count, i + 1 + Int(rng.next() % 8)))
        default:
            let piece = Array(s[i..<min(s.count, i + 1 + Int(rng.next() % 40))])
            s.insert(contentsOf: piece, at: Int(rng.next() % UInt64(s.count)))
        }
    }
    return s
}

/// Small limits, so that every overflow path is taken often.
let tightHTTPLimits = HTTPLimits(requestLineBytes: 64, headerBytes: 96, headers: 4, bodyInspectBytes: 16, junkBytes: 200)

@Suite struct HTTPFuzzTests {
    @Test(arguments: [HTTPLimits(), tightHTTPLimits])
    func segmentationNeverChangesTheTransactions(limits: HTTPLimits) {
        var rng = SplitMix64(seed: 0xC0FFEE)
        for iteration in 0..<400 {
            let stream = httpCorpusStream(&rng, requests: 1 + Int(rng.next() % 6))
            let whole = parseHTTP(stream, chunk: nil, limits: limits)
            let cuts = httpRandomCuts(stream.count, &rng)
            let split = parseHTTP(stream, cuts: cuts, limits: limits)
            #expect(whole == split, "iteration \(iteration), cuts \(cuts)")
            if whole != split { return }
        }
    }

    @Test(arguments: [HTTPLimits(), tightHTTPLimits])
    func segmentationNeverChangesTheTransactionsOfDamagedStreams(limits: HTTPLimits) {
        var rng = SplitMix64(seed: 0xBADC0DE)
        for iteration in 0..<1_500 {
            let stream = mutateHTTP(httpCorpusStream(&rng, requests: 1 + Int(rng.next() % 4)), &rng)
            let whole = parseHTTP(stream, chunk: nil, limits: limits)
            let cuts = httpRandomCuts(stream.count, &rng)
            let split = parseHTTP(stream, cuts: cuts, limits: limits)
            let text = String(decoding: stream, as: UTF8.self).debugDescription
            #expect(whole == split, "iteration \(iteration), cuts \(cuts), stream \(text)")
            if whole != split { return }
        }
    }

    @Test func everyPrefixReportsAPrefixOfTheEvents() {
        var rng = SplitMix64(seed: 0x9E3779B9)
        for _ in 0..<20 {
            let stream = httpCorpusStream(&rng, requests: 4)
            let all = parseHTTP(stream, chunk: nil, limits: tightHTTPLimits)
            for length in 0...stream.count {
                let some = parseHTTP(Array(stream[0..<length]), chunk: nil, limits: tightHTTPLimits)
                #expect(Array(all.prefix(some.count)) == some, "length \(length)")
                if Array(all.prefix(some.count)) != some { return }
            }
            #expect(all.count >= httpHeads(all).count * 2)
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(seed: 0xDEADBEEF)
        var gaveUp = 0
        for _ in 0..<3_000 {
            let n = Int(rng.next() % 600)
            var stream = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if rng.next() % 2 == 0 { stream = Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8) + stream }
            var parser = HTTPRequestParser(limits: rng.next() % 2 == 0 ? HTTPLimits() : tightHTTPLimits)
            var start = 0
            for cut in httpRandomCuts(stream.count, &rng) + [stream.count] where cut > start {
                parser.feed(Array(stream[start..<cut])) { _, tx in _ = tx.bytes(.httpURI) }
                start = cut
            }
            parser.finish { _, _ in }
            if parser.gaveUp { gaveUp += 1 }
        }
        #expect(gaveUp > 0)
    }

    @Test func tokenSoupNeverCrashes() {
        // Random text from HTTP's own alphabet reaches deeper states than random bytes.
        let words = ["GET", "POST", " ", "/", "HTTP/1.1", "\r\n", "\n", ":", "Host", "Content-Length",
                     "Transfer-Encoding", "chunked", "0", "5", "ff", ";", "%2e", "%u", "..", "\t", "abc", ","]
        var rng = SplitMix64(seed: 0x70CE4)
        for _ in 0..<3_000 {
            var text = "GET / HTTP/1.1\r\n"
            for _ in 0..<Int(rng.next() % 80) { text += words[Int(rng.next() % UInt64(words.count))] }
            let stream = Array(text.utf8)
            let whole = parseHTTP(stream, chunk: nil, limits: tightHTTPLimits)
            let split = parseHTTP(stream, cuts: httpRandomCuts(stream.count, &rng), limits: tightHTTPLimits)
            #expect(whole == split, "\(text.debugDescription)")
            if whole != split { return }
        }
    }

    @Test func truncatedRequestsReportNothingWrong() {
        for request in httpFuzzCorpus {
            let bytes = Array(request.utf8)
            for length in 0..<bytes.count {
                let events = parseHTTP(Array(bytes[0..<length]), chunk: nil, limits: HTTPLimits(), finish: true)
                // finish() completes what it can; it never reports more than one request.
                #expect(httpHeads(events).count <= 1)
                #expect(events.allSatisfy { $0.event != .notHTTP } || length < 4)
            }
        }
    }

    @Test func hugeHeadersStayWithinTheLimit() throws {
        let limits = HTTPLimits(headerBytes: 4096)
        var stream = Array("GET / HTTP/1.1\r\nHost: h\r\nX-Huge: ".utf8)
        stream += [UInt8](repeating: 0x41, count: 1 << 20)
        stream += Array("\r\nAccept: */*\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        let events = parseHTTP(stream, chunk: 1460, limits: limits)
        #expect(httpHeads(events).count == 2)
        let first = httpHeads(events)[0]
        #expect(first.anomalies == .headerTooLong)
        #expect((first.buffers[.httpRawHeader]?.count ?? 0) <= 4096)
        #expect(first[.httpHeader] == "Host: h\r\nAccept: */*\r\n")
        #expect(httpHeads(events)[1][.httpURI] == "/next")
    }

    @Test func hugeRequestLineWithoutLineEndStaysBounded() {
        var parser = HTTPRequestParser()
        var events: [HTTPParseEvent] = []
        parser.feed(Array("GET /".utf8)) { e, _ in events.append(e) }
        let filler = [UInt8](repeating: 0x61, count: 64 * 1024)
        for _ in 0..<64 { parser.feed(filler) { e, _ in events.append(e) } }
        parser.feed(Array(" HTTP/1.1\r\nHost: h\r\n\r\n".utf8)) { event, tx in
            events.append(event)
            if event == .headersComplete {
                #expect(tx.anomalies == .requestLineTooLong)
                #expect(tx.range(of: .httpRequestLine)?.count == HTTPLimits().requestLineBytes)
            }
        }
        #expect(events == [.headersComplete, .bodyComplete])
    }

    @Test func badChunkSizesNeverCrash() {
        let sizes = ["", "zz", "-1", "0x10", "FFFFFFFFFFFFFFFFFFFF", "7fffffffffffffff", " 5", "5 ; ext", "5\r",
                     "1;" + String(repeating: "e", count: 5000), "\u{0}", "+3", "3 3"]
        var rng = SplitMix64(seed: 0xC4A1)
        for size in sizes {
            let stream = Array(("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n"
                + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n").utf8)
            let whole = parseHTTP(stream, chunk: nil, limits: HTTPLimits())
            let split = parseHTTP(stream, cuts: httpRandomCuts(stream.count, &rng), limits: HTTPLimits())
            #expect(whole == split, "\(size.debugDescription)")
            #expect(httpBodies(whole).count >= 1, "\(size.debugDescription)")
            #expect(whole.first?.event == .headersComplete)
        }
    }
}
