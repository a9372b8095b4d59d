/// The parsed, owned summary of one packet (smoltcp's `Repr`) that higher
/// layers use: rule matching, connection tracking, logging. A plain struct
/// with no references, so it is `Sendable` and outlives the packet buffer.
///
/// Offsets count from the start of the buffer given to `PacketParser.parse`
/// (the IP header) and always satisfy, after a successful parse,
/// `l4Offset <= payloadOffset` and `payloadOffset + payloadLength <= buffer count`.
public struct PacketSummary: Sendable, Equatable {
    /// 4 or 6 (0 before a successful parse of the IP header).
    public var ipVersion: UInt8
    /// The IP source address.
    public var source: IPAddress
    /// The IP destination address.
    public var destination: IPAddress
    /// IANA number after walking IPv6 extension headers: the upper-layer
    /// protocol, or ESP (50) / No Next Header (59) where the walk stopped.
    public var l4Protocol: UInt8
    /// TTL (IPv4) or hop limit (IPv6).
    public var ttl: UInt8
    /// Differentiated Services code point.
    public var dscp: UInt8
    /// ECN bits (RFC 3168).
    public var ecn: UInt8
    /// Total length declared by the IP header (IPv6: 40 + payload length).
    /// May exceed the buffer for a truncated capture.
    public var ipLength: Int
    /// Whether the buffer holds less than `ipLength` bytes.
    public var isTruncated: Bool
    /// Any fragment: IPv4 MF set or offset != 0, or an IPv6 fragment header
    /// (atomic fragments included).
    public var isFragment: Bool
    /// The fragment offset in bytes. Non-first fragments (offset != 0) carry
    /// no L4 header: ports are 0 and `l4Parsed` is false.
    public var fragmentOffset: Int
    /// The More Fragments flag (IPv4 MF, IPv6 M).
    public var moreFragments: Bool
    /// The fragment identification (IPv4 Identification even when not a
    /// fragment, IPv6 fragment header Identification, else 0).
    public var fragmentIdentification: UInt32
    /// Whether the IPv4 header carries options.
    public var hasIPv4Options: Bool
    /// How many IPv6 extension headers were stepped over.
    public var ipv6ExtensionHeaders: Int
    /// Whether a TCP, UDP, ICMP or ICMPv6 header was parsed (the `tcp*`,
    /// port and `icmp*` fields are only meaningful then).
    public var l4Parsed: Bool
    /// TCP/UDP source port; 0 otherwise.
    public var sourcePort: UInt16
    /// TCP/UDP destination port; 0 otherwise.
    public var destinationPort: UInt16
    /// TCP control bits; empty otherwise.
    public var tcpFlags: TCPFlags
    /// TCP sequence number.
    public var tcpSequence: UInt32
    /// TCP acknowledgement number.
    public var tcpAcknowledgement: UInt32
    /// TCP window (unscaled).
    public var tcpWindow: UInt16
    /// ICMP / ICMPv6 type.
    public var icmpType: UInt8
    /// ICMP / ICMPv6 code.
    public var icmpCode: UInt8
    /// Offset of the L4 header from the start of the buffer (for an
    /// unparsed L4 or a non-first fragment: where the IP payload begins after
    /// the headers that were walked).
    public var l4Offset: Int
    /// Offset of the L4 payload (after the TCP header with options, the UDP,
    /// ICMP or ICMPv6 header); equals `l4Offset` when L4 was not parsed.
    public var payloadOffset: Int
    /// Payload bytes actually present in the buffer (at most the declared
    /// lengths; excludes link-layer padding).
    public var payloadLength: Int

    /// All zero: version 0, addresses 0.0.0.0, no flags.
    public init() {
        ipVersion = 0
        source = IPAddress(v4: 0)
        destination = IPAddress(v4: 0)
        l4Protocol = 0
        ttl = 0
        dscp = 0
        ecn = 0
        ipLength = 0
        isTruncated = false
        isFragment = false
        fragmentOffset = 0
        moreFragments = false
        fragmentIdentification = 0
        hasIPv4Options = false
        ipv6ExtensionHeaders = 0
        l4Parsed = false
        sourcePort = 0
        destinationPort = 0
        tcpFlags = []
        tcpSequence = 0
        tcpAcknowledgement = 0
        tcpWindow = 0
        icmpType = 0
        icmpCode = 0
        l4Offset = 0
        payloadOffset = 0
        payloadLength = 0
    }
}

/// Walks all layers of an IP packet into a `PacketSummary` using the views of
/// this module: no allocation, no copies.
public enum PacketParser {
    /// Parses an L3 packet (first byte = IP version nibble). `wireLength` is the packet's length on the
    /// wire when the buffer was truncated by a capture/copy range (NFQUEUE copy_range, pcap snaplen);
    /// nil means the buffer is the whole packet. A declared length larger than wireLength is an error;
    /// a declared length larger than the buffer but within wireLength is a legal truncated capture
    /// (payloadLength counts only what is present). L4 headers must be fully present.
    ///
    /// `summary` is reset first. When parsing throws, the fields of the
    /// layers decoded before the failure stay filled (addresses when the TCP
    /// header is bad, for instance) so a drop can still be logged; the rest
    /// are zero.
    ///
    /// - Throws: any `WireError`; see the `checking` initializers of
    ///   `IPv4Packet`, `IPv6Packet` (and `walkExtensionHeaders()`),
    ///   `TCPSegment`, `UDPDatagram`, `ICMPv4Message` and `ICMPv6Message`.
    ///   An empty buffer is `.truncated(.ipv4, needed: 20, available: 0)`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, wireLength: Int? = nil,
                             into summary: inout PacketSummary) throws(WireError) {
        summary = PacketSummary()
        guard bytes.count > 0 else {
            throw .truncated(layer: .ipv4, needed: IPv4Packet.minimumHeaderLength, available: 0)
        }
        let version = bytes.wireU8(0) >> 4
        switch version {
        case 4: try parseIPv4(bytes, wireLength: wireLength, into: &summary)
        case 6: try parseIPv6(bytes, wireLength: wireLength, into: &summary)
        default: throw .badVersion(version)
        }
    }

    private static func parseIPv4(_ bytes: UnsafeRawBufferPointer, wireLength: Int?,
                                  into summary: inout PacketSummary) throws(WireError) {
        let ip = try IPv4Packet(checking: bytes, wireLength: wireLength)
        summary.ipVersion = 4
        summary.source = ip.source
        summary.destination = ip.destination
        summary.l4Protocol = ip.protocolNumber
        summary.ttl = ip.ttl
        summary.dscp = ip.dscp
        summary.ecn = ip.ecn
        summary.ipLength = ip.totalLength
        summary.isTruncated = ip.isTruncated
        summary.isFragment = ip.isFragment
        summary.fragmentOffset = ip.fragmentOffset
        summary.moreFragments = ip.moreFragments
        summary.fragmentIdentification = UInt32(ip.identification)
        summary.hasIPv4Options = ip.hasOptions
        let l4Offset = ip.headerLength
        try parseTransport(ip.payload, at: l4Offset, wireLength: ip.totalLength - l4Offset,
                           isIPv6: false, into: &summary)
    }

    private static func parseIPv6(_ bytes: UnsafeRawBufferPointer, wireLength: Int?,
                                  into summary: inout PacketSummary) throws(WireError) {
        let ip = try IPv6Packet(checking: bytes, wireLength: wireLength)
        summary.ipVersion = 6
        summary.source = ip.source
        summary.destination = ip.destination
        summary.l4Protocol = ip.nextHeader
        summary.ttl = ip.hopLimit
        summary.dscp = ip.dscp
        summary.ecn = ip.ecn
        summary.ipLength = IPv6Packet.headerLength + ip.payloadLength
        summary.isTruncated = ip.isTruncated
        let chain = try ip.walkExtensionHeaders()
        summary.l4Protocol = chain.upperLayerProtocol
        summary.ipv6ExtensionHeaders = chain.headerCount
        summary.isFragment = chain.hasFragmentHeader
        summary.fragmentOffset = chain.fragmentOffset
        summary.moreFragments = chain.moreFragments
        summary.fragmentIdentification = chain.fragmentIdentification
        let l4Offset = chain.upperLayerOffset
        try parseTransport(ip.bytes.wireSlice(from: l4Offset), at: l4Offset,
                           wireLength: summary.ipLength - l4Offset, isIPv6: true, into: &summary)
    }

    /// Fills the L4 fields from `bytes`, the IP payload after all walked
    /// headers, which starts `offset` bytes into the packet.
    private static func parseTransport(_ bytes: UnsafeRawBufferPointer, at offset: Int, wireLength: Int,
                                       isIPv6: Bool, into summary: inout PacketSummary) throws(WireError) {
        summary.l4Offset = offset
        summary.payloadOffset = offset
        summary.payloadLength = bytes.count
        // RFC 791 §3.2 / RFC 8200 §4.5: only the offset-0 fragment starts with the L4 header.
        guard summary.fragmentOffset == 0 else { return }
        switch summary.l4Protocol {
        case IPProtocolNumber.tcp:
            let segment = try TCPSegment(checking: bytes)
            summary.sourcePort = segment.sourcePort
            summary.destinationPort = segment.destinationPort
            summary.tcpFlags = segment.flags
            summary.tcpSequence = segment.sequenceNumber
            summary.tcpAcknowledgement = segment.acknowledgementNumber
            summary.tcpWindow = segment.window
            summary.payloadOffset = offset + segment.dataOffset
            summary.payloadLength = segment.payload.count
        case IPProtocolNumber.udp:
            // A first fragment holds only the start of a datagram whose UDP length covers all fragments.
            let datagram = try UDPDatagram(checking: bytes, wireLength: wireLength,
                                           isFirstFragment: summary.moreFragments)
            summary.sourcePort = datagram.sourcePort
            summary.destinationPort = datagram.destinationPort
            summary.payloadOffset = offset + UDPDatagram.headerLength
            summary.payloadLength = datagram.payload.count
        case IPProtocolNumber.icmp where !isIPv6:
            let message = try ICMPv4Message(checking: bytes)
            summary.icmpType = message.type
            summary.icmpCode = message.code
            summary.payloadOffset = offset + ICMPv4Message.headerLength
            summary.payloadLength = message.payload.count
        case IPProtocolNumber.icmpv6 where isIPv6:
            let message = try ICMPv6Message(checking: bytes)
            summary.icmpType = message.type
            summary.icmpCode = message.code
            summary.payloadOffset = offset + ICMPv6Message.headerLength
            summary.payloadLength = message.payload.count
        default:
            return
        }
        summary.l4Parsed = true
    }
}
