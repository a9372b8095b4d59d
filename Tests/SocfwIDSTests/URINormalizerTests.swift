import Testing
import SocfwIDS
import SocfwWire // SplitMix64

// http.uri normalisation, case by case. Traversal and encoding variants are
// the classic IDS-evasion forms (Ptacek & Newsham; the libhtp and Snort
// http_inspect test suites exercise the same families).

struct URINormalizationCase: CustomTestStringConvertible, Sendable {
    let raw: String
    let expected: [UInt8]
    let anomalies: HTTPAnomalies

    init(_ raw: String, _ expected: String, _ anomalies: HTTPAnomalies = []) {
        self.raw = raw
        self.expected = Array(expected.utf8)
        self.anomalies = anomalies
    }

    init(_ raw: String, bytes expected: [UInt8], _ anomalies: HTTPAnomalies = []) {
        self.raw = raw
        self.expected = expected
        self.anomalies = anomalies
    }

    var testDescription: String { raw }
}

@Suite struct URINormalizerTests {
    static let plainCases: [URINormalizationCase] = [
        URINormalizationCase("/index.html", "/index.html"),
        URINormalizationCase("/", "/"),
        URINormalizationCase("*", "*"),
        URINormalizationCase("index.html", "index.html"),
        URINormalizationCase("/a/b/c/", "/a/b/c/"),
        URINormalizationCase("/.well-known/acme-challenge/x", "/.well-known/acme-challenge/x"),
        URINormalizationCase("/a..b/c.", "/a..b/c."),
        URINormalizationCase("/search?q=suricata+rules&lang=en", "/search?q=suricata+rules&lang=en"),
    ]

    static let pathCases: [URINormalizationCase] = [
        URINormalizationCase("//index.html", "/index.html"),
        URINormalizationCase("/a//b///c", "/a/b/c"),
        URINormalizationCase("/a\\b\\c", "/a/b/c"),
        URINormalizationCase("/a/./b", "/a/b"),
        URINormalizationCase("/a/../b", "/b"),
        URINormalizationCase("/a/b/..", "/a/"),
        URINormalizationCase("/a/.", "/a/"),
        URINormalizationCase("/./", "/"),
        URINormalizationCase("/a/b/../../../c", "/c", .dotSegmentAboveRoot),
        URINormalizationCase("/..", "/", .dotSegmentAboveRoot),
        URINormalizationCase("/../../etc/passwd", "/etc/passwd", .dotSegmentAboveRoot),
        URINormalizationCase("../x", "x", .dotSegmentAboveRoot),
        URINormalizationCase("a/../../b", "/b", .dotSegmentAboveRoot),
    ]

    static let encodingCases: [URINormalizationCase] = [
        URINormalizationCase("/a%20b", "/a b"),
        URINormalizationCase("/%41%42c", "/ABc"),
        URINormalizationCase("/a%2fb", "/a/b", .encodedSeparator),
        URINormalizationCase("/a/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", .dotSegmentAboveRoot),
        URINormalizationCase("/.%2e/", "/", .dotSegmentAboveRoot),
        URINormalizationCase("/scripts/..%5c..%5cwinnt/system32/cmd.exe", "/winnt/system32/cmd.exe",
                [.encodedSeparator, .dotSegmentAboveRoot]),
        URINormalizationCase("/scripts/..%5c../winnt/system32/cmd.exe?/c+dir", "/winnt/system32/cmd.exe?/c+dir",
                [.encodedSeparator, .dotSegmentAboveRoot]),
        URINormalizationCase("/%252e%252e%252fetc%252fpasswd", "/etc/passwd",
                [.doubleEncoding, .encodedSeparator, .dotSegmentAboveRoot]),
        URINormalizationCase("/%2541", "/A", .doubleEncoding),
        URINormalizationCase("/100%25", "/100%"),
        URINormalizationCase("/a%zzb", "/a%zzb", .invalidPercentEncoding),
        URINormalizationCase("/a%", "/a%", .invalidPercentEncoding),
        URINormalizationCase("/a%2", "/a%2", .invalidPercentEncoding),
        URINormalizationCase("/a%%41", "/a%A", .invalidPercentEncoding),
        URINormalizationCase("/a%2%41", "/a*", [.invalidPercentEncoding, .doubleEncoding]),
        URINormalizationCase("/a%00b", bytes: [0x2F, 0x61, 0x00, 0x62], .nulInURI),
        URINormalizationCase("/path%3Fnot-query?real=1", "/path?not-query?real=1"),
    ]

    static let unicodeCases: [URINormalizationCase] = [
        URINormalizationCase("/%u002e%u002e/x", "/x", [.uEncoding, .dotSegmentAboveRoot]),
        URINormalizationCase("/a%u002fb", "/a/b", [.uEncoding, .encodedSeparator]),
        URINormalizationCase("/%uff0e%uff0e/x", "/x", [.uEncoding, .halfFullWidth, .dotSegmentAboveRoot]),
        URINormalizationCase("/caf%u00e9", bytes: Array("/caf".utf8) + [0xE9], .uEncoding),
        URINormalizationCase("/%u4e2d", bytes: [0x2F, 0xE4, 0xB8, 0xAD], .uEncoding),
        URINormalizationCase("/%u12", "/%u12", .invalidPercentEncoding),
        URINormalizationCase("/%u12zz", "/%u12zz", .invalidPercentEncoding),
        URINormalizationCase("/..%c0%af..%c0%afetc/passwd", "/etc/passwd", [.utf8Overlong, .dotSegmentAboveRoot]),
        URINormalizationCase("/a%ef%bc%8fb", "/a/b", .halfFullWidth),
        URINormalizationCase("/caf%c3%a9", bytes: Array("/caf".utf8) + [0xC3, 0xA9]),
        URINormalizationCase("/%e0%80%ae%e0%80%ae/x", "/x", [.utf8Overlong, .dotSegmentAboveRoot]),
    ]

    static let formCases: [URINormalizationCase] = [
        URINormalizationCase("http://Example.com:8080/a/../b?x=1", "/b?x=1", .absoluteURI),
        URINormalizationCase("http://example.com", "/", .absoluteURI),
        URINormalizationCase("http://example.com?x=1", "/?x=1", .absoluteURI),
        URINormalizationCase("https://user:pw@example.com//a/./b", "/a/b", .absoluteURI),
        URINormalizationCase("mailto:x", "mailto:x"),
    ]

    static let queryCases: [URINormalizationCase] = [
        URINormalizationCase("/search?q=a+b%20c", "/search?q=a+b c"),
        URINormalizationCase("/a?x=../../y", "/a?x=../../y"),
        URINormalizationCase("/a?x=%2e%2e%2f", "/a?x=../"),
        URINormalizationCase("/a?x=%252e", "/a?x=.", .doubleEncoding),
        URINormalizationCase("/a?x=%zz", "/a?x=%zz", .invalidPercentEncoding),
        URINormalizationCase("/a?x=%u0041", "/a?x=A", .uEncoding),
        URINormalizationCase("/a/../b?c=/d/../e//f", "/b?c=/d/../e//f"),
        URINormalizationCase("/a#frag%20x", "/a#frag x"),
        URINormalizationCase("/a?q=1#f", "/a?q=1#f"),
    ]

    @Test(arguments: plainCases + pathCases + encodingCases + unicodeCases + formCases + queryCases)
    func normalisesLikeLibhtp(_ c: URINormalizationCase) {
        let (uri, anomalies) = URINormalizer.normalize(Array(c.raw.utf8))
        #expect(uri == c.expected, "\(c.raw) → \(String(decoding: uri, as: UTF8.self))")
        #expect(anomalies == c.anomalies, "\(c.raw): \(anomalies)")
    }

    @Test func normalisationIsIdempotentOnItsOutput() {
        for c in Self.pathCases + Self.encodingCases + Self.formCases where !c.expected.contains(0x25) {
            let once = URINormalizer.normalize(Array(c.raw.utf8)).uri
            let twice = URINormalizer.normalize(once).uri
            #expect(once == twice, "\(c.raw)")
        }
    }

    @Test func emptyTargetStaysEmpty() {
        let (uri, anomalies) = URINormalizer.normalize([UInt8]())
        #expect(uri.isEmpty)
        #expect(anomalies.isEmpty)
    }

    @Test func neverGrowsAndNeverCrashesOnRandomBytes() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let alphabet = Array("/.%\\?#u2eEfF5c0aA+:@".utf8) + [0x00, 0xC0, 0xAF, 0xEF, 0xBC, 0x8F]
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 40)
            let input = (0..<n).map { _ in
                rng.next() % 4 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            let (uri, _) = URINormalizer.normalize(input)
            #expect(uri.count <= max(input.count, 1))
        }
    }
}
