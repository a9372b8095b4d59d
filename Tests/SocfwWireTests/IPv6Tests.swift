import Testing
import SocfwWire

@Suite("IPv6Packet")
struct IPv6Tests {
    @Test("getters read every fixed-header field of a captured packet")
    func capturedHeaderFields() throws {
        try Fixtures.ipv6ICMPv6NeighborSolicitation.withUnsafeBytes { buffer in
            let packet = try IPv6Packet(checking: buffer)
            #expect(packet.version == 6)
            #expect(packet.trafficClass == 0xe0)
            #expect(packet.dscp == 56)
            #expect(packet.ecn == 0)
            #expect(packet.flowLabel == 0)
            #expect(packet.payloadLength == 32)
            #expect(packet.nextHeader == IPProtocolNumber.icmpv6)
            #expect(packet.hopLimit == 255)
            #expect(packet.source == ip("fe80::21f:caff:feb3:75c0"))
            #expect(packet.destination == ip("2620:0:1005:0:26be:5ff:fe27:b17"))
            #expect(packet.payload.count == 32)
            #expect(packet.isTruncated == false)
        }
    }

    @Test("the flow label is the low 20 bits of the first word")
    func flowLabel() throws {
        try Fixtures.ipv6TCPSyn.withUnsafeBytes { buffer in
            let packet = try IPv6Packet(checking: buffer)
            #expect(packet.flowLabel == 0x5a5a5)
            #expect(packet.trafficClass == 0)
        }
    }

    @Test("walking hop-by-hop and a first-fragment header reaches UDP")
    func walkHopByHopAndFragment() throws {
        try Fixtures.ipv6HopByHopFirstFragment.withUnsafeBytes { buffer in
            let chain = try IPv6Packet(checking: buffer).walkExtensionHeaders()
            var expected = IPv6ExtensionHeaderChain()
            expected.upperLayerProtocol = IPProtocolNumber.udp
            expected.upperLayerOffset = 56
            expected.headerCount = 2
            expected.hasFragmentHeader = true
            expected.moreFragments = true
            expected.fragmentIdentification = 0xdead_beef
            #expect(chain == expected)
        }
    }

    @Test("the walk stops after a non-first fragment header")
    func walkStopsAtNonFirstFragment() throws {
        try Fixtures.ipv6HopByHopSecondFragment.withUnsafeBytes { buffer in
            let chain = try IPv6Packet(checking: buffer).walkExtensionHeaders()
            #expect(chain.upperLayerProtocol == IPProtocolNumber.udp)
            #expect(chain.upperLayerOffset == 56)
            #expect(chain.fragmentOffset == 24)
            #expect(chain.moreFragments == false)
        }
        // Even when what follows the fragment header looks like another extension header.
        let packet = Build.ipv6(nextHeader: IPProtocolNumber.fragment,
                                payload: Build.fragmentHeader(next: IPProtocolNumber.destinationOptions, offset: 1440, more: true)
                                    + [UInt8](repeating: 0xff, count: 16))
        try packet.withUnsafeBytes { buffer in
            let chain = try IPv6Packet(checking: buffer).walkExtensionHeaders()
            #expect(chain.upperLayerProtocol == IPProtocolNumber.destinationOptions)
            #expect(chain.headerCount == 1)
            #expect(chain.fragmentOffset == 1440)
        }
    }

    @Test("header lengths: generic headers count 8-byte units, AH counts 4-byte units plus 2")
    func headerLengthUnits() throws {
        // Routing header (type 4, segment routing) of 3 units = 32 bytes, then AH of payload length 4 = 24 bytes.
        var routing = Build.extensionHeader(next: IPProtocolNumber.ah, units: 3)
        routing[2] = 4
        routing[3] = 0
        var ah = [UInt8](repeating: 0, count: 24)
        ah[0] = IPProtocolNumber.tcp
        ah[1] = 4
        let tcp = Build.tcpHeader(sourcePort: 179, destinationPort: 50000, flags: .ack)
        let packet = Build.ipv6(nextHeader: IPProtocolNumber.routing, payload: routing + ah + tcp)
        try packet.withUnsafeBytes { buffer in
            let chain = try IPv6Packet(checking: buffer).walkExtensionHeaders()
            #expect(chain.headerCount == 2)
            #expect(chain.hasRoutingHeader)
            #expect(chain.routingType == 4)
            #expect(chain.upperLayerProtocol == IPProtocolNumber.tcp)
            #expect(chain.upperLayerOffset == 40 + 32 + 24)
        }
        let result = try parsed(packet).get()
        #expect(result.sourcePort == 179)
        #expect(result.l4Offset == 96)
    }

    @Test("mobility, HIP, shim6 and experimental headers are walked; ESP and unknown values stop the walk",
          arguments: [
            (IPProtocolNumber.mobility, true), (IPProtocolNumber.hip, true), (IPProtocolNumber.shim6, true),
            (IPProtocolNumber.experimental1, true), (IPProtocolNumber.experimental2, true),
            (IPProtocolNumber.esp, false), (IPProtocolNumber.noNextHeader, false), (UInt8(200), false),
            (IPProtocolNumber.sctp, false),
          ])
    func extensionHeaderKinds(_ kind: UInt8, _ walked: Bool) throws {
        let packet = Build.ipv6(nextHeader: kind, payload: Build.extensionHeader(next: IPProtocolNumber.noNextHeader))
        try packet.withUnsafeBytes { buffer in
            let chain = try IPv6Packet(checking: buffer).walkExtensionHeaders()
            #expect(chain.headerCount == (walked ? 1 : 0))
            #expect(chain.upperLayerProtocol == (walked ? IPProtocolNumber.noNextHeader : kind))
            #expect(chain.upperLayerOffset == (walked ? 48 : 40))
        }
        #expect(IPProtocolNumber.isIPv6ExtensionHeader(kind) == walked)
    }

    @Test("errors of the checking initializer and the walk", arguments: [
        ([UInt8](), WireError.truncated(layer: .ipv6, needed: 40, available: 0)),
        (Fixtures.ipv4TCPSyn, .badVersion(4)),
        (Array(Fixtures.ipv6TCPSyn.prefix(20)), .truncated(layer: .ipv6, needed: 40, available: 20)),
        (Array(Fixtures.ipv6TCPSyn.prefix(60)), .badTotalLength(layer: .ipv6, declared: 80, available: 60)),
        (destinationOptionsChain(9), .extensionChainTooLong(limit: 8)),
        (Build.ipv6(nextHeader: IPProtocolNumber.destinationOptions,
                    payload: Array(Build.extensionHeader(next: IPProtocolNumber.tcp, units: 2).prefix(8))),
         .truncated(layer: .ipv6, needed: 64, available: 48)),
        (Build.ipv6(nextHeader: IPProtocolNumber.hopByHop, payload: [IPProtocolNumber.tcp, 0, 1, 4]),
         .truncated(layer: .ipv6, needed: 48, available: 44)),
    ] as [([UInt8], WireError)])
    func errors(_ bytes: [UInt8], _ expected: WireError) {
        let error = outcome(bytes) { buffer throws(WireError) in
            try IPv6Packet(checking: buffer).walkExtensionHeaders()
        }
        #expect(error == expected)
    }

    @Test("emitHeader writes a header that parses back")
    func emitRoundTrip() throws {
        var bytes = [UInt8](repeating: 0xee, count: 48)
        bytes.withUnsafeMutableBytes { buffer in
            IPv6Packet.emitHeader(into: buffer, source: ip("2001:db8::a"), destination: ip("ff02::1"),
                                  nextHeader: IPProtocolNumber.udp, payloadLength: 8, hopLimit: 1,
                                  trafficClass: 0xb8, flowLabel: 0xfffff)
        }
        try bytes.withUnsafeBytes { buffer in
            let packet = try IPv6Packet(checking: buffer)
            #expect(packet.version == 6)
            #expect(packet.trafficClass == 0xb8)
            #expect(packet.dscp == 46)
            #expect(packet.flowLabel == 0xfffff)
            #expect(packet.payloadLength == 8)
            #expect(packet.nextHeader == 17)
            #expect(packet.hopLimit == 1)
            #expect(packet.source == ip("2001:db8::a"))
            #expect(packet.destination == ip("ff02::1"))
        }
    }
}
