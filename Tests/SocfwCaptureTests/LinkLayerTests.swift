import Testing
import SocfwCapture

private let ipv4Header: [UInt8] = [0x45, 0, 0, 20] + [UInt8](repeating: 0, count: 16)
private let ipv6Header: [UInt8] = [0x60] + [UInt8](repeating: 0, count: 39)

/// Ethernet: two MACs, then each 16-bit value of `types` (EtherTypes, or a
/// TPID followed by its TCI), then `payload`.
private func ethernet(_ types: [UInt16], _ payload: [UInt8]) -> [UInt8] {
    var b = ByteBuilder(bigEndian: true)
    b.raw([UInt8](repeating: 0xAA, count: 6) + [UInt8](repeating: 0xBB, count: 6))
    for t in types { b.u16(t) }
    return b.bytes + payload
}

/// Linux cooked v1: packet type, ARPHRD_ETHER, address length 6, address, protocol.
private func sll(_ types: [UInt16], _ payload: [UInt8]) -> [UInt8] {
    var b = ByteBuilder(bigEndian: true)
    b.u16(0)
    b.u16(1)
    b.u16(6)
    b.raw([1, 2, 3, 4, 5, 6, 0, 0])
    for t in types { b.u16(t) }
    return b.bytes + payload
}

/// Linux cooked v2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address.
private func sll2(_ protocolType: UInt16, _ rest: [UInt16], _ payload: [UInt8]) -> [UInt8] {
    var b = ByteBuilder(bigEndian: true)
    b.u16(protocolType)
    b.u16(0)
    b.u32(2)
    b.u16(1)
    b.u8(0)
    b.u8(6)
    b.raw([1, 2, 3, 4, 5, 6, 0, 0])
    for t in rest { b.u16(t) }
    return b.bytes + payload
}

/// A 4-byte address family header in the given order.
private func loopback(_ family: UInt32, bigEndian: Bool, _ payload: [UInt8]) -> [UInt8] {
    var b = ByteBuilder(bigEndian: bigEndian)
    b.u32(family)
    return b.bytes + payload
}

struct LinkLayerCase: CustomStringConvertible, Sendable {
    var name: String
    var linkType: LinkType
    var frame: [UInt8]
    var expected: NetworkLayer?
    var description: String { name }

    init(_ name: String, _ linkType: LinkType, _ frame: [UInt8], _ expected: (Int, UInt8)?) {
        self.name = name
        self.linkType = linkType
        self.frame = frame
        self.expected = expected.map { NetworkLayer(offset: $0.0, ipVersion: $0.1) }
    }
}

@Suite struct LinkLayerTests {
    static let cases: [LinkLayerCase] = [
        .init("ethernet IPv4", .ethernet, ethernet([0x0800], ipv4Header), (14, 4)),
        .init("ethernet IPv6", .ethernet, ethernet([0x86DD], ipv6Header), (14, 6)),
        .init("802.1Q IPv4", .ethernet, ethernet([0x8100, 0x0064, 0x0800], ipv4Header), (18, 4)),
        .init("802.1ad+802.1Q IPv6", .ethernet, ethernet([0x88A8, 1, 0x8100, 2, 0x86DD], ipv6Header), (22, 6)),
        .init("legacy 0x9100 QinQ", .ethernet, ethernet([0x9100, 1, 0x8100, 2, 0x0800], ipv4Header), (22, 4)),
        .init("four tags", .ethernet, ethernet([0x8100, 1, 0x8100, 2, 0x8100, 3, 0x8100, 4, 0x0800], ipv4Header), (30, 4)),
        .init("five tags", .ethernet, ethernet([0x8100, 1, 0x8100, 2, 0x8100, 3, 0x8100, 4, 0x8100, 5, 0x0800], ipv4Header), nil),
        .init("ARP", .ethernet, ethernet([0x0806], [UInt8](repeating: 0, count: 28)), nil),
        .init("LLDP", .ethernet, ethernet([0x88CC], [UInt8](repeating: 0, count: 30)), nil),
        .init("VLAN-tagged ARP", .ethernet, ethernet([0x8100, 5, 0x0806], [UInt8](repeating: 0, count: 28)), nil),
        .init("13-byte frame", .ethernet, [UInt8](repeating: 0, count: 13), nil),
        .init("ethernet header only", .ethernet, ethernet([0x0800], []), nil),
        .init("VLAN tag cut off", .ethernet, ethernet([0x8100, 5], []), nil),
        .init("empty ethernet", .ethernet, [], nil),

        .init("SLL IPv4", .linuxSLL, sll([0x0800], ipv4Header), (16, 4)),
        .init("SLL IPv6", .linuxSLL, sll([0x86DD], ipv6Header), (16, 6)),
        .init("SLL VLAN", .linuxSLL, sll([0x8100, 7, 0x0800], ipv4Header), (20, 4)),
        .init("SLL ARP", .linuxSLL, sll([0x0806], [0, 1]), nil),
        .init("SLL short", .linuxSLL, Array(sll([0x0800], []).prefix(15)), nil),
        .init("SLL header only", .linuxSLL, sll([0x0800], []), nil),

        .init("SLL2 IPv4", .linuxSLL2, sll2(0x0800, [], ipv4Header), (20, 4)),
        .init("SLL2 IPv6", .linuxSLL2, sll2(0x86DD, [], ipv6Header), (20, 6)),
        .init("SLL2 VLAN", .linuxSLL2, sll2(0x8100, [7, 0x86DD], ipv6Header), (24, 6)),
        .init("SLL2 ARP", .linuxSLL2, sll2(0x0806, [], [0, 1]), nil),
        .init("SLL2 short", .linuxSLL2, Array(sll2(0x0800, [], []).prefix(19)), nil),

        .init("raw IPv4", .raw, ipv4Header, (0, 4)),
        .init("raw IPv6", .raw, ipv6Header, (0, 6)),
        .init("raw version 5", .raw, [0x55, 0, 0, 0], nil),
        .init("raw empty", .raw, [], nil),
        .init("IPV4 link type, IPv4", .ipv4, ipv4Header, (0, 4)),
        .init("IPV4 link type, IPv6 packet", .ipv4, ipv6Header, nil),
        .init("IPV6 link type, IPv6", .ipv6, ipv6Header, (0, 6)),
        .init("IPV6 link type, IPv4 packet", .ipv6, ipv4Header, nil),

        .init("null AF_INET little-endian", .null, loopback(2, bigEndian: false, ipv4Header), (4, 4)),
        .init("null AF_INET big-endian", .null, loopback(2, bigEndian: true, ipv4Header), (4, 4)),
        .init("null AF_INET6 Linux", .null, loopback(10, bigEndian: false, ipv6Header), (4, 6)),
        .init("null AF_INET6 BSD", .null, loopback(24, bigEndian: false, ipv6Header), (4, 6)),
        .init("null AF_INET6 FreeBSD", .null, loopback(28, bigEndian: true, ipv6Header), (4, 6)),
        .init("null AF_INET6 Darwin", .null, loopback(30, bigEndian: false, ipv6Header), (4, 6)),
        .init("null AF_APPLETALK", .null, loopback(16, bigEndian: false, [0, 0]), nil),
        .init("null header only", .null, loopback(2, bigEndian: false, []), nil),
        .init("loop AF_INET", .loop, loopback(2, bigEndian: true, ipv4Header), (4, 4)),
        .init("loop AF_INET6 OpenBSD", .loop, loopback(24, bigEndian: true, ipv6Header), (4, 6)),
        .init("loop AF_INET little-endian", .loop, loopback(2, bigEndian: false, ipv4Header), (4, 4)),

        .init("unknown link type", LinkType(rawValue: 147), ipv4Header, nil),
    ]

    @Test("networkLayer finds the IP header or rejects non-IP and short frames", arguments: cases)
    func networkLayer(_ c: LinkLayerCase) {
        let found = c.frame.withUnsafeBytes { LinkLayer.networkLayer(of: $0, linkType: c.linkType) }
        #expect(found == c.expected)
    }

    @Test("every prefix of a frame is handled without reading past its end")
    func prefixesAreSafe() {
        for c in Self.cases {
            for length in 0...c.frame.count {
                let prefix = Array(c.frame.prefix(length))
                let found = prefix.withUnsafeBytes { LinkLayer.networkLayer(of: $0, linkType: c.linkType) }
                if let found, found.offset >= length {
                    Issue.record("\(c.name) cut to \(length): offset \(found.offset) outside the frame")
                }
            }
        }
    }

    @Test("link types print with tcpdump's names")
    func linkTypeNames() {
        #expect("\(LinkType.ethernet)" == "EN10MB")
        #expect("\(LinkType.linuxSLL2)" == "LINUX_SLL2")
        #expect("\(LinkType(rawValue: 147))" == "linktype 147")
    }
}
