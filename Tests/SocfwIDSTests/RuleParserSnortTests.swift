import Testing
import SocfwIDS

// Snort 3 dialect: comma content modifiers, sticky `http_*` buffers,
// service rules, and the per-rule dialect detection.

private typealias F = RuleParserFixture

@Suite struct SnortDialectTests {
    @Test func commaModifiersInsideTheContentOption() throws {
        let spec = try #require(F.spec(#"alert tcp $HOME_NET 20034 -> $EXTERNAL_NET any ( msg:"MALWARE-BACKDOOR NetBus Pro 2.0 connection established"; flow:to_client,established; flowbits:isset,backdoor.netbus_2.connect; content:"BN|10 00 02 00|",depth 6; content:"|05 00|",depth 2,offset 8; metadata:ruleset community; classtype:trojan-activity; sid:115; rev:15; )"#))
        #expect(spec.steps == [
            F.content("BN\u{10}\u{0}\u{2}\u{0}") { $0.depth = 6 },
            F.content("\u{5}\u{0}") { $0.depth = 2; $0.offset = 8 },
        ])
        #expect(spec.flowbits == [.isSet(["backdoor.netbus_2.connect"], all: true)])
        #expect(spec.metadata == ["ruleset community"])
        #expect(spec.sourcePorts == PortMatch(include: [20034...20034]))
        #expect(spec.sid == 115)
        #expect(spec.rev == 15)
        #expect(spec.priority == 1)
    }

    @Test func allCommaModifiers() throws {
        let spec = try #require(F.spec(#"alert tcp any any -> any any ( msg:"x"; content:"USER",nocase,fast_pattern; content:"w0rm",distance 1,within 20,nocase; content:"ab",fast_pattern_only; content:"cd",fast_pattern,fast_pattern_offset 0,fast_pattern_length 1; sid:144; )"#))
        #expect(spec.steps == [
            F.content("USER") { $0.nocase = true; $0.fastPattern = true },
            F.content("w0rm") { $0.distance = 1; $0.within = 20; $0.nocase = true },
            F.content("ab") { $0.fastPattern = true },
            F.content("cd") { $0.fastPattern = true },
        ])
    }

    @Test func httpKeywordsAreStickyForTheFollowingMatches() throws {
        let spec = try #require(F.spec(#"alert tcp $EXTERNAL_NET any -> $HOME_NET $HTTP_PORTS ( msg:"SERVER-WEBAPP x"; flow:to_server,established; http_method; content:"POST"; http_uri; content:"/apply.cgi",fast_pattern,nocase; content:"x=",distance 0; http_header; content:!"Referer"; pcre:"/^Host\x3a\s/mi"; http_client_body; isdataat:100,relative; pkt_data; content:"z"; service:http; classtype:web-application-attack; sid:9; rev:1; )"#))
        #expect(spec.steps == [
            F.content("POST", .httpMethod),
            F.content("/apply.cgi", .httpURI) { $0.fastPattern = true; $0.nocase = true },
            F.content("x=", .httpURI) { $0.distance = 0 },
            F.content("Referer", .httpHeader) { $0.negated = true },
            F.pcre(#"^Host\x3a\s"#, .httpHeader) { $0.multiline = true; $0.caseless = true },
            .dataAt(DataAtTest(buffer: .httpClientBody, offset: 100, relative: true)),
            F.content("z"),
        ])
        #expect(spec.destinationPorts.contains(8080))
        #expect(spec.destinationPorts.contains(80))
        #expect(!spec.destinationPorts.contains(22))
    }

    @Test func snortStickyNames() throws {
        for (keyword, buffer) in [("http_raw_uri", SignatureBuffer.httpRawURI), ("http_raw_header", .httpRawHeader),
                                  ("http_cookie", .httpCookie), ("http_raw_request", .httpRequestLine)] {
            let spec = try #require(F.spec(#"alert tcp any any -> any any ( \#(keyword); content:"v"; service:http; sid:1; )"#))
            #expect(spec.steps == [F.content("v", buffer)], "\(keyword)")
        }
    }

    @Test func bufferlenIsTheStickyBufferSize() throws {
        let spec = try #require(F.spec(#"alert tcp any any -> any 80 ( http_raw_uri; bufferlen:12; content:"/"; sid:1; )"#))
        #expect(spec.steps == [.size(BufferSize(buffer: .httpRawURI, range: NumericTest(.equal, 12))), F.content("/", .httpRawURI)])
        let inclusive = try #require(F.spec(#"alert tcp any any -> any 80 ( http_uri; bufferlen:5<=>10; service:http; sid:1; )"#))
        #expect(inclusive.steps == [.size(BufferSize(buffer: .httpURI, range: NumericTest(.range, 4, high: 11)))])
        let relative = try #require(F.skip(#"alert tcp any any -> any 80 ( http_uri; bufferlen:5,relative; service:http; sid:1; )"#))
        #expect(relative.keyword == "bufferlen")
        #expect(relative.message == "bufferlen relative is not supported")
    }

    @Test func serviceRuleWithoutAddresses() throws {
        let spec = try #require(F.spec(#"alert http ( msg:"x"; flow:to_server,established; http_uri; content:"/a"; service:http; sid:2; )"#))
        #expect(spec.proto == .http)
        #expect(spec.source == .all)
        #expect(spec.destinationPorts == .all)
        #expect(spec.steps == [F.content("/a", .httpURI)])
        let ssl = try #require(F.skip(#"alert ssl ( msg:"x"; sid:3; )"#))
        #expect(ssl.keyword == "protocol ssl")
    }

    @Test func snortOnlyAndResponseKeywordsSkip() throws {
        for (options, keyword) in [(#"file_data; content:"x";"#, "file_data"), (#"http_stat_code; content:"200";"#, "http_stat_code"),
                                   (#"raw_data; content:"x";"#, "raw_data"), (#"dce_iface:uuid;"#, "dce_iface"),
                                   (#"http_header:field user-agent; content:"x";"#, "http_header")] {
            let skip = try #require(F.skip(#"alert tcp any any -> any any ( msg:"x"; \#(options) service:http; sid:1; )"#))
            #expect(skip.keyword == keyword, "\(options)")
        }
    }

    @Test func commaModifierErrors() throws {
        let unknown = try #require(F.skip(#"alert tcp any any -> any any ( content:"ab",sideways 3; service:http; sid:1; )"#))
        #expect(unknown.message == "sideways: unknown content modifier")
        let variable = try #require(F.skip(#"alert tcp any any -> any any ( content:"ab",within len; service:http; sid:1; )"#))
        #expect(variable.message == "within: expects a number, got 'len'")
        // Suricata does not accept comma modifiers.
        let suricata = try #require(F.skip(#"alert tcp any any -> any any ( content:"ab",nocase; sid:1; )"#, dialect: .suricata))
        #expect(suricata.message == "content: unexpected text after the content string")
    }
}

@Suite struct DialectDetectionTests {
    private func dialect(_ rule: String) throws -> RuleDialect {
        RuleParser.detectDialect(try RuleLexer.split(Array(rule.utf8)))
    }

    @Test func snortSignals() throws {
        #expect(try dialect(#"alert tcp any any -> any any (content:"a"; service:http; sid:1;)"#) == .snort3)
        #expect(try dialect(#"alert tcp any any -> any any (content:"a",nocase; sid:1;)"#) == .snort3)
        #expect(try dialect(#"alert tcp any any -> any any (http_uri; content:"a"; sid:1;)"#) == .snort3)
    }

    @Test func suricataByDefault() throws {
        #expect(try dialect(#"alert tcp any any -> any any (content:"a"; http_uri; sid:1;)"#) == .suricata)
        #expect(try dialect(#"alert http any any -> any any (http.uri; content:"a"; sid:1;)"#) == .suricata)
        #expect(try dialect(#"alert tcp any any -> any any (pkt_data; content:"a"; sid:1;)"#) == .suricata)
    }

    @Test func theSameTextMeansDifferentThingsPerDialect() throws {
        let text = #"alert tcp any any -> any 80 (content:"a"; http_uri; content:"b"; sid:1;)"#
        let suricata = try #require(F.spec(text, dialect: .suricata))
        #expect(suricata.steps.map(\.buffer) == [.httpURI, .payload])
        let snort = try #require(F.spec(text, dialect: .snort3))
        #expect(snort.steps.map(\.buffer) == [.payload, .httpURI])
    }
}
