import Testing
import SocfwWire

@Suite("UDPDatagram")
struct UDPTests {
    @Test("getters read every field of a DNS query and the checksum verifies")
    func dnsQueryFields() throws {
        try Fixtures.ipv4UDPDNSQuery.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            let datagram = try UDPDatagram(checking: packet.payload)
            #expect(datagram.sourcePort == 53211)
            #expect(datagram.destinationPort == 53)
            #expect(datagram.length == 37)
            #expect(datagram.checksum == 0xb4c2)
            #expect(datagram.payload.count == 29)
            #expect(datagram.payload.first == 0xbe)
            #expect(datagram.verifyChecksum(source: packet.source, destination: packet.destination))
        }
    }

    @Test("a captured datagram whose published checksum is wrong fails verification")
    func capturedBadChecksum() throws {
        try Fixtures.ipv4UDPMDNS.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            let datagram = try UDPDatagram(checking: packet.payload)
            #expect(datagram.sourcePort == 5349)
            #expect(datagram.destinationPort == 5353)
            #expect(datagram.length == 57)
            #expect(datagram.verifyChecksum(source: packet.source, destination: packet.destination) == false)
        }
    }

    @Test("a zero checksum means 'not computed' over IPv4 and is invalid over IPv6")
    func zeroChecksum() throws {
        let bytes: [UInt8] = [0x13, 0x88, 0x17, 0x70, 0x00, 0x0a, 0x00, 0x00, 0x41, 0x42]
        try bytes.withUnsafeBytes { buffer in
            let datagram = try UDPDatagram(checking: buffer)
            #expect(datagram.verifyChecksum(source: ip("192.0.2.1"), destination: ip("192.0.2.2")))
            #expect(datagram.verifyChecksum(source: ip("2001:db8::1"), destination: ip("2001:db8::2")) == false)
        }
    }

    @Test("bytes after the UDP length are not payload")
    func trailingBytesIgnored() throws {
        let bytes: [UInt8] = [0x13, 0x88, 0x17, 0x70, 0x00, 0x0a, 0x00, 0x00, 0x41, 0x42, 0xee, 0xee]
        try bytes.withUnsafeBytes { buffer in
            let datagram = try UDPDatagram(checking: buffer)
            #expect(datagram.bytes.count == 10)
            #expect(Array(datagram.payload) == [0x41, 0x42])
        }
    }

    @Test("a first fragment may carry less than the UDP length")
    func firstFragmentLength() throws {
        try Fixtures.ipv4FirstFragment.withUnsafeBytes { buffer in
            let payload = try IPv4Packet(checking: buffer).payload
            #expect(throws: WireError.badTotalLength(layer: .udp, declared: 48, available: 24)) {
                try UDPDatagram(checking: payload)
            }
            let datagram = try UDPDatagram(checking: payload, isFirstFragment: true)
            #expect(datagram.length == 48)
            #expect(datagram.payload.count == 16)
        }
    }

    @Test("a truncated capture within the wire length counts only the bytes present")
    func truncatedCapture() throws {
        try Array(Fixtures.ipv4UDPDNSQuery[20..<40]).withUnsafeBytes { buffer in
            let datagram = try UDPDatagram(checking: buffer, wireLength: 37)
            #expect(datagram.payload.count == 12)
            #expect(datagram.verifyChecksum(source: ip("192.0.2.10"), destination: ip("198.51.100.53")) == false)
        }
    }

    @Test("errors of the checking initializer", arguments: [
        ([0x13, 0x88, 0x17, 0x70, 0x00], nil, WireError.truncated(layer: .udp, needed: 8, available: 5)),
        ([0x13, 0x88, 0x17, 0x70, 0x00, 0x00, 0x00, 0x00], nil, .badHeaderLength(layer: .udp, value: 0)),
        ([0x13, 0x88, 0x17, 0x70, 0x00, 0x09, 0x00, 0x00], nil, .badTotalLength(layer: .udp, declared: 9, available: 8)),
        ([0x13, 0x88, 0x17, 0x70, 0x00, 0x20, 0x00, 0x00], 16, .badTotalLength(layer: .udp, declared: 32, available: 16)),
    ] as [([UInt8], Int?, WireError)])
    func initializerErrors(_ bytes: [UInt8], _ wireLength: Int?, _ expected: WireError) {
        #expect(outcome(bytes) { buffer throws(WireError) in try UDPDatagram(checking: buffer, wireLength: wireLength) }
                == expected)
    }
}
