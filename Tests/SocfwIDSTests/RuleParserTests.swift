import Testing
import SocfwWire
import SocfwIDS

// Suricata-dialect rules, keyword by keyword, against the exact SignatureSpec
// fields; unsupported and malformed rules against the exact skip.

/// Parses test rules; shared by the rule parser test files.
enum RuleParserFixture {
    static let origin = SignatureOrigin(file: "test.rules", line: 1)

    static func parse(_ rule: String, dialect: RuleDialect = .auto,
                      variables: RuleVariables = .init()) -> Result<SignatureSpec, RuleSkip> {
        RuleParser(variables: variables, dialect: dialect).parse(rule, origin: origin)
    }

    static func spec(_ rule: String, dialect: RuleDialect = .auto, variables: RuleVariables = .init(),
                     sourceLocation: SourceLocation = #_sourceLocation) -> SignatureSpec? {
        switch parse(rule, dialect: dialect, variables: variables) {
        case .success(let spec):
            return spec
        case .failure(let skip):
            Issue.record("expected the rule to load, got: \(skip)", sourceLocation: sourceLocation)
            return nil
        }
    }

    static func skip(_ rule: String, dialect: RuleDialect = .auto, variables: RuleVariables = .init(),
                     sourceLocation: SourceLocation = #_sourceLocation) -> RuleSkip? {
        switch parse(rule, dialect: dialect, variables: variables) {
        case .success:
            Issue.record("expected the rule to be skipped", sourceLocation: sourceLocation)
            return nil
        case .failure(let skip):
            return skip
        }
    }

    /// 1-based byte column of the first occurrence of `text` in `rule`.
    static func column(of text: String, in rule: String) -> Int? {
        guard let range = rule.range(of: text) else { return nil }
        return rule.utf8.distance(from: rule.startIndex, to: range.lowerBound) + 1
    }

    static func content(_ text: String, _ buffer: SignatureBuffer = .payload,
                        _ configure: (inout ContentMatch) -> Void = { _ in }) -> DetectionStep {
        var match = ContentMatch(bytes: Array(text.utf8), buffer: buffer)
        configure(&match)
        return .content(match)
    }

    static func pcre(_ pattern: String, _ buffer: SignatureBuffer = .payload,
                     _ configure: (inout PcreMatch) -> Void = { _ in }) -> DetectionStep {
        var match = PcreMatch(pattern: pattern, buffer: buffer)
        configure(&match)
        return .pcre(match)
    }
}

private typealias F = RuleParserFixture

private func rule(_ options: String, header: String = "alert tcp any any -> any any") -> String {
    "\(header) (msg:\"test\"; \(options) sid:1000001; rev:2;)"
}

@Suite struct SuricataInformationalOptionTests {
    @Test func msgSidRevGidAndReferencesAreRecorded() throws {
        let spec = try #require(F.spec(#"alert tcp any any -> any any (msg:"a \"quoted\" \; msg"; reference:url, example.com/x; reference:cve,2020-1234; sid:42; rev:7; gid:3;)"#))
        #expect(spec.message == #"a "quoted" ; msg"#)
        #expect(spec.sid == 42)
        #expect(spec.rev == 7)
        #expect(spec.gid == 3)
        #expect(spec.references == ["url,example.com/x", "cve,2020-1234"])
        #expect(spec.origin == F.origin)
        #expect(spec.action == .alert)
        #expect(spec.proto == .tcp)
    }

    @Test func defaultsWithoutOptionalOptions() throws {
        let spec = try #require(F.spec("alert tcp any any -> any any (sid:5;)"))
        #expect(spec.message == "")
        #expect(spec.rev == 1)
        #expect(spec.gid == 1)
        #expect(spec.priority == 3)
        #expect(spec.severity == .low)
        #expect(spec.classtype == nil)
        #expect(spec.steps.isEmpty)
    }

    @Test func classtypeSetsPriorityCategoryAndSeverity() throws {
        let spec = try #require(F.spec(rule("classtype:trojan-activity;")))
        #expect(spec.classtype == "trojan-activity")
        #expect(spec.category == "A Network Trojan was detected")
        #expect(spec.priority == 1)
        #expect(spec.severity == .high)
        let medium = try #require(F.spec(rule("classtype:bad-unknown;")))
        #expect(medium.priority == 2)
        #expect(medium.severity == .medium)
    }

    @Test func explicitPriorityOverridesTheClasstype() throws {
        let spec = try #require(F.spec(rule("priority:3; classtype:trojan-activity;")))
        #expect(spec.priority == 3)
        #expect(spec.severity == .low)
    }

    @Test func unknownClasstypeSkipsTheRule() throws {
        let skip = try #require(F.skip(rule("classtype:made-up;")))
        #expect(skip.keyword == "unknown classtype made-up")
        #expect(skip.message == "unknown classtype made-up")
        #expect(skip.sid == 1000001)
    }

    @Test func metadataEntriesAreSplitAndConfidenceIsRead() throws {
        let spec = try #require(F.spec(rule("metadata:affected_product Any, confidence Medium, signature_severity Major, created_at 2020_03_24;")))
        #expect(spec.metadata == ["affected_product Any", "confidence Medium", "signature_severity Major",
                                  "created_at 2020_03_24"])
        #expect(spec.confidence == 0.6)
        #expect(spec.severity == .low)
        let critical = try #require(F.spec(rule("metadata:signature_severity Critical;")))
        #expect(critical.severity == .critical)
    }

    @Test func targetServiceAndNoalertAreAccepted() throws {
        let spec = try #require(F.spec(rule("target:dest_ip; noalert;")))
        #expect(spec.flowbits == [.noAlert])
        #expect(F.skip(rule("target:both;"))?.message == "target: target must be src_ip or dest_ip")
    }

    @Test func missingSidSkips() throws {
        let skip = try #require(F.skip(#"alert tcp any any -> any any (msg:"x"; content:"a";)"#))
        #expect(skip.keyword == "missing sid")
        #expect(skip.message == "missing sid")
        #expect(skip.sid == nil)
    }

    @Test func duplicateOptionsAndBadNumbersAreSyntaxErrors() throws {
        let twice = try #require(F.skip("alert tcp any any -> any any (sid:1; sid:2;)"))
        #expect(twice.keyword == "syntax")
        #expect(twice.message == "sid: sid given twice")
        let bad = "alert tcp any any -> any any (sid:12x;)"
        let badSkip = try #require(F.skip(bad))
        #expect(badSkip.message == "sid: invalid number '12x'")
        #expect(badSkip.column == F.column(of: "sid:", in: bad))
        #expect(F.skip("alert tcp any any -> any any (sid:0;)")?.message == "sid: sid must be greater than 0")
    }

    @Test func actionsMapOntoTheIR() throws {
        for (word, action) in [("alert", SignatureAction.alert), ("drop", .drop), ("reject", .reject),
                               ("rejectsrc", .reject), ("rejectdst", .reject), ("rejectboth", .reject),
                               ("pass", .pass)] {
            let spec = try #require(F.spec("\(word) ip any any -> any any (sid:1;)"))
            #expect(spec.action == action, "\(word)")
        }
    }
}

@Suite struct SuricataContentTests {
    @Test func contentWithHexAndEscapes() throws {
        let spec = try #require(F.spec(rule(#"content:"GET|20 2F|a\"b\;c\\d\:e|0d0A|";"#)))
        #expect(spec.steps == [.content(ContentMatch(bytes: Array("GET /a\"b;c\\d:e\r\n".utf8)))])
    }

    @Test func modifiersApplyToThePrecedingContent() throws {
        let spec = try #require(F.spec(rule(#"content:"abc"; nocase; offset:2; depth:10; content:!"xyz"; distance:-3; within:20; fast_pattern;"#)))
        #expect(spec.steps == [
            F.content("abc") { $0.nocase = true; $0.offset = 2; $0.depth = 10 },
            F.content("xyz") { $0.negated = true; $0.distance = -3; $0.within = 20; $0.fastPattern = true },
        ])
    }

    @Test func fastPatternVariants() throws {
        for option in ["fast_pattern;", "fast_pattern:only;", "fast_pattern:1,2;"] {
            let spec = try #require(F.spec(rule(#"content:"abcdef"; \#(option)"#)))
            #expect(spec.steps == [F.content("abcdef") { $0.fastPattern = true }], "\(option)")
        }
        #expect(F.skip(rule(#"content:"abc"; fast_pattern:bogus;"#))?.message
            == "fast_pattern: expects 'only' or 'offset,length', got 'bogus'")
    }

    @Test func startswithAndEndswith() throws {
        let spec = try #require(F.spec(rule(#"content:"GET /"; startswith; content:".php"; endswith;"#)))
        #expect(spec.steps == [
            F.content("GET /") { $0.offset = 0; $0.depth = 5 },
            F.content(".php") { $0.endsWith = true },
        ])
        #expect(F.skip(rule(#"content:"abc"; depth:5; startswith;"#))?.message
            == "startswith: cannot be combined with offset, depth, distance or within")
    }

    @Test func legacyHTTPModifiersMoveThePrecedingContent() throws {
        let spec = try #require(F.spec(rule(#"content:"POST"; http_method; content:"/login"; http_uri; content:"x"; http_raw_uri; content:"h"; http_header; content:"r"; http_raw_header; content:"c"; http_cookie; content:"ua"; http_user_agent; content:"example"; http_host; content:"EX"; http_raw_host; content:"body"; http_client_body; content:"raw";"#, header: "alert http any any -> any any")))
        #expect(spec.steps.map(\.buffer) == [.httpMethod, .httpURI, .httpRawURI, .httpHeader, .httpRawHeader,
                                             .httpCookie, .httpUserAgent, .httpHost, .httpHost, .httpClientBody,
                                             .payload])
        #expect(spec.proto == .http)
    }

    @Test func uricontentIsAURIContent() throws {
        let spec = try #require(F.spec(rule(#"uricontent:"/cgi-bin/";"#)))
        #expect(spec.steps == [F.content("/cgi-bin/", .httpURI)])
    }

    @Test func stickyBuffersApplyToFollowingMatches() throws {
        let spec = try #require(F.spec(rule(#"http.method; content:"GET"; http.uri; content:"/a"; pcre:"/b/R"; bsize:>3; http.header; content:"X-Y|3a|"; isdataat:!1,relative; pkt_data; content:"tail";"#, header: "alert http any any -> any any")))
        var size = BufferSize(buffer: .httpURI, range: NumericTest(.greater, 3))
        size.buffer = .httpURI
        #expect(spec.steps == [
            F.content("GET", .httpMethod),
            F.content("/a", .httpURI),
            F.pcre("b", .httpURI) { $0.relative = true },
            .size(size),
            F.content("X-Y:", .httpHeader),
            .dataAt(DataAtTest(buffer: .httpHeader, offset: 1, relative: true, negated: true)),
            F.content("tail"),
        ])
    }

    @Test func everyRequestStickyBufferIsKnown() throws {
        let table: [(String, SignatureBuffer)] = [
            ("http.uri", .httpURI), ("http.uri.raw", .httpRawURI), ("http.method", .httpMethod),
            ("http.request_line", .httpRequestLine), ("http.header", .httpHeader),
            ("http.header.raw", .httpRawHeader), ("http.cookie", .httpCookie), ("http.user_agent", .httpUserAgent),
            ("http.host", .httpHost), ("http.host.raw", .httpHost), ("http.request_body", .httpClientBody),
            ("http.protocol", .httpProtocol), ("http.referer", .httpReferer), ("http.content_type", .httpContentType),
            ("http.accept", .httpAccept), ("http.accept_lang", .httpAcceptLanguage),
            ("http.accept_enc", .httpAcceptEncoding), ("http.connection", .httpConnection),
            ("http.content_len", .httpContentLength), ("http.header_names", .httpHeaderNames),
            ("http.start", .httpStart), ("http_request_line", .httpRequestLine), ("http_accept", .httpAccept),
            ("pkt_data", .payload),
        ]
        for (keyword, buffer) in table {
            let spec = try #require(F.spec(rule(#"\#(keyword); content:"v";"#)))
            #expect(spec.steps == [F.content("v", buffer)], "\(keyword)")
        }
    }

    @Test func responseSideAndOtherAppLayerBuffersSkipWithTheirName() throws {
        for keyword in ["file.data", "file_data", "http.stat_code", "http.response_body", "http.server",
                        "http.location", "dns.query", "tls.sni", "ja3.hash", "base64_data", "http.response_line"] {
            let text = rule(#"\#(keyword); content:"v";"#)
            let skip = try #require(F.skip(text))
            #expect(skip.keyword == keyword)
            #expect(skip.message == "keyword \(keyword) is not supported")
            #expect(skip.column == F.column(of: keyword + ";", in: text))
        }
        #expect(F.skip(rule(#"content:"200"; http_stat_code;"#))?.keyword == "http_stat_code")
    }

    @Test func requestBuffersOnResponsesAreSkipped() throws {
        let text = rule(#"flow:established,to_client; http.header; content:"Server|3a|";"#,
                        header: "alert http any any -> any any")
        let skip = try #require(F.skip(text))
        #expect(skip.keyword == "http.header to_client")
        #expect(skip.message == "http.header on responses (flow:to_client) is not supported")
        #expect(skip.column == F.column(of: "flow:", in: text))
        // Payload contents on responses are fine.
        #expect(F.spec(rule(#"flow:established,to_client; content:"HTTP/1.1 200";"#)) != nil)
    }

    @Test func malformedContentsAreSyntaxErrors() throws {
        let cases: [(String, String)] = [
            (#"nocase; content:"a";"#, "nocase needs a preceding content"),
            (#"content:"ab|4|";"#, "content: odd number of hex digits"),
            (#"content:"ab|4g|";"#, "content: invalid hex 'g'"),
            (#"content:"ab|41";"#, "content: unterminated hex sequence"),
            (#"content:"a\x";"#, "content: invalid escape '\\x'"),
            (#"content:abc;"#, "content: the value must be quoted"),
            (#"content:"";"#, "content: empty content"),
            (#"content:"abc" x;"#, "content: unexpected text after the content string"),
            (#"content:"abc"; offset:1; distance:2;"#,
             "distance: offset/depth/startswith cannot be mixed with distance/within on one content"),
            (#"content:"abc"; within:2;"#, "within: 2 is smaller than the content length 3"),
            (#"content:"abc"; depth:2;"#, "depth: 2 is smaller than the content length 3"),
            (#"content:"abc"; depth:x;"#, "depth: expects a number, got 'x'"),
            (#"content:"abc"; nocase; nocase;"#, "nocase: given twice for the same content"),
            (#"content:"abc"; nocase:1;"#, "nocase: takes no value"),
            (#"http.uri; content:"abc"; http_uri;"#, "http_uri: cannot move a content that is in a sticky buffer"),
            (#"content:"abc"; http_uri; http_header;"#, "http_header: the content already has a buffer modifier"),
        ]
        for (options, message) in cases {
            let skip = try #require(F.skip(rule(options), dialect: .suricata), "\(options)")
            #expect(skip.keyword == "syntax", "\(options)")
            #expect(skip.message == message, "\(options)")
            #expect(skip.column != nil, "\(options)")
        }
    }

    @Test func hexErrorColumnPointsAtTheBadCharacter() throws {
        let text = rule(#"content:"ab|4g|";"#)
        #expect(F.skip(text)?.column == F.column(of: "g|", in: text))
    }
}

@Suite struct SuricataPcreTests {
    @Test func flagsMapOntoTheMatch() throws {
        let spec = try #require(F.spec(rule(#"pcre:"/^a.b$/ismxAEG";"#)))
        #expect(spec.steps == [F.pcre("^a.b$") {
            $0.caseless = true; $0.dotAll = true; $0.multiline = true; $0.extended = true
            $0.anchored = true; $0.dollarEndOnly = true; $0.ungreedy = true
        }])
    }

    @Test func bufferFlagsSelectHTTPBuffers() throws {
        let table: [(String, SignatureBuffer)] = [
            ("U", .httpURI), ("I", .httpRawURI), ("P", .httpClientBody), ("H", .httpHeader), ("D", .httpRawHeader),
            ("M", .httpMethod), ("C", .httpCookie), ("V", .httpUserAgent), ("W", .httpHost), ("Z", .httpHost),
        ]
        for (flag, buffer) in table {
            let spec = try #require(F.spec(rule(#"pcre:"/x/\#(flag)O";"#)))
            #expect(spec.steps == [F.pcre("x", buffer)], "\(flag)")
        }
    }

    @Test func negationAndSlashEscapesAreKept() throws {
        let spec = try #require(F.spec(rule(#"pcre:!"/\/etc\/passwd\x3b/Ui";"#)))
        #expect(spec.steps == [F.pcre(#"\/etc\/passwd\x3b"#, .httpURI) { $0.negated = true; $0.caseless = true }])
    }

    @Test func relativePcreFollowsTheBufferOfTheContentBeforeIt() throws {
        let spec = try #require(F.spec(rule(#"content:"/x"; http_uri; pcre:"/^y/R"; pcre:"/z/";"#)))
        #expect(spec.steps == [F.content("/x", .httpURI), F.pcre("^y", .httpURI) { $0.relative = true }, F.pcre("z")])
    }

    @Test func etQuirkUnescapedQuoteInsidePcre() throws {
        // ET Open sid 2029732 (emerging-phishing.rules), verbatim.
        let et = #"alert http $EXTERNAL_NET any -> $HOME_NET any (msg:"ET PHISHING Common Unhidebody Function Observed in Phishing Landing"; flow:established,to_client; file.data; content:"function unhideBody()"; nocase; fast_pattern; content:"var bodyElems = document.getElementsByTagName(|22|body|22|)|3b|"; nocase; content:"bodyElems[0].style.visibility =|20 22|visible|22 3b|"; nocase; distance:0; content:"onload=|22|unhideBody()|22|"; content:"method="; nocase; pcre:"/^["']?post/Ri"; classtype:social-engineering; sid:2029732; rev:2; metadata:affected_product Web_Browsers, attack_target Client_Endpoint, created_at 2020_03_24, deployment Perimeter, confidence Medium, signature_severity Minor, tag Phishing, updated_at 2020_03_24;)"#
        // Skipped for its response-body buffer, not for a broken split.
        let skip = try #require(F.skip(et))
        #expect(skip.keyword == "file.data")
        #expect(skip.sid == 2029732)
        let lexed = try RuleLexer.split(Array(et.utf8))
        #expect(lexed.options.map(\.keyword).suffix(5) == ["pcre", "classtype", "sid", "rev", "metadata"])
        // The same options on the request body load, with the pcre intact.
        let request = et.replacingOccurrences(of: "flow:established,to_client; file.data;",
                                              with: "flow:established,to_server; http.request_body;")
        let spec = try #require(F.spec(request))
        #expect(spec.sid == 2029732)
        #expect(spec.classtype == "social-engineering")
        #expect(spec.confidence == 0.6)
        #expect(spec.steps.last == F.pcre(#"^["']?post"#, .httpClientBody) { $0.relative = true; $0.caseless = true })
        #expect(spec.steps.count == 6)
    }

    @Test func malformedAndUnsupportedPcres() throws {
        let syntax: [(String, String)] = [
            (#"pcre:"abc";"#, #"pcre: expected "/pattern/flags""#),
            (#"pcre:"/abc";"#, #"pcre: expected "/pattern/flags""#),
            (#"pcre:"//i";"#, "pcre: empty pattern"),
            (#"pcre:/abc/;"#, "pcre: the value must be quoted"),
            (#"pcre:"/abc/q";"#, "pcre: unknown flag 'q'"),
            (#"pcre:"/abc/UH";"#, "pcre: flags name two buffers (http.uri, http.header)"),
            (#"http.header; pcre:"/abc/U";"#, "pcre: flag for http.uri used in sticky buffer http.header"),
        ]
        for (options, message) in syntax {
            let skip = try #require(F.skip(rule(options)), "\(options)")
            #expect(skip.keyword == "syntax", "\(options)")
            #expect(skip.message == message, "\(options)")
        }
        let response = try #require(F.skip(rule(#"pcre:"/^200/S";"#)))
        #expect(response.keyword == "pcre/S")
        #expect(response.message == "pcre flag S (a response buffer) is not supported")
    }
}

@Suite struct SuricataBufferTestTests {
    @Test func bsizeForms() throws {
        let table: [(String, NumericTest)] = [
            ("10", NumericTest(.equal, 10)), ("<10", NumericTest(.less, 10)), (">10", NumericTest(.greater, 10)),
            ("5<>10", NumericTest(.range, 5, high: 10)), ("<=4", NumericTest(.lessOrEqual, 4)),
            (">= 4", NumericTest(.greaterOrEqual, 4)), ("!3", NumericTest(.notEqual, 3)),
        ]
        for (text, test) in table {
            let spec = try #require(F.spec(rule("http.host; bsize:\(text);")))
            #expect(spec.steps == [.size(BufferSize(buffer: .httpHost, range: test))], "\(text)")
        }
    }

    @Test func urilenUsesTheURIBuffers() throws {
        let spec = try #require(F.spec(rule("urilen:1<>20; urilen:>5,raw; urilen:7,norm;")))
        #expect(spec.steps == [
            .size(BufferSize(buffer: .httpURI, range: NumericTest(.range, 1, high: 20))),
            .size(BufferSize(buffer: .httpRawURI, range: NumericTest(.greater, 5))),
            .size(BufferSize(buffer: .httpURI, range: NumericTest(.equal, 7))),
        ])
        #expect(F.skip(rule("urilen:5,odd;"))?.message == "urilen: expected norm or raw, got 'odd'")
    }

    @Test func isdataatForms() throws {
        let spec = try #require(F.spec(rule(#"isdataat:20; content:"a"; isdataat:!1,relative; isdataat:5,relative,rawbytes;"#)))
        #expect(spec.steps == [
            .dataAt(DataAtTest(buffer: .payload, offset: 20)),
            F.content("a"),
            .dataAt(DataAtTest(buffer: .payload, offset: 1, relative: true, negated: true)),
            .dataAt(DataAtTest(buffer: .payload, offset: 5, relative: true)),
        ])
        #expect(F.skip(rule("isdataat:x;"))?.message == "isdataat: invalid offset 'x'")
        #expect(F.skip(rule("isdataat:1,sideways;"))?.message == "isdataat: unknown argument 'sideways'")
    }
}

@Suite struct SuricataNonPayloadOptionTests {
    @Test func flowOptions() throws {
        let spec = try #require(F.spec(rule("flow:established,to_server;")))
        var expected = FlowTest()
        expected.established = true
        expected.toServer = true
        #expect(spec.flow == expected)
        let other = try #require(F.spec(rule("flow: from_server, not_established, no_stream;")))
        #expect(other.flow.toClient && other.flow.notEstablished && other.flow.noStream)
        #expect(try #require(F.spec(rule("flow:stateless,from_client,only_stream;"))).flow.stateless)
    }

    @Test func unsupportedAndContradictoryFlow() throws {
        let skip = try #require(F.skip(rule("flow:established,only_frag;")))
        #expect(skip.keyword == "flow:only_frag")
        #expect(skip.message == "flow:only_frag is not supported")
        #expect(F.skip(rule("flow:to_server,to_client;"))?.message == "flow: to_server and to_client together")
    }

    @Test func flowbitsOperations() throws {
        let spec = try #require(F.spec(rule("flowbits:set,ET.a; flowbits:unset,b; flowbits:toggle,c; flowbits:isset,d; flowbits:isset,e|f; flowbits:isnotset,g&h; flowbits:noalert; flowbits:set,i&j;")))
        #expect(spec.flowbits == [
            .set("ET.a"), .unset("b"), .toggle("c"), .isSet(["d"], all: true), .isSet(["e", "f"], all: false),
            .isNotSet(["g", "h"], all: true), .noAlert, .set("i"), .set("j"),
        ])
    }

    @Test func badFlowbits() throws {
        let unsupported = try #require(F.skip(rule("flowbits:setx,a;")))
        #expect(unsupported.keyword == "flowbits:setx")
        #expect(F.skip(rule("flowbits:isset,a|b&c;"))?.message == "flowbits: mixes '|' and '&'")
        #expect(F.skip(rule("flowbits:set,a|b;"))?.message == "flowbits: set cannot take 'a|b'")
        #expect(F.skip(rule("flowbits:isset,;"))?.message == "flowbits: invalid flowbit names ''")
    }

    @Test func numericHeaderTests() throws {
        let spec = try #require(F.spec(rule("dsize:>100; ttl:<=3;", header: "alert ip any any -> any any")))
        #expect(spec.dsize == NumericTest(.greater, 100))
        #expect(spec.ttl == NumericTest(.lessOrEqual, 3))
        let icmp = try #require(F.spec(rule("itype:!8; icode:0<>5;", header: "alert icmp any any -> any any")))
        #expect(icmp.icmpType == NumericTest(.notEqual, 8))
        #expect(icmp.icmpCode == NumericTest(.range, 0, high: 5))
        #expect(try #require(F.spec(rule("dsize:300-400;"))).dsize == NumericTest(.range, 300, high: 400))
        #expect(F.skip(rule("dsize:-3;"))?.message == "dsize: invalid value '-3'")
        #expect(F.skip(rule("dsize:10<>5;"))?.message == "dsize: invalid value '10<>5'")
        #expect(F.skip(rule("dsize:1; dsize:2;"))?.message == "dsize: dsize given twice")
    }

    @Test func tcpFlags() throws {
        let table: [(String, TCPFlagsTest)] = [
            ("S", TCPFlagsTest(flags: 0x02)),
            ("S,12", TCPFlagsTest(flags: 0x02, ignore: 0xC0)),
            ("SA+", TCPFlagsTest(flags: 0x12, mode: .all)),
            ("+SA", TCPFlagsTest(flags: 0x12, mode: .all)),
            ("*FR", TCPFlagsTest(flags: 0x05, mode: .any)),
            ("FRS*", TCPFlagsTest(flags: 0x07, mode: .any)),
            ("!R", TCPFlagsTest(flags: 0x04, mode: .not)),
            ("0", TCPFlagsTest(flags: 0)),
            ("UPCE", TCPFlagsTest(flags: 0xE8)),
            ("12", TCPFlagsTest(flags: 0xC0)),
            (" S,CE", TCPFlagsTest(flags: 0x02, ignore: 0xC0)),
        ]
        for (text, test) in table {
            let spec = try #require(F.spec(rule("flags:\(text);")), "\(text)")
            #expect(spec.tcpFlags == test, "\(text)")
        }
        #expect(F.skip(rule("flags:SX;"))?.message == "flags: invalid flags 'SX'")
        #expect(F.skip(rule("flags:+S*;"))?.message == "flags: more than one modifier in '+S*'")
    }

    @Test func thresholdInAnyOrder() throws {
        let spec = try #require(F.spec(rule("threshold: type limit, track by_src, seconds 60, count 1;")))
        #expect(spec.threshold == ThresholdSpec(kind: .limit, track: .bySource, count: 1, seconds: 60))
        let other = try #require(F.spec(rule("threshold:count 5,seconds 300,track by_dst,type both;")))
        #expect(other.threshold == ThresholdSpec(kind: .both, track: .byDestination, count: 5, seconds: 300))
        let rule3 = try #require(F.spec(rule("threshold:type threshold, track by_rule, count 10, seconds 1;")))
        #expect(rule3.threshold?.kind == .threshold)
        #expect(rule3.threshold?.track == .byRule)
    }

    @Test func detectionFilter() throws {
        let spec = try #require(F.spec(rule("detection_filter:track by_both, count 4, seconds 20;")))
        #expect(spec.detectionFilter == ThresholdSpec(kind: .detectionFilter, track: .byBoth, count: 4, seconds: 20))
        #expect(F.skip(rule("detection_filter:type limit,track by_src,count 1,seconds 1;"))?.message
            == "detection_filter: detection_filter has no type")
    }

    @Test func badThresholds() throws {
        let cases: [(String, String)] = [
            ("threshold:type limit, track by_src, count 1;", "threshold: seconds must be a positive number"),
            ("threshold:type sometimes, track by_src, count 1, seconds 1;", "threshold: unknown type 'sometimes'"),
            ("threshold:type limit, track by_ip, count 1, seconds 1;", "threshold: unknown track 'by_ip'"),
            ("threshold:type limit, track by_src, count 1, seconds 1, count 2;", "threshold: count given twice"),
            ("threshold:type limit, track, count 1, seconds 1;", "threshold: expected 'name value', got 'track'"),
        ]
        for (options, message) in cases {
            #expect(F.skip(rule(options))?.message == message, "\(options)")
        }
    }
}

@Suite struct UnsupportedKeywordTests {
    @Test func unsupportedKeywordsSkipWithTheirName() throws {
        for keyword in ["byte_test:4,>,1000,0,relative", "byte_jump:4,0,relative", "byte_extract:2,0,len",
                        "byte_math:bytes 2, offset 0, oper +, rvalue 1, result x", "xbits:set,a,track ip_src",
                        "app-layer-event:http.invalid", "app-layer-protocol:!http", "stream_size:server,>,100",
                        "ack:0", "seq:0", "window:55808", "id:1", "ipopts:rr", "fragbits:M", "sameip",
                        "tag:session,5,packets", "asn1:oversize_length 10", "ssl_state:client_hello",
                        "lua:x.lua", "dataset:isset,a", "datarep:a,>,1", "base64_decode:bytes 10", "flowint:a,+,1",
                        "dotprefix", "to_lowercase"] {
            let name = String(keyword.prefix(while: { $0 != ":" }))
            let text = rule(#"content:"a"; \#(keyword);"#)
            let skip = try #require(F.skip(text), "\(keyword)")
            #expect(skip.keyword == name)
            #expect(skip.message == "keyword \(name) is not supported")
            #expect(skip.column == F.column(of: keyword, in: text))
            #expect(skip.sid == 1000001)
        }
    }

    @Test func firstProblemDecidesTheReason() throws {
        let skip = try #require(F.skip(rule(#"byte_test:1,=,1,0; content:"a"; depth:x;"#)))
        #expect(skip.keyword == "byte_test")
    }

    @Test func keywordsAreCaseInsensitive() throws {
        let spec = try #require(F.spec(#"alert tcp any any -> any any (MSG:"x"; Content:"A"; NoCase; SID:9;)"#))
        #expect(spec.steps == [F.content("A") { $0.nocase = true }])
        #expect(spec.sid == 9)
    }
}
