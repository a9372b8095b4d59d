import SocfwIDS
import Testing

/// `buildsHeaderBuffers = false` (no signature reads them): framing, URI,
/// host and body are the same; the header-line buffers are not built.
@Suite struct HTTPHeaderBuffersOffTests {
    func transactions(_ request: String, full: Bool) -> [(uri: String, host: String?, body: [UInt8]?, ua: [UInt8]?, header: [UInt8]?)] {
        var parser = HTTPRequestParser()
        parser.buildsHeaderBuffers = full
        var out: [(String, String?, [UInt8]?, [UInt8]?, [UInt8]?)] = []
        parser.feed(Array(request.utf8)) { event, tx in
            if event == .bodyComplete {
                out.append((tx.uriNormalized, tx.host, tx.bytes(.httpClientBody), tx.headerValue(named: "User-Agent"),
                            tx.bytes(.httpHeader)))
            }
        }
        return out
    }

    @Test func framingUriHostAndBodyDoNotDependOnIt() {
        let request = "POST /a/../b%2fc?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: t/1\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "GET /next HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok"
        let full = transactions(request, full: true)
        let lite = transactions(request, full: false)
        #expect(full.count == 2 && lite.count == 2)
        for (f, l) in zip(full, lite) {
            #expect(f.uri == l.uri && f.host == l.host && f.body == l.body && f.ua == l.ua)
        }
        #expect(lite[0].body == Array("abc".utf8) && lite[1].body == Array("ok".utf8))
        #expect(lite[0].host == "example.com")
        #expect(full[0].header != nil && lite[0].header == nil)
    }

    @Test func foldedOrRepeatedHeadersStillGetEveryBuffer() {
        let request = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-A: 2\r\n\r\n"
        #expect(transactions(request, full: false)[0].header != nil)
    }
}
