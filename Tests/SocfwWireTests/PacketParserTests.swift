import Testing
import SocfwWire

/// One fixture and the complete summary the parser must produce for it.
struct ParserCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: PacketSummary
    var testDescription: String { name }
}

let parserCases: [ParserCase] = [
    ParserCase(name: "IPv4 TCP SYN with options (captured)", bytes: Fixtures.ipv4TCPSyn, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.168.1.137"); $0.destination = ip("8.8.8.8")
        $0.l4Protocol = 6; $0.ttl = 64; $0.ipLength = 60; $0.fragmentIdentification = 0xc8a5
        $0.l4Parsed = true; $0.sourcePort = 39818; $0.destinationPort = 80; $0.tcpFlags = .syn
        $0.tcpSequence = 0xde67_c74a; $0.tcpWindow = 29200
        $0.l4Offset = 20; $0.payloadOffset = 60; $0.payloadLength = 0
    }),
    ParserCase(name: "IPv4 TCP PSH|ACK with TLS payload (captured)", bytes: Fixtures.ipv4TCPTLS, expected: summary {
        $0.ipVersion = 4; $0.source = ip("104.18.138.67"); $0.destination = ip("192.168.0.235")
        $0.l4Protocol = 6; $0.ttl = 54; $0.ipLength = 65; $0.fragmentIdentification = 0x29da
        $0.l4Parsed = true; $0.sourcePort = 443; $0.destinationPort = 20781; $0.tcpFlags = [.psh, .ack]
        $0.tcpSequence = 0x0a34_8e3e; $0.tcpAcknowledgement = 0x2ab3_e697; $0.tcpWindow = 11
        $0.l4Offset = 20; $0.payloadOffset = 40; $0.payloadLength = 25
    }),
    ParserCase(name: "IPv4 TCP RST with Ethernet padding (captured)", bytes: Fixtures.ipv4TCPRstWithEthernetPadding,
               expected: summary {
        $0.ipVersion = 4; $0.source = ip("172.17.81.197"); $0.destination = ip("172.17.81.73")
        $0.l4Protocol = 6; $0.ttl = 64; $0.ipLength = 40
        $0.l4Parsed = true; $0.sourcePort = 99; $0.destinationPort = 39663; $0.tcpFlags = [.rst, .ack]
        $0.tcpAcknowledgement = 0x2ec1_2783
        $0.l4Offset = 20; $0.payloadOffset = 40; $0.payloadLength = 0
    }),
    ParserCase(name: "IPv4 UDP mDNS (captured)", bytes: Fixtures.ipv4UDPMDNS, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.168.0.132"); $0.destination = ip("224.0.0.251")
        $0.l4Protocol = 17; $0.ttl = 255; $0.ipLength = 77; $0.fragmentIdentification = 0x3cb1
        $0.l4Parsed = true; $0.sourcePort = 5349; $0.destinationPort = 5353
        $0.l4Offset = 20; $0.payloadOffset = 28; $0.payloadLength = 49
    }),
    ParserCase(name: "IPv6 ICMPv6 neighbor solicitation (captured)", bytes: Fixtures.ipv6ICMPv6NeighborSolicitation,
               expected: summary {
        $0.ipVersion = 6; $0.source = ip("fe80::21f:caff:feb3:75c0")
        $0.destination = ip("2620:0:1005:0:26be:5ff:fe27:b17")
        $0.l4Protocol = 58; $0.ttl = 255; $0.dscp = 56; $0.ipLength = 72
        $0.l4Parsed = true; $0.icmpType = 135
        $0.l4Offset = 40; $0.payloadOffset = 48; $0.payloadLength = 24
    }),
    ParserCase(name: "IPv6 hop-by-hop then no next header", bytes: Fixtures.ipv6HopByHopNoNextHeader, expected: summary {
        $0.ipVersion = 6; $0.source = ip("2001:db8::1"); $0.destination = ip("2001:db8::2")
        $0.l4Protocol = 59; $0.ttl = 64; $0.ipLength = 48; $0.ipv6ExtensionHeaders = 1
        $0.l4Offset = 48; $0.payloadOffset = 48; $0.payloadLength = 0
    }),
    ParserCase(name: "IPv4 ICMP echo request", bytes: Fixtures.ipv4ICMPEcho, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.0.2.10"); $0.destination = ip("198.51.100.7")
        $0.l4Protocol = 1; $0.ttl = 64; $0.ipLength = 84; $0.fragmentIdentification = 0x3c6b
        $0.l4Parsed = true; $0.icmpType = 8
        $0.l4Offset = 20; $0.payloadOffset = 28; $0.payloadLength = 56
    }),
    ParserCase(name: "IPv4 UDP DNS query", bytes: Fixtures.ipv4UDPDNSQuery, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.0.2.10"); $0.destination = ip("198.51.100.53")
        $0.l4Protocol = 17; $0.ttl = 64; $0.ipLength = 57; $0.fragmentIdentification = 0x9a01
        $0.l4Parsed = true; $0.sourcePort = 53211; $0.destinationPort = 53
        $0.l4Offset = 20; $0.payloadOffset = 28; $0.payloadLength = 29
    }),
    ParserCase(name: "IPv6 TCP SYN with options", bytes: Fixtures.ipv6TCPSyn, expected: summary {
        $0.ipVersion = 6; $0.source = ip("2001:db8::10"); $0.destination = ip("2001:db8:1::80")
        $0.l4Protocol = 6; $0.ttl = 64; $0.ipLength = 80
        $0.l4Parsed = true; $0.sourcePort = 40000; $0.destinationPort = 443; $0.tcpFlags = .syn
        $0.tcpSequence = 0x1122_3344; $0.tcpWindow = 64800
        $0.l4Offset = 40; $0.payloadOffset = 80; $0.payloadLength = 0
    }),
    ParserCase(name: "IPv6 TCP ACK with timestamps and SACK", bytes: Fixtures.ipv6TCPSack, expected: summary {
        $0.ipVersion = 6; $0.source = ip("2001:db8:1::80"); $0.destination = ip("2001:db8::10")
        $0.l4Protocol = 6; $0.ttl = 57; $0.ipLength = 102
        $0.l4Parsed = true; $0.sourcePort = 443; $0.destinationPort = 40000; $0.tcpFlags = [.psh, .ack]
        $0.tcpSequence = 0xa0b0_c0d0; $0.tcpAcknowledgement = 0x1122_3345; $0.tcpWindow = 501
        $0.l4Offset = 40; $0.payloadOffset = 92; $0.payloadLength = 10
    }),
    ParserCase(name: "IPv6 ICMPv6 echo request", bytes: Fixtures.ipv6ICMPv6Echo, expected: summary {
        $0.ipVersion = 6; $0.source = ip("2001:db8::10"); $0.destination = ip("2001:db8:1::1")
        $0.l4Protocol = 58; $0.ttl = 64; $0.ipLength = 104
        $0.l4Parsed = true; $0.icmpType = 128
        $0.l4Offset = 40; $0.payloadOffset = 48; $0.payloadLength = 56
    }),
    ParserCase(name: "IPv4 with Router Alert option carrying IGMP", bytes: Fixtures.ipv4IGMPRouterAlert, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.0.2.10"); $0.destination = ip("224.0.0.22")
        $0.l4Protocol = 2; $0.ttl = 1; $0.dscp = 48; $0.ipLength = 40; $0.hasIPv4Options = true
        $0.l4Offset = 24; $0.payloadOffset = 24; $0.payloadLength = 16
    }),
    ParserCase(name: "IPv4 with Record Route option carrying UDP", bytes: Fixtures.ipv4RecordRouteUDP, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.0.2.10"); $0.destination = ip("198.51.100.9")
        $0.l4Protocol = 17; $0.ttl = 64; $0.ipLength = 49; $0.fragmentIdentification = 7; $0.hasIPv4Options = true
        $0.l4Parsed = true; $0.sourcePort = 5000; $0.destinationPort = 6000
        $0.l4Offset = 36; $0.payloadOffset = 44; $0.payloadLength = 5
    }),
    ParserCase(name: "IPv4 first fragment parses UDP", bytes: Fixtures.ipv4FirstFragment, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.0.2.10"); $0.destination = ip("198.51.100.9")
        $0.l4Protocol = 17; $0.ttl = 64; $0.ipLength = 44; $0.fragmentIdentification = 0x4242
        $0.isFragment = true; $0.moreFragments = true
        $0.l4Parsed = true; $0.sourcePort = 7777; $0.destinationPort = 8888
        $0.l4Offset = 20; $0.payloadOffset = 28; $0.payloadLength = 16
    }),
    ParserCase(name: "IPv4 non-first fragment has no L4", bytes: Fixtures.ipv4SecondFragment, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.0.2.10"); $0.destination = ip("198.51.100.9")
        $0.l4Protocol = 17; $0.ttl = 64; $0.ipLength = 44; $0.fragmentIdentification = 0x4242
        $0.isFragment = true; $0.fragmentOffset = 24
        $0.l4Offset = 20; $0.payloadOffset = 20; $0.payloadLength = 24
    }),
    ParserCase(name: "IPv6 hop-by-hop + first fragment parses UDP", bytes: Fixtures.ipv6HopByHopFirstFragment,
               expected: summary {
        $0.ipVersion = 6; $0.source = ip("2001:db8::10"); $0.destination = ip("2001:db8:1::53")
        $0.l4Protocol = 17; $0.ttl = 64; $0.ipLength = 80; $0.ipv6ExtensionHeaders = 2
        $0.isFragment = true; $0.moreFragments = true; $0.fragmentIdentification = 0xdead_beef
        $0.l4Parsed = true; $0.sourcePort = 5353; $0.destinationPort = 53
        $0.l4Offset = 56; $0.payloadOffset = 64; $0.payloadLength = 16
    }),
    ParserCase(name: "IPv6 hop-by-hop + non-first fragment has no L4", bytes: Fixtures.ipv6HopByHopSecondFragment,
               expected: summary {
        $0.ipVersion = 6; $0.source = ip("2001:db8::10"); $0.destination = ip("2001:db8:1::53")
        $0.l4Protocol = 17; $0.ttl = 64; $0.ipLength = 72; $0.ipv6ExtensionHeaders = 2
        $0.isFragment = true; $0.fragmentOffset = 24; $0.fragmentIdentification = 0xdead_beef
        $0.l4Offset = 56; $0.payloadOffset = 56; $0.payloadLength = 16
    }),
    ParserCase(name: "IPv6 destination options then ESP stops the walk", bytes: Fixtures.ipv6DestOptsESP,
               expected: summary {
        $0.ipVersion = 6; $0.source = ip("2001:db8::10"); $0.destination = ip("2001:db8:1::53")
        $0.l4Protocol = 50; $0.ttl = 64; $0.ipLength = 72; $0.ipv6ExtensionHeaders = 1
        $0.l4Offset = 48; $0.payloadOffset = 48; $0.payloadLength = 24
    }),
    ParserCase(name: "IPv4 TCP SYN|FIN with data", bytes: Fixtures.ipv4TCPSynFinData, expected: summary {
        $0.ipVersion = 4; $0.source = ip("192.0.2.10"); $0.destination = ip("198.51.100.7")
        $0.l4Protocol = 6; $0.ttl = 64; $0.ipLength = 43; $0.fragmentIdentification = 1
        $0.l4Parsed = true; $0.sourcePort = 51000; $0.destinationPort = 80; $0.tcpFlags = [.syn, .fin]
        $0.tcpSequence = 1000; $0.tcpWindow = 1024
        $0.l4Offset = 20; $0.payloadOffset = 40; $0.payloadLength = 3
    }),
]

@Suite("PacketParser")
struct PacketParserTests {
    @Test("every fixture parses to its full expected summary", arguments: parserCases)
    func fixtureSummaries(_ testCase: ParserCase) throws {
        let result = try parsed(testCase.bytes).get()
        #expect(result == testCase.expected)
    }

    @Test("every fixture is covered by a summary case")
    func everyFixtureHasACase() {
        #expect(Set(parserCases.map(\.bytes)) == Set(Fixtures.all.map(\.bytes)))
    }

    @Test("a capture cut inside the payload parses, counting only the bytes present")
    func truncatedCaptureWithinWireLength() throws {
        let cut = Array(Fixtures.ipv4TCPTLS.prefix(50))
        let result = try parsed(cut, wireLength: Fixtures.ipv4TCPTLS.count).get()
        #expect(result.isTruncated)
        #expect(result.ipLength == 65)
        #expect(result.payloadOffset == 40)
        #expect(result.payloadLength == 10)
        #expect(result.tcpFlags == [.psh, .ack])
    }

    @Test("a truncated IPv6 capture parses when the L4 header is present")
    func truncatedIPv6Capture() throws {
        let cut = Array(Fixtures.ipv6ICMPv6Echo.prefix(60))
        let result = try parsed(cut, wireLength: Fixtures.ipv6ICMPv6Echo.count).get()
        #expect(result.isTruncated)
        #expect(result.ipLength == 104)
        #expect(result.payloadLength == 12)
    }

    @Test("a capture cut inside the TCP header is an error even within the wire length")
    func truncatedCaptureInsideL4Header() {
        let cut = Array(Fixtures.ipv4TCPTLS.prefix(30))
        #expect(parseError(cut, wireLength: 65) == .truncated(layer: .tcp, needed: 20, available: 10))
    }

    @Test("a buffer shorter than the declared length without a wire length is an error")
    func truncatedWithoutWireLength() {
        let cut = Array(Fixtures.ipv4TCPTLS.prefix(50))
        #expect(parseError(cut) == .badTotalLength(layer: .ipv4, declared: 65, available: 50))
        #expect(parseError(cut, wireLength: 60) == .badTotalLength(layer: .ipv4, declared: 65, available: 60))
    }

    @Test("a wire length below the buffer length is taken as the buffer length")
    func wireLengthBelowBufferIsClamped() throws {
        let result = try parsed(Fixtures.ipv4TCPTLS, wireLength: 10).get()
        #expect(result.isTruncated == false)
        #expect(result.payloadLength == 25)
    }

    @Test("link-layer padding after the datagram is not payload")
    func ethernetPaddingIgnored() throws {
        let padded = Fixtures.ipv4UDPDNSQuery + [UInt8](repeating: 0, count: 7)
        let result = try parsed(padded).get()
        let plain = try parsed(Fixtures.ipv4UDPDNSQuery).get()
        #expect(result == plain)
    }

    @Test("on an L4 error the IP fields stay filled so the drop can be logged")
    func partialSummaryOnError() {
        var bytes = Fixtures.ipv4TCPSyn
        bytes[32] = 0x40  // data offset 4 words
        var result = PacketSummary()
        bytes.withUnsafeBytes { buffer in
            _ = #expect(throws: WireError.badHeaderLength(layer: .tcp, value: 16)) {
                try PacketParser.parse(buffer, into: &result)
            }
        }
        #expect(result.ipVersion == 4)
        #expect(result.source == ip("192.168.1.137"))
        #expect(result.destination == ip("8.8.8.8"))
        #expect(result.l4Parsed == false)
        #expect(result.sourcePort == 0)
    }

    @Test("parsing resets the summary so fields of the previous packet never leak")
    func summaryIsReset() {
        var result = PacketSummary()
        Fixtures.ipv4TCPTLS.withUnsafeBytes { buffer in
            #expect(throws: Never.self) { try PacketParser.parse(buffer, into: &result) }
        }
        #expect(result.sourcePort == 443)
        Fixtures.ipv4ICMPEcho.withUnsafeBytes { buffer in
            #expect(throws: Never.self) { try PacketParser.parse(buffer, into: &result) }
        }
        #expect(result.sourcePort == 0)
        #expect(result.tcpFlags == [])
        #expect(result.icmpType == 8)
    }

    @Test("ICMPv4 inside IPv6 and ICMPv6 inside IPv4 are not parsed as ICMP")
    func icmpFamilyMismatch() throws {
        let echo: [UInt8] = [8, 0, 0, 0, 0, 1, 0, 1]
        let v6 = try parsed(Build.ipv6(nextHeader: IPProtocolNumber.icmp, payload: echo)).get()
        #expect(v6.l4Parsed == false)
        #expect(v6.icmpType == 0)
        let v4 = try parsed(Build.ipv4(protocolNumber: IPProtocolNumber.icmpv6, payload: echo)).get()
        #expect(v4.l4Parsed == false)
        #expect(v4.payloadLength == 8)
    }

    @Test("an IPv4 first fragment too short for the TCP header is rejected (RFC 1858 tiny fragment)")
    func tinyFirstFragment() {
        var bytes = Build.ipv4(protocolNumber: IPProtocolNumber.tcp, payload: Array(Build.tcpHeader().prefix(8)),
                               dontFragment: false)
        Build.set16(&bytes, at: 6, 0x2000)  // MF
        Build.fixIPv4Checksum(&bytes)
        #expect(parseError(bytes) == .truncated(layer: .tcp, needed: 20, available: 8))
    }

    @Test("an IPv6 atomic fragment (offset 0, M clear) is a fragment whose UDP length is checked")
    func ipv6AtomicFragment() throws {
        let udp: [UInt8] = [0x13, 0x88, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, 0x41, 0x42]
        let packet = Build.ipv6(nextHeader: IPProtocolNumber.fragment,
                                payload: Build.fragmentHeader(next: IPProtocolNumber.udp, offset: 0, more: false) + udp)
        let result = try parsed(packet).get()
        #expect(result.isFragment)
        #expect(result.moreFragments == false)
        #expect(result.l4Parsed)
        #expect(result.payloadLength == 2)
        var long = udp
        long[5] = 0x20  // UDP length 32 > 10 bytes present, not a first fragment of something bigger
        let bad = Build.ipv6(nextHeader: IPProtocolNumber.fragment,
                             payload: Build.fragmentHeader(next: IPProtocolNumber.udp, offset: 0, more: false) + long)
        #expect(parseError(bad) == .badTotalLength(layer: .udp, declared: 32, available: 10))
    }

    @Test("an empty buffer and an unknown version are rejected")
    func emptyAndBadVersion() {
        #expect(parseError([]) == .truncated(layer: .ipv4, needed: 20, available: 0))
        #expect(parseError([0x50]) == .badVersion(5))
        #expect(parseError([0x00, 0x00]) == .badVersion(0))
    }
}
