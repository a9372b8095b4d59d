import Testing
import SocfwWire

@Suite("IPv4Packet")
struct IPv4Tests {
    @Test("getters read every header field of a captured packet")
    func capturedHeaderFields() throws {
        try Fixtures.ipv4TCPTLS.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.version == 4)
            #expect(packet.headerLength == 20)
            #expect(packet.dscp == 0)
            #expect(packet.ecn == 0)
            #expect(packet.totalLength == 65)
            #expect(packet.identification == 0x29da)
            #expect(packet.reservedFlag == false)
            #expect(packet.dontFragment)
            #expect(packet.moreFragments == false)
            #expect(packet.fragmentOffset == 0)
            #expect(packet.isFragment == false)
            #expect(packet.ttl == 54)
            #expect(packet.protocolNumber == IPProtocolNumber.tcp)
            #expect(packet.headerChecksum == 0x66f4)
            #expect(packet.source == ip("104.18.138.67"))
            #expect(packet.destination == ip("192.168.0.235"))
            #expect(packet.hasOptions == false)
            #expect(packet.options.isEmpty)
            #expect(packet.payload.count == 45)
            #expect(packet.payload.first == 0x01)  // source port 443, high byte
            #expect(packet.isTruncated == false)
            #expect(packet.verifyChecksum())
        }
    }

    @Test("DSCP and ECN are split from the former TOS byte")
    func dscpAndECN() throws {
        var bytes = Fixtures.ipv4TCPSyn
        bytes[1] = 0xb9  // DSCP 46 (EF), ECN 1 (ECT(1))
        try bytes.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.dscp == 46)
            #expect(packet.ecn == 1)
        }
    }

    @Test("options are exposed raw and the payload starts after them")
    func optionsExposed() throws {
        try Fixtures.ipv4RecordRouteUDP.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.headerLength == 36)
            #expect(packet.hasOptions)
            #expect(Array(packet.options) == [0x01, 0x07, 0x0f, 0x04] + [UInt8](repeating: 0, count: 12))
            #expect(packet.payload.count == 13)
            #expect(packet.verifyChecksum())
        }
        try Fixtures.ipv4IGMPRouterAlert.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            #expect(Array(packet.options) == [0x94, 0x04, 0x00, 0x00])
            #expect(packet.dscp == 48)
            #expect(packet.verifyChecksum())
        }
    }

    @Test("fragment fields of first and non-first fragments", arguments: [
        (Fixtures.ipv4FirstFragment, true, 0),
        (Fixtures.ipv4SecondFragment, false, 24),
    ])
    func fragments(_ bytes: [UInt8], _ more: Bool, _ offset: Int) throws {
        try bytes.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.isFragment)
            #expect(packet.moreFragments == more)
            #expect(packet.fragmentOffset == offset)
            #expect(packet.dontFragment == false)
            #expect(packet.identification == 0x4242)
            #expect(packet.verifyChecksum())
        }
    }

    @Test("the view ends at the total length, excluding link-layer padding")
    func paddingTrimmed() throws {
        try Fixtures.ipv4TCPRstWithEthernetPadding.withUnsafeBytes { buffer in
            #expect(buffer.count == 46)
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.bytes.count == 40)
            #expect(packet.payload.count == 20)
            #expect(packet.isTruncated == false)
        }
    }

    @Test("a truncated capture within the wire length gives the bytes present")
    func truncatedCapture() throws {
        try Array(Fixtures.ipv4TCPTLS.prefix(30)).withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer, wireLength: 65)
            #expect(packet.isTruncated)
            #expect(packet.totalLength == 65)
            #expect(packet.payload.count == 10)
        }
    }

    @Test("a corrupted header fails the checksum")
    func checksumDetectsCorruption() throws {
        var bytes = Fixtures.ipv4TCPSyn
        bytes[8] &-= 1  // TTL decremented without updating the checksum (RFC 1624 not applied)
        try bytes.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.verifyChecksum() == false)
        }
    }

    @Test("errors of the checking initializer", arguments: [
        ([UInt8](), nil, WireError.truncated(layer: .ipv4, needed: 20, available: 0)),
        ([0x45], nil, .truncated(layer: .ipv4, needed: 20, available: 1)),
        (Fixtures.ipv6TCPSyn, nil, .badVersion(6)),
        ([0x4f] + [UInt8](repeating: 0, count: 19), nil, .truncated(layer: .ipv4, needed: 60, available: 20)),
        (Array(Fixtures.ipv4TCPTLS.prefix(40)), 50, .badTotalLength(layer: .ipv4, declared: 65, available: 50)),
    ] as [([UInt8], Int?, WireError)])
    func initializerErrors(_ bytes: [UInt8], _ wireLength: Int?, _ expected: WireError) {
        #expect(outcome(bytes) { buffer throws(WireError) in try IPv4Packet(checking: buffer, wireLength: wireLength) }
                == expected)
    }

    @Test("emitHeader writes a header that parses back with a valid checksum")
    func emitRoundTrip() throws {
        var bytes = [UInt8](repeating: 0xee, count: 28)
        bytes.withUnsafeMutableBytes { buffer in
            IPv4Packet.emitHeader(into: buffer, source: ip("10.1.2.3"), destination: ip("203.0.113.9"),
                                  protocolNumber: IPProtocolNumber.udp, payloadLength: 8, ttl: 17,
                                  identification: 0xabcd, dontFragment: false, dscp: 10, ecn: 2)
        }
        try bytes.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.headerLength == 20)
            #expect(packet.totalLength == 28)
            #expect(packet.source == ip("10.1.2.3"))
            #expect(packet.destination == ip("203.0.113.9"))
            #expect(packet.protocolNumber == 17)
            #expect(packet.ttl == 17)
            #expect(packet.identification == 0xabcd)
            #expect(packet.dontFragment == false)
            #expect(packet.isFragment == false)
            #expect(packet.dscp == 10)
            #expect(packet.ecn == 2)
            #expect(packet.verifyChecksum())
        }
    }

    @Test("views work at odd buffer offsets (after a 14-byte Ethernet header)")
    func unalignedBuffer() throws {
        let frame = [UInt8](repeating: 0, count: 13) + Fixtures.ipv4TCPTLS
        try frame.withUnsafeBytes { whole in
            let buffer = UnsafeRawBufferPointer(rebasing: whole[13...])
            let packet = try IPv4Packet(checking: buffer)
            #expect(packet.source == ip("104.18.138.67"))
            #expect(packet.verifyChecksum())
            let segment = try TCPSegment(checking: packet.payload)
            #expect(segment.acknowledgementNumber == 0x2ab3_e697)
            #expect(segment.verifyChecksum(source: packet.source, destination: packet.destination))
        }
    }
}
