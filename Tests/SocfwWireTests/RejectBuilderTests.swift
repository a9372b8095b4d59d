import Testing
import SocfwWire

/// The reply to `bytes`, or nil.
func rejectReply(_ bytes: [UInt8], wireLength: Int? = nil) -> [UInt8]? {
    bytes.withUnsafeBytes { RejectBuilder.reply(to: $0, wireLength: wireLength) }
}

/// A UDP datagram (checksum 0) with `dataLength` bytes of payload.
func udpBytes(sourcePort: UInt16 = 5000, destinationPort: UInt16 = 6000, dataLength: Int) -> [UInt8] {
    let length = 8 + dataLength
    return [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xff),
            UInt8(length >> 8), UInt8(length & 0xff), 0, 0]
        + (0..<dataLength).map { UInt8(truncatingIfNeeded: $0) }
}

/// Checks every checksum of a reply (IPv4 header, TCP / ICMP / ICMPv6 with
/// pseudo header) and returns its summary.
func checkedReply(_ reply: [UInt8]) throws -> PacketSummary {
    let result = try parsed(reply).get()
    #expect(result.isTruncated == false)
    #expect(result.ipLength == reply.count)
    #expect(result.ttl == 64)
    try reply.withUnsafeBytes { buffer in
        let l4 = UnsafeRawBufferPointer(rebasing: buffer[result.l4Offset...])
        if result.ipVersion == 4 {
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.verifyChecksum())
            #expect(packet.hasOptions == false)
            #expect(packet.identification == 0)
        }
        switch result.l4Protocol {
        case IPProtocolNumber.tcp:
            #expect(try TCPSegment(checking: l4).verifyChecksum(source: result.source, destination: result.destination))
        case IPProtocolNumber.icmp:
            #expect(try ICMPv4Message(checking: l4).verifyChecksum())
        case IPProtocolNumber.icmpv6:
            #expect(try ICMPv6Message(checking: l4).verifyChecksum(source: result.source, destination: result.destination))
        default:
            Issue.record("unexpected reply protocol \(result.l4Protocol)")
        }
    }
    return result
}

/// An input the builder must not answer.
struct SilentCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    var testDescription: String { name }
}

let silentCases: [SilentCase] = [
    SilentCase(name: "an RST (captured, with Ethernet padding)", bytes: Fixtures.ipv4TCPRstWithEthernetPadding),
    SilentCase(name: "our own TCP RST fed back", bytes: rejectReply(Fixtures.ipv4TCPTLS) ?? []),
    SilentCase(name: "our own ICMPv4 unreachable fed back", bytes: rejectReply(Fixtures.ipv4UDPDNSQuery) ?? []),
    SilentCase(name: "our own ICMPv6 unreachable fed back", bytes: rejectReply(Fixtures.ipv6ICMPv6Echo) ?? []),
    SilentCase(name: "an ICMPv4 time exceeded", bytes: Build.ipv4(protocolNumber: IPProtocolNumber.icmp,
                                                                 payload: [11, 0, 0, 0, 0, 0, 0, 0] + Fixtures.ipv4TCPSyn.prefix(28))),
    SilentCase(name: "an ICMPv6 packet too big", bytes: Build.ipv6(nextHeader: IPProtocolNumber.icmpv6,
                                                                  payload: [2, 0, 0, 0, 0, 0, 5, 0] + Fixtures.ipv6TCPSyn)),
    SilentCase(name: "an ICMPv6 redirect", bytes: Build.ipv6(nextHeader: IPProtocolNumber.icmpv6,
                                                            payload: [137, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 32))),
    SilentCase(name: "an IPv4 non-first fragment", bytes: Fixtures.ipv4SecondFragment),
    SilentCase(name: "an IPv6 non-first fragment", bytes: Fixtures.ipv6HopByHopSecondFragment),
    SilentCase(name: "a malformed packet", bytes: Array(Fixtures.ipv4TCPSyn.prefix(30))),
    SilentCase(name: "an empty buffer", bytes: []),
    SilentCase(name: "a multicast destination (mDNS, captured)", bytes: Fixtures.ipv4UDPMDNS),
    SilentCase(name: "a multicast destination with IP options (IGMP)", bytes: Fixtures.ipv4IGMPRouterAlert),
    SilentCase(name: "the limited broadcast destination",
               bytes: Build.ipv4(protocolNumber: IPProtocolNumber.udp, payload: udpBytes(dataLength: 4),
                                 destination: ip("255.255.255.255"))),
    SilentCase(name: "an unspecified IPv4 source (DHCP discover)",
               bytes: Build.ipv4(protocolNumber: IPProtocolNumber.udp,
                                 payload: udpBytes(sourcePort: 68, destinationPort: 67, dataLength: 4),
                                 source: ip("0.0.0.0"), destination: ip("192.0.2.1"))),
    SilentCase(name: "a loopback IPv4 source",
               bytes: Build.ipv4(protocolNumber: IPProtocolNumber.udp, payload: udpBytes(dataLength: 4),
                                 source: ip("127.0.0.1"))),
    SilentCase(name: "a class E IPv4 source",
               bytes: Build.ipv4(protocolNumber: IPProtocolNumber.udp, payload: udpBytes(dataLength: 4),
                                 source: ip("240.0.0.1"))),
    SilentCase(name: "an IPv6 multicast destination",
               bytes: Build.ipv6(nextHeader: IPProtocolNumber.udp, payload: udpBytes(dataLength: 4),
                                 destination: ip("ff02::fb"))),
    SilentCase(name: "an unspecified IPv6 source",
               bytes: Build.ipv6(nextHeader: IPProtocolNumber.udp, payload: udpBytes(dataLength: 4), source: ip("::"))),
    SilentCase(name: "an IPv6 TCP SYN to multicast",
               bytes: Build.ipv6(nextHeader: IPProtocolNumber.tcp, payload: Build.tcpHeader(), destination: ip("ff05::2"))),
]

@Suite("RejectBuilder")
struct RejectBuilderTests {
    @Test("a SYN without ACK gets RST|ACK with seq 0 acknowledging the SYN (captured SYN)")
    func synGetsResetAck() throws {
        let reply = try #require(rejectReply(Fixtures.ipv4TCPSyn))
        #expect(reply.count == 40)
        let result = try checkedReply(reply)
        #expect(result.source == ip("8.8.8.8"))
        #expect(result.destination == ip("192.168.1.137"))
        #expect(result.sourcePort == 80)
        #expect(result.destinationPort == 39818)
        #expect(result.tcpFlags == [.rst, .ack])
        #expect(result.tcpSequence == 0)
        #expect(result.tcpAcknowledgement == 0xde67_c74a &+ 1)
        #expect(result.tcpWindow == 0)
        #expect(result.payloadLength == 0)
        try reply.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.dontFragment)
        }
    }

    @Test("the acknowledgement counts payload, SYN and FIN")
    func ackCountsPayloadSynAndFin() throws {
        let result = try checkedReply(try #require(rejectReply(Fixtures.ipv4TCPSynFinData)))
        #expect(result.tcpFlags == [.rst, .ack])
        #expect(result.tcpAcknowledgement == 1005)
    }

    @Test("a truncated capture is acknowledged by its wire length")
    func truncatedCaptureUsesWireLength() throws {
        let cut = Array(Fixtures.ipv4TCPSynFinData.prefix(40))
        let result = try checkedReply(try #require(rejectReply(cut, wireLength: 43)))
        #expect(result.tcpAcknowledgement == 1005)
    }

    @Test("a segment with ACK gets a bare RST whose seq is its ack (captured TLS segment)")
    func ackGetsReset() throws {
        let result = try checkedReply(try #require(rejectReply(Fixtures.ipv4TCPTLS)))
        #expect(result.source == ip("192.168.0.235"))
        #expect(result.destination == ip("104.18.138.67"))
        #expect(result.sourcePort == 20781)
        #expect(result.destinationPort == 443)
        #expect(result.tcpFlags == .rst)
        #expect(result.tcpSequence == 0x2ab3_e697)
        #expect(result.tcpAcknowledgement == 0)
    }

    @Test("IPv6 TCP gets an IPv6 RST with hop limit 64 and a pseudo-header checksum", arguments: [
        (Fixtures.ipv6TCPSyn, TCPFlags([.rst, .ack]), UInt32(0), UInt32(0x1122_3345)),
        (Fixtures.ipv6TCPSack, TCPFlags.rst, UInt32(0x1122_3345), UInt32(0)),
    ])
    func ipv6Reset(_ bytes: [UInt8], _ flags: TCPFlags, _ sequence: UInt32, _ acknowledgement: UInt32) throws {
        let original = try parsed(bytes).get()
        let reply = try #require(rejectReply(bytes))
        #expect(reply.count == 60)
        let result = try checkedReply(reply)
        #expect(result.ipVersion == 6)
        #expect(result.source == original.destination)
        #expect(result.destination == original.source)
        #expect(result.sourcePort == original.destinationPort)
        #expect(result.destinationPort == original.sourcePort)
        #expect(result.tcpFlags == flags)
        #expect(result.tcpSequence == sequence)
        #expect(result.tcpAcknowledgement == acknowledgement)
    }

    @Test("UDP over IPv4 gets ICMP unreachable code 13 quoting the whole datagram")
    func udpGetsAdministrativelyProhibited() throws {
        let reply = try #require(rejectReply(Fixtures.ipv4UDPDNSQuery))
        #expect(reply.count == 20 + 8 + Fixtures.ipv4UDPDNSQuery.count)
        let result = try checkedReply(reply)
        #expect(result.source == ip("198.51.100.53"))
        #expect(result.destination == ip("192.0.2.10"))
        #expect(result.l4Protocol == IPProtocolNumber.icmp)
        #expect(result.icmpType == ICMPv4Type.destinationUnreachable)
        #expect(result.icmpCode == ICMPv4UnreachableCode.communicationAdministrativelyProhibited)
        #expect(Array(reply[24..<28]) == [0, 0, 0, 0])
        #expect(Array(reply[28...]) == Fixtures.ipv4UDPDNSQuery)
    }

    @Test("the ICMPv4 quote stops at 576 bytes in total")
    func icmpv4QuoteLimit() throws {
        let big = Build.ipv4(protocolNumber: IPProtocolNumber.udp, payload: udpBytes(dataLength: 992))
        #expect(big.count == 1020)
        let reply = try #require(rejectReply(big))
        #expect(reply.count == 576)
        _ = try checkedReply(reply)
        #expect(Array(reply[28...]) == Array(big.prefix(548)))
    }

    @Test("the quote excludes link-layer padding and IP options are quoted with the header")
    func quoteExcludesPadding() throws {
        let padded = try #require(rejectReply(Fixtures.ipv4UDPDNSQuery + [0, 0, 0, 0, 0, 0, 0]))
        #expect(padded == rejectReply(Fixtures.ipv4UDPDNSQuery))
        let withOptions = try #require(rejectReply(Fixtures.ipv4RecordRouteUDP))
        #expect(Array(withOptions[28...]) == Fixtures.ipv4RecordRouteUDP)
    }

    @Test("ICMP echo and other non-TCP protocols get an unreachable too", arguments: [
        (Fixtures.ipv4ICMPEcho, UInt8(4)), (Fixtures.ipv6ICMPv6Echo, UInt8(6)), (Fixtures.ipv6DestOptsESP, UInt8(6)),
        (Fixtures.ipv4FirstFragment, UInt8(4)), (Fixtures.ipv6ICMPv6NeighborSolicitation, UInt8(6)),
    ])
    func otherProtocolsGetUnreachable(_ bytes: [UInt8], _ version: UInt8) throws {
        let reply = try #require(rejectReply(bytes))
        let result = try checkedReply(reply)
        #expect(result.ipVersion == version)
        if version == 4 {
            #expect(result.icmpType == 3)
            #expect(result.icmpCode == 13)
            #expect(Array(reply[28...]) == bytes)
        } else {
            #expect(result.icmpType == 1)
            #expect(result.icmpCode == 1)
            #expect(Array(reply[48...]) == bytes)
        }
    }

    @Test("UDP over IPv6 gets ICMPv6 type 1 code 1 from the original destination")
    func ipv6UnreachableAddresses() throws {
        let result = try checkedReply(try #require(rejectReply(Fixtures.ipv6HopByHopFirstFragment)))
        #expect(result.source == ip("2001:db8:1::53"))
        #expect(result.destination == ip("2001:db8::10"))
        #expect(result.l4Protocol == IPProtocolNumber.icmpv6)
        #expect(result.ipv6ExtensionHeaders == 0)
    }

    @Test("the ICMPv6 quote stops at 1280 bytes in total")
    func icmpv6QuoteLimit() throws {
        let big = Build.ipv6(nextHeader: IPProtocolNumber.udp, payload: udpBytes(dataLength: 2000))
        let reply = try #require(rejectReply(big))
        #expect(reply.count == 1280)
        _ = try checkedReply(reply)
        #expect(Array(reply[48...]) == Array(big.prefix(1232)))
    }

    @Test("no reply where the RFCs forbid one", arguments: silentCases)
    func silent(_ testCase: SilentCase) {
        #expect(rejectReply(testCase.bytes) == nil)
    }

    @Test("the fed-back cases really are our own replies")
    func feedbackFixturesExist() {
        #expect(rejectReply(Fixtures.ipv4TCPTLS) != nil)
        #expect(rejectReply(Fixtures.ipv4UDPDNSQuery) != nil)
        #expect(rejectReply(Fixtures.ipv6ICMPv6Echo) != nil)
    }
}
