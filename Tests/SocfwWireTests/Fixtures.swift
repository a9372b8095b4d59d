import SocfwWire

/// Parses a hex string, ignoring whitespace. Traps on bad input (test data only).
func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var high: UInt8? = nil
    for character in text.unicodeScalars where !character.properties.isWhitespace {
        guard let nibble = UInt8(String(character), radix: 16) else { fatalError("bad hex: \(character)") }
        if let h = high {
            bytes.append(h << 4 | nibble)
            high = nil
        } else {
            high = nibble
        }
    }
    precondition(high == nil, "odd number of hex digits")
    return bytes
}

/// Runs the parser over `bytes` and returns the outcome as a value.
func parsed(_ bytes: [UInt8], wireLength: Int? = nil) -> Result<PacketSummary, WireError> {
    bytes.withUnsafeBytes { buffer in
        var summary = PacketSummary()
        do throws(WireError) {
            try PacketParser.parse(buffer, wireLength: wireLength, into: &summary)
            return .success(summary)
        } catch {
            return .failure(error)
        }
    }
}

/// The parser's error for `bytes`, or nil when it parses.
func parseError(_ bytes: [UInt8], wireLength: Int? = nil) -> WireError? {
    if case .failure(let error) = parsed(bytes, wireLength: wireLength) { return error }
    return nil
}

/// Runs a view initializer and returns its outcome as a value.
func outcome<V>(_ bytes: [UInt8], _ make: (UnsafeRawBufferPointer) throws(WireError) -> V) -> WireError? {
    bytes.withUnsafeBytes { buffer in
        do throws(WireError) {
            _ = try make(buffer)
            return nil
        } catch {
            return error
        }
    }
}

/// A summary with the given fields set, all others zero.
func summary(_ configure: (inout PacketSummary) -> Void) -> PacketSummary {
    var value = PacketSummary()
    configure(&value)
    return value
}

/// Shorthand for an address literal known to be valid.
func ip(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { fatalError("bad address literal \(text)") }
    return address
}

/// Byte-level builders for packets the fixtures do not cover.
enum Build {
    static let v6Source = ip("2001:db8::10")
    static let v6Destination = ip("2001:db8:1::80")

    /// An IPv6 packet: fixed header (payload length from `payload` unless
    /// given) followed by `payload`.
    static func ipv6(nextHeader: UInt8, payload: [UInt8], payloadLength: Int? = nil,
                     source: IPAddress = v6Source, destination: IPAddress = v6Destination) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 40)
        bytes.withUnsafeMutableBytes { buffer in
            IPv6Packet.emitHeader(into: buffer, source: source, destination: destination,
                                  nextHeader: nextHeader, payloadLength: payloadLength ?? payload.count)
        }
        return bytes + payload
    }

    /// A generic (RFC 8200 §4.3 format) extension header of `(units + 1) * 8`
    /// bytes whose options are one PadN.
    static func extensionHeader(next: UInt8, units: UInt8 = 0) -> [UInt8] {
        let length = (Int(units) + 1) * 8
        return [next, units, 0x01, UInt8(length - 4)] + [UInt8](repeating: 0, count: length - 4)
    }

    /// An RFC 8200 §4.5 fragment header.
    static func fragmentHeader(next: UInt8, offset: Int, more: Bool, identification: UInt32 = 0x0102_0304) -> [UInt8] {
        let word = UInt16(offset / 8) << 3 | (more ? 1 : 0)
        return [next, 0, UInt8(word >> 8), UInt8(word & 0xff),
                UInt8(identification >> 24), UInt8(identification >> 16 & 0xff),
                UInt8(identification >> 8 & 0xff), UInt8(identification & 0xff)]
    }

    /// A minimal valid 20-byte TCP header (checksum not filled).
    static func tcpHeader(sourcePort: UInt16 = 1234, destinationPort: UInt16 = 80, flags: TCPFlags = .syn,
                          options: [UInt8] = []) -> [UInt8] {
        precondition(options.count % 4 == 0)
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes.withUnsafeMutableBytes { buffer in
            TCPSegment.emitHeader(into: buffer, sourcePort: sourcePort, destinationPort: destinationPort,
                                  sequenceNumber: 1, acknowledgementNumber: 0, flags: flags, window: 1024)
        }
        bytes[12] = UInt8((20 + options.count) / 4) << 4
        return bytes + options
    }

    /// An IPv4 packet around `payload` (20-byte header, checksum filled).
    static func ipv4(protocolNumber: UInt8, payload: [UInt8], source: IPAddress = ip("192.0.2.10"),
                     destination: IPAddress = ip("198.51.100.7"), dontFragment: Bool = true) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes.withUnsafeMutableBytes { buffer in
            IPv4Packet.emitHeader(into: buffer, source: source, destination: destination,
                                  protocolNumber: protocolNumber, payloadLength: payload.count,
                                  dontFragment: dontFragment)
        }
        return bytes + payload
    }

    /// Sets a big-endian 16-bit field and, for IPv4 headers, leaves the
    /// checksum stale (tests that need it valid call `fixIPv4Checksum`).
    static func set16(_ bytes: inout [UInt8], at offset: Int, _ value: UInt16) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(value & 0xff)
    }

    /// Recomputes the IPv4 header checksum of `bytes`.
    static func fixIPv4Checksum(_ bytes: inout [UInt8]) {
        let headerLength = Int(bytes[0] & 0x0f) * 4
        set16(&bytes, at: 10, 0)
        let value = bytes.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<headerLength])) }
        set16(&bytes, at: 10, value)
    }
}

/// Packet fixtures. "Captured" ones are real traffic; "constructed" ones were
/// built field by field (with a short Python script using the RFC layouts)
/// and have correct checksums unless noted.
enum Fixtures {
    /// Captured: the IPv4 SYN Linux sent to 8.8.8.8:80 (window 29200; options mss 1460, sackOK,
    /// TS val 0x592b2997 ecr 0, nop, wscale 7), as published in a Rust packet crate's tests;
    /// both checksums verify.
    static let ipv4TCPSyn = hex("""
        4500003c c8a54000 40069fd5 c0a80189 08080808 9b8a0050 de67c74a 00000000
        a0027210 3f5f0000 020405b4 0402080a 592b2997 00000000 01030307
        """)

    /// Captured: a TLS alert record from 104.18.138.67:443, PSH|ACK, as published (with an Ethernet
    /// header, here removed) in the test suite of a public Go tool built on gopacket; both checksums verify.
    static let ipv4TCPTLS = hex("""
        45000041 29da4000 360666f4 68128a43 c0a800eb 01bb512d 0a348e3e 2ab3e697
        5018000b 239d0000 17030300 143fee7e e65c1fdb 813a0775 aecb7666 b6e3a4bd
        af
        """)

    /// Captured: an mDNS response from 192.168.0.132:5349 to 224.0.0.251:5353, from the same Go test
    /// suite, Ethernet removed. Its UDP checksum does not verify (as published).
    static let ipv4UDPMDNS = hex("""
        4500004d 3cb10000 ff11dcc6 c0a80084 e00000fb 14e514e9 0039fe31 00008400
        00000001 00000000 0f42524e 30303142 41393533 45303931 056c6f63 616c0000
        01800100 0000f000 04c0a800 84
        """)

    /// Captured: a neighbor solicitation from fe80::21f:caff:feb3:75c0 (traffic class 0xe0, hop
    /// limit 255), from the same Go test suite, Ethernet removed; checksum verifies.
    static let ipv6ICMPv6NeighborSolicitation = hex("""
        6e000000 00203aff fe800000 00000000 021fcaff feb375c0 26200000 10050000
        26be05ff fe270b17 87001eba 00000000 26200000 10050000 26be05ff fe270b17
        0101001f cab375c0
        """)

    /// Captured: gopacket's `TestDecodeSmallTCPPacketHasEmptyPayload` frame (layers/decode_test.go)
    /// without Ethernet: an RST|ACK from 172.17.81.197:99, 40-byte datagram followed by the 6 zero
    /// bytes of Ethernet minimum-frame padding; both checksums verify.
    static let ipv4TCPRstWithEthernetPadding = hex("""
        45000028 00004000 40063f9f ac1151c5 ac115149 00639aef 00000000 2ec12783
        50140000 c3080000 00000000 0000
        """)

    /// Constructed: gopacket's `testPacketIPv6HopByHop0` (layers/ip6_test.go): hop-by-hop
    /// options (PadN) followed by No Next Header.
    static let ipv6HopByHopNoNextHeader = hex("""
        60000000 00080040 20010db8 00000000 00000000 00000001 20010db8 00000000
        00000000 00000002 3b000104 00000000
        """)

    /// Constructed: `ping -c1 198.51.100.7` from Linux iputils (id 0x1f2e, seq 1, 56 data bytes: 16-byte struct timeval then 0x10...0x37), RFC 5737 addresses.
    static let ipv4ICMPEcho = hex("""
        45000054 3c6b4000 400111f9 c000020a c6336407 08007d96 1f2e0001 c3b2a165
        00000000 2a4f0d00 00000000 10111213 14151617 18191a1b 1c1d1e1f 20212223
        24252627 28292a2b 2c2d2e2f 30313233 34353637
        """)

    /// Constructed: a `dig example.com A` query (RD set) from port 53211 to port 53, RFC 5737 addresses.
    static let ipv4UDPDNSQuery = hex("""
        45000039 9a010000 4011f43f c000020a c6336435 cfdb0035 0025b4c2 beef0100
        00010000 00000000 07657861 6d706c65 03636f6d 00000100 01
        """)

    /// Constructed: Linux-style IPv6 SYN (mss 1440, sackOK, TS val 0x8a3b1c2d ecr 0, nop, wscale 7; window 64800), RFC 3849 addresses.
    static let ipv6TCPSyn = hex("""
        6005a5a5 00280640 20010db8 00000000 00000000 00000010 20010db8 00010000
        00000000 00000080 9c4001bb 11223344 00000000 a002fd20 66260000 020405a0
        0402080a 8a3b1c2d 00000000 01030307
        """)

    /// Constructed: IPv6 PSH|ACK with Linux option layout nop,nop,TS then nop,nop,SACK with two blocks (1000-2000, 3000-4000) and 10 payload bytes.
    static let ipv6TCPSack = hex("""
        60000000 003e0639 20010db8 00010000 00000000 00000080 20010db8 00000000
        00000000 00000010 01bb9c40 a0b0c0d0 11223345 d01801f5 427a0000 0101080a
        01020304 05060708 01010512 000003e8 000007d0 00000bb8 00000fa0 30313233
        34353637 3839
        """)

    /// Constructed: `ping -6 -c3` third echo request (id 0x2a2a, seq 3) with the same 56 data bytes (timeval, 0x10...0x37).
    static let ipv6ICMPv6Echo = hex("""
        60000000 00403a40 20010db8 00000000 00000000 00000010 20010db8 00010000
        00000000 00000001 80009e99 2a2a0003 c3b2a165 00000000 2a4f0d00 00000000
        10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f
        30313233 34353637
        """)

    /// Constructed in the shape every Linux host sends (RFC 3376 §4): IGMPv3 report to 224.0.0.22, TOS 0xc0, TTL 1, Router Alert option (RFC 2113).
    static let ipv4IGMPRouterAlert = hex("""
        46c00028 00004000 010241ef c000020a e0000016 94040000 2200eef9 00000001
        04000000 e9010203
        """)

    /// Constructed: `ping -R`-style Record Route option (NOP, RR with 3 empty slots; IHL 9) carrying a UDP datagram 5000 -> 6000 "hello".
    static let ipv4RecordRouteUDP = hex("""
        49000031 00070000 40117a63 c000020a c6336409 01070f04 00000000 00000000
        00000000 13881770 000da4c2 68656c6c 6f
        """)

    /// Constructed: first fragment (MF, offset 0) of a 48-byte UDP datagram 7777 -> 8888; the UDP length (48) exceeds this fragment.
    static let ipv4FirstFragment = hex("""
        4500002c 42422000 40112c38 c000020a c6336409 1e6122b8 00303b83 41424344
        45464748 494a4b4c 4d4e4f50
        """)

    /// Constructed: the second and last fragment (offset 24) of the same datagram: no UDP header.
    static let ipv4SecondFragment = hex("""
        4500002c 42420003 40114c35 c000020a c6336409 51525354 55565758 595a5b5c
        5d5e5f60 61626364 65666768
        """)

    /// Constructed: IPv6 with hop-by-hop (Router Alert, PadN) and a fragment header (offset 0, M set, id 0xdeadbeef) before the first 24 bytes of a 40-byte UDP datagram.
    static let ipv6HopByHopFirstFragment = hex("""
        60000000 00280040 20010db8 00000000 00000000 00000010 20010db8 00010000
        00000000 00000053 2c000502 00000100 11000001 deadbeef 14e90035 00288793
        61626364 65666768 696a6b6c 6d6e6f70
        """)

    /// Constructed: the matching second fragment (offset 24, M clear): hop-by-hop + fragment header, no UDP header.
    static let ipv6HopByHopSecondFragment = hex("""
        60000000 00200040 20010db8 00000000 00000000 00000010 20010db8 00010000
        00000000 00000053 2c000502 00000100 11000018 deadbeef 71727374 75767778
        797a7b7c 7d7e7f80
        """)

    /// Constructed: destination options (PadN) followed by ESP (SPI 0x1000, seq 1): the walk must stop at ESP.
    static let ipv6DestOptsESP = hex("""
        60000000 00203c40 20010db8 00000000 00000000 00000010 20010db8 00010000
        00000000 00000053 32000104 00000000 00001000 00000001 00000000 00000000
        00000000 00000000
        """)

    /// Constructed: an odd SYN|FIN segment with 3 payload bytes, seq 1000, no ACK: the RST must acknowledge 1000 + 3 + SYN + FIN = 1005.
    static let ipv4TCPSynFinData = hex("""
        4500002b 00014000 40064e87 c000020a c6336407 c7380050 000003e8 00000000
        50030400 2fc60000 616263
        """)

    /// Every fixture, for table-driven and fuzz tests.
    static let all: [(name: String, bytes: [UInt8])] = [
        ("ipv4TCPSyn", ipv4TCPSyn), ("ipv4TCPTLS", ipv4TCPTLS),
        ("ipv4TCPRstWithEthernetPadding", ipv4TCPRstWithEthernetPadding), ("ipv4UDPMDNS", ipv4UDPMDNS),
        ("ipv6ICMPv6NeighborSolicitation", ipv6ICMPv6NeighborSolicitation),
        ("ipv6HopByHopNoNextHeader", ipv6HopByHopNoNextHeader),
        ("ipv4ICMPEcho", ipv4ICMPEcho), ("ipv4UDPDNSQuery", ipv4UDPDNSQuery), ("ipv6TCPSyn", ipv6TCPSyn),
        ("ipv6TCPSack", ipv6TCPSack), ("ipv6ICMPv6Echo", ipv6ICMPv6Echo),
        ("ipv4IGMPRouterAlert", ipv4IGMPRouterAlert), ("ipv4RecordRouteUDP", ipv4RecordRouteUDP),
        ("ipv4FirstFragment", ipv4FirstFragment), ("ipv4SecondFragment", ipv4SecondFragment),
        ("ipv6HopByHopFirstFragment", ipv6HopByHopFirstFragment),
        ("ipv6HopByHopSecondFragment", ipv6HopByHopSecondFragment),
        ("ipv6DestOptsESP", ipv6DestOptsESP), ("ipv4TCPSynFinData", ipv4TCPSynFinData),
    ]
}
