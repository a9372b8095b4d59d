import Testing
import SocfwWire
import SocfwIDS

// The rule header: protocols, addresses, ports, variables, direction.

private typealias F = RuleParserFixture

private func header(_ text: String, variables: RuleVariables = .init()) -> Result<SignatureSpec, RuleSkip> {
    F.parse("\(text) (sid:1;)", variables: variables)
}

private func prefix(_ text: String) -> IPPrefix { IPPrefix(text)! }
private func address(_ text: String) -> IPAddress { IPAddress(text)! }

@Suite struct RuleHeaderProtocolTests {
    @Test func supportedProtocols() throws {
        let table: [(String, SignatureProtocol)] = [
            ("ip", .ip), ("tcp", .tcp), ("udp", .udp), ("icmp", .icmp), ("http", .http), ("http1", .http),
            ("tcp-pkt", .tcpPacket), ("tcp-stream", .tcpStream), ("TCP", .tcp),
        ]
        for (name, proto) in table {
            let spec = try header("alert \(name) any any -> any any").get()
            #expect(spec.proto == proto, "\(name)")
        }
    }

    @Test func appLayerProtocolsSkipWithTheirName() throws {
        for name in ["dns", "tls", "smb", "ftp", "ssh", "smtp", "dcerpc", "ssl", "file", "ftp-data", "http2"] {
            let text = "alert \(name) any any -> any any (sid:7;)"
            let skip = try #require(F.skip(text))
            #expect(skip.keyword == "protocol \(name)")
            #expect(skip.message == "protocol \(name) is not supported")
            #expect(skip.column == 7)
            #expect(skip.sid == 7)
        }
    }

    @Test func unknownActionAndBrokenHeaders() throws {
        let action = try #require(F.skip("log tcp any any -> any any (sid:1;)"))
        #expect(action.keyword == "action log")
        #expect(action.message == "unknown action 'log'")
        #expect(F.skip("alert tcp any any any any (sid:1;)")?.message
            == "header must be 'protocol source port direction destination port'")
        let direction = "alert tcp any any <- any any (sid:1;)"
        #expect(F.skip(direction)?.message == "invalid direction '<-' (expected -> or <>)")
        #expect(F.skip(direction)?.column == F.column(of: "<-", in: direction))
        #expect(F.skip("alert (sid:1;)")?.message == "missing protocol")
    }

    @Test func bidirectional() throws {
        let spec = try header("alert tcp 10.0.0.1 any <> 10.0.0.2 23").get()
        #expect(spec.bidirectional)
        #expect(!(try header("alert tcp any any -> any any").get().bidirectional))
    }
}

@Suite struct RuleHeaderAddressTests {
    @Test func singleCIDRAndAny() throws {
        let spec = try header("alert ip 192.0.2.7 any -> 198.51.100.0/24 any").get()
        #expect(spec.source == AddressMatch(include: [prefix("192.0.2.7/32")]))
        #expect(spec.destination == AddressMatch(include: [prefix("198.51.100.0/24")]))
        let any = try header("alert ip any any -> 2001:db8::/32 any").get()
        #expect(any.source == .all)
        #expect(any.destination.contains(address("2001:db8::1")))
        #expect(!any.destination.contains(address("2001:db9::1")))
    }

    @Test func listsWithNegationAndNesting() throws {
        let spec = try header("alert ip [10.0.0.0/8,!10.1.0.0/16,[192.168.1.1, 192.168.1.2]] any -> ![1.2.3.4,5.6.7.0/24] any").get()
        #expect(spec.source == AddressMatch(include: [prefix("10.0.0.0/8"), prefix("192.168.1.1"), prefix("192.168.1.2")],
                                            exclude: [prefix("10.1.0.0/16")]))
        #expect(spec.destination == AddressMatch(exclude: [prefix("1.2.3.4"), prefix("5.6.7.0/24")], any: true))
        #expect(spec.source.contains(address("10.2.3.4")))
        #expect(!spec.source.contains(address("10.1.3.4")))
        #expect(spec.destination.contains(address("9.9.9.9")))
        #expect(!spec.destination.contains(address("5.6.7.8")))
    }

    @Test func listOfOnlyNegationsIsEverythingElse() throws {
        let spec = try header("alert ip [!1.2.3.4,!5.6.7.8] any -> any any").get()
        #expect(spec.source == AddressMatch(exclude: [prefix("1.2.3.4"), prefix("5.6.7.8")], any: true))
    }

    @Test func homeNetDefaultsAndServerVariables() throws {
        let home = AddressMatch(include: [prefix("192.168.0.0/16"), prefix("10.0.0.0/8"), prefix("172.16.0.0/12"),
                                          prefix("fc00::/7")])
        let spec = try header("alert tcp $HOME_NET any -> $HTTP_SERVERS any").get()
        #expect(spec.source == home)
        #expect(spec.destination == home)
        #expect(try header("alert tcp $EXTERNAL_NET any -> any any").get().source == .all)
    }

    @Test func variableWhoseValueIsANegation() throws {
        var variables = RuleVariables()
        variables.addresses["EXTERNAL_NET"] = "!$HOME_NET"
        let spec = try header("alert tcp $EXTERNAL_NET any -> !$EXTERNAL_NET any", variables: variables).get()
        let home = [prefix("192.168.0.0/16"), prefix("10.0.0.0/8"), prefix("172.16.0.0/12"), prefix("fc00::/7")]
        #expect(spec.source == AddressMatch(exclude: home, any: true))
        #expect(spec.destination == AddressMatch(include: home))
        // Suricata flattens: [$EXTERNAL_NET,1.2.3.4] is 1.2.3.4 minus HOME_NET.
        let listed = try header("alert tcp [$EXTERNAL_NET,1.2.3.4] any -> any any", variables: variables).get()
        #expect(listed.source == AddressMatch(include: [prefix("1.2.3.4")], exclude: home))
    }

    @Test func undefinedAndRecursiveVariables() throws {
        let text = "alert tcp $NOPE any -> any any (sid:1;)"
        let skip = try #require(F.skip(text))
        #expect(skip.keyword == "undefined variable $NOPE")
        #expect(skip.message == "undefined variable $NOPE")
        #expect(skip.column == F.column(of: "$NOPE", in: text))

        var variables = RuleVariables()
        variables.addresses["A"] = "[1.1.1.1,$B]"
        variables.addresses["B"] = "!$A"
        let loop = try #require(F.skip("alert tcp $A any -> any any (sid:1;)", variables: variables))
        #expect(loop.keyword == "recursive variable $A")
        #expect(loop.message == "variable $A refers to itself")

        variables.addresses["C"] = "[1.1.1.1,$MISSING]"
        #expect(F.skip("alert tcp $C any -> any any (sid:1;)", variables: variables)?.keyword
            == "undefined variable $MISSING")
        variables.addresses["D"] = "[1.1.1.1"
        #expect(F.skip("alert tcp $D any -> any any (sid:1;)", variables: variables)?.message
            == "in $D ([1.1.1.1): missing ']' in '[1.1.1.1'")
    }

    @Test func invalidAddresses() throws {
        let cases: [(String, String)] = [
            ("1.2.3.256", "invalid value '1.2.3.256' in '1.2.3.256'"),
            ("!any", "'!any' matches nothing in '!any'"),
            ("[]", "missing value in '[]'"),
            ("[1.1.1.1", "missing ']' in the header"),
            ("[1.1.1.1]x", "unexpected 'x' in '[1.1.1.1]x'"),
            ("![10.0.0.0/8,!10.1.0.0/16]",
             "negating a group that has exclusions is not supported in '![10.0.0.0/8,!10.1.0.0/16]'"),
        ]
        for (text, message) in cases {
            let skip = try #require(F.skip("alert ip \(text) any -> any any (sid:1;)"), "\(text)")
            #expect(skip.keyword == "syntax")
            #expect(skip.message == message)
            #expect(skip.column == 10)
        }
    }
}

@Suite struct RuleHeaderPortTests {
    @Test func portForms() throws {
        let table: [(String, PortMatch)] = [
            ("any", .all),
            ("80", PortMatch(include: [80...80])),
            ("80:90", PortMatch(include: [80...90])),
            ("1024:", PortMatch(include: [1024...65535])),
            (":1023", PortMatch(include: [0...1023])),
            ("!80", PortMatch(exclude: [80...80], any: true)),
            ("[80,8080:8090,!8085]", PortMatch(include: [80...80, 8080...8090], exclude: [8085...8085])),
            ("[1:100, ![50:60]]", PortMatch(include: [1...100], exclude: [50...60])),
        ]
        for (text, ports) in table {
            let spec = try header("alert tcp any any -> any \(text)").get()
            #expect(spec.destinationPorts == ports, "\(text)")
        }
    }

    @Test func portVariables() throws {
        let spec = try header("alert tcp any $SHELLCODE_PORTS -> any $FILE_DATA_PORTS").get()
        #expect(spec.sourcePorts == PortMatch(exclude: [80...80], any: true))
        #expect(spec.destinationPorts.contains(80))
        #expect(spec.destinationPorts.contains(8080))
        #expect(spec.destinationPorts.contains(110))
        #expect(spec.destinationPorts.contains(143))
        #expect(!spec.destinationPorts.contains(25))
        #expect(try header("alert tcp any any -> any $ORACLE_PORTS").get().destinationPorts == PortMatch(include: [1521...1521]))
        // An address variable is not a port variable.
        #expect(F.skip("alert tcp any $HOME_NET -> any any (sid:1;)")?.keyword == "undefined variable $HOME_NET")
    }

    @Test func invalidPorts() throws {
        for text in ["65536", "90:80", ":", "http", "-1", "[80,]"] {
            let skip = try #require(F.skip("alert tcp any any -> any \(text) (sid:1;)"), "\(text)")
            #expect(skip.keyword == "syntax", "\(text)")
        }
    }
}

@Suite struct RuleVariablesTests {
    @Test func suricataDefaultsArePresent() {
        let variables = RuleVariables()
        for name in ["HOME_NET", "EXTERNAL_NET", "HTTP_SERVERS", "SMTP_SERVERS", "SQL_SERVERS", "DNS_SERVERS",
                     "TELNET_SERVERS", "AIM_SERVERS", "DC_SERVERS", "DNP3_SERVER", "DNP3_CLIENT", "MODBUS_CLIENT",
                     "MODBUS_SERVER", "ENIP_CLIENT", "ENIP_SERVER"] {
            #expect(variables.addresses[name] != nil, "\(name)")
        }
        #expect(variables.addresses["EXTERNAL_NET"] == "any")
        for name in ["HTTP_PORTS", "SHELLCODE_PORTS", "ORACLE_PORTS", "SSH_PORTS", "DNP3_PORTS", "MODBUS_PORTS",
                     "FILE_DATA_PORTS", "FTP_PORTS", "GENEVE_PORTS", "VXLAN_PORTS", "TEREDO_PORTS"] {
            #expect(variables.ports[name] != nil, "\(name)")
        }
    }

    @Test func everyDefaultResolves() throws {
        let parser = RuleParser()
        for name in RuleVariables.defaultAddresses.keys {
            #expect(throws: Never.self) { try parser.parse("alert ip $\(name) any -> any any (sid:1;)", origin: F.origin).get() }
        }
        for name in RuleVariables.defaultPorts.keys {
            #expect(throws: Never.self) { try parser.parse("alert tcp any $\(name) -> any any (sid:1;)", origin: F.origin).get() }
        }
    }
}
