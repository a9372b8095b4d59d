import SocfwWire

// Protocol anomaly detection: packets that break a rule of TCP, ICMP or IP
// that no conforming stack breaks (Suricata's decoder events, Snort's
// preprocessor alerts). The detector looks at one packet at a time, after
// `PacketParser`; the only state it keeps is a small table of fragment
// ranges for overlap detection.
//
// Packets the parser rejects never reach `inspect`; `classify` names the
// anomaly such a rejection stands for. What the parser already rejects
// (SocfwWire, see the `checking` initializers):
//   IPv4   IHL < 5                               .badHeaderLength(.ipv4)  -> ip.bad_length
//          total length < header or > wire       .badTotalLength(.ipv4)   -> ip.bad_length
//   IPv6   40 + payload length > wire            .badTotalLength(.ipv6)   -> ip.bad_length
//          extension header past the datagram    .truncated(.ipv6)        -> ip.bad_length (complete capture)
//          > 8 extension headers, misplaced
//          hop-by-hop, second fragment header    (no id: the parser's counters report them)
//   TCP    data offset < 5                       .badHeaderLength(.tcp)   -> tcp.bad_data_offset
//          data offset past the segment          .truncated(.tcp)         -> tcp.bad_data_offset (complete capture)
//   UDP    length < 8 or > IP payload            .badHeaderLength / .badTotalLength(.udp) -> ip.bad_length
//   L4     first fragment without the whole
//          transport header (RFC 1858 §3)        .truncated(.tcp/.udp/.icmp/.icmpv6) -> ip.tiny_fragment
// TCP options are not walked by the parser: `inspect` validates them.

/// A protocol anomaly: a packet that breaks TCP, ICMP or IP rules.
///
/// Raw values, `name` and `signatureID` are stable: they appear in
/// configuration files, EVE alerts and counters. New ids get new raw values;
/// none is ever renumbered.
public enum AnomalyID: UInt16, CaseIterable, Sendable {
    // TCP (RFC 9293 §3.1, §3.10.7)
    /// SYN and FIN together: opens and closes at once; a scan or OS probe.
    case tcpSynFin = 1
    /// SYN and RST together: never legal.
    case tcpSynRst
    /// FIN without ACK (and without SYN): every segment after the SYN carries
    /// ACK (RFC 9293 §3.10.7.4), so this is a FIN scan (nmap -sF).
    case tcpFinWithoutAck
    /// None of FIN, SYN, RST, PSH, ACK, URG: a NULL scan (nmap -sN).
    case tcpNull
    /// FIN, PSH and URG without ACK (nmap -sX), or all six control bits.
    case tcpXmas
    /// The three reserved bits of header byte 12 set (the fourth, formerly NS
    /// of RFC 3540, is AccECN's AE flag and is legal, as are ECE and CWR).
    case tcpReservedBits
    /// The data offset is below 5 words or points past the segment.
    case tcpBadDataOffset
    /// An option with a length below 2, past the option area, or not the fixed
    /// size its kind requires.
    case tcpBadOptions

    // ICMP (RFC 792) / ICMPv6 (RFC 4443)
    /// A fragment that would reassemble to more than 65535 bytes (the "ping of
    /// death", CVE-1999-0128). Any protocol; named after the classic ICMP form.
    case icmpPingOfDeath = 20
    /// A fragment (first or not) of an ICMP or ICMPv6 message.
    case icmpFragmented
    /// An ICMP redirect (type 5) or ICMPv6 redirect (137) from outside.
    case icmpRedirectFromOutside
    /// An ICMP timestamp request (type 13) from outside: clock and OS
    /// reconnaissance (nmap -PP).
    case icmpTimestampFromOutside
    /// An ICMP address mask request (type 17, RFC 950) from outside:
    /// reconnaissance (nmap -PM).
    case icmpAddressMaskFromOutside
    /// An echo request or reply with more payload than
    /// `AnomalyConfig.largeEchoPayloadBytes`: ICMP tunnelling or exfiltration.
    case icmpLargeEcho

    // IP (RFC 791, RFC 8200)
    /// Source and destination addresses equal (the "land" attack).
    case ipLand = 40
    /// A fragment too small to be produced by a real link (RFC 1858 §3,
    /// RFC 3128), or a TCP fragment at offset 8 (RFC 1858 §4: rewrites the
    /// header of the first).
    case ipTinyFragment
    /// A fragment overlapping an earlier, different fragment of the same
    /// datagram (RFC 1858 §4, RFC 5722 for IPv6).
    case ipOverlappingFragment
    /// An IPv4 loose or strict source route option (RFC 791 §3.1; RFC 7126 §4.3-4.4).
    case ipv4SourceRoute
    /// An IPv6 routing header of type 0 (deprecated by RFC 5095).
    case ipv6RoutingType0
    /// TTL or hop limit 0 in transit (RFC 1122 §3.2.1.7, RFC 1812 §4.2.2.9,
    /// RFC 8200 §3).
    case ipZeroTTL
    /// A total, payload, extension header or UDP length inconsistent with the
    /// packet (only from `classify`: the parser rejects such packets).
    case ipBadLength

    /// Every anomaly's `name`, in declaration order (for counter registration
    /// and configuration help).
    public static let allNames: [String] = allCases.map(\.name)

    /// Stable snake_case id with a layer prefix, e.g. "tcp.syn_fin",
    /// "icmp.ping_of_death", "ip.land". Returns string literals only.
    public var name: String {
        switch self {
        case .tcpSynFin: "tcp.syn_fin"
        case .tcpSynRst: "tcp.syn_rst"
        case .tcpFinWithoutAck: "tcp.fin_without_ack"
        case .tcpNull: "tcp.null"
        case .tcpXmas: "tcp.xmas"
        case .tcpReservedBits: "tcp.reserved_bits"
        case .tcpBadDataOffset: "tcp.bad_data_offset"
        case .tcpBadOptions: "tcp.bad_options"
        case .icmpPingOfDeath: "icmp.ping_of_death"
        case .icmpFragmented: "icmp.fragmented"
        case .icmpRedirectFromOutside: "icmp.redirect_from_outside"
        case .icmpTimestampFromOutside: "icmp.timestamp_from_outside"
        case .icmpAddressMaskFromOutside: "icmp.address_mask_from_outside"
        case .icmpLargeEcho: "icmp.large_echo"
        case .ipLand: "ip.land"
        case .ipTinyFragment: "ip.tiny_fragment"
        case .ipOverlappingFragment: "ip.overlapping_fragment"
        case .ipv4SourceRoute: "ipv4.source_route"
        case .ipv6RoutingType0: "ipv6.routing_type_0"
        case .ipZeroTTL: "ip.zero_ttl"
        case .ipBadLength: "ip.bad_length"
        }
    }

    /// The EVE `alert.signature_id`: 2_210_000 + raw value, a block no
    /// signature set in use assigns.
    public var signatureID: Int { 2_210_000 + Int(rawValue) }

    /// One line for humans (the EVE `alert.signature`).
    public var summary: String {
        switch self {
        case .tcpSynFin: "TCP SYN and FIN set together"
        case .tcpSynRst: "TCP SYN and RST set together"
        case .tcpFinWithoutAck: "TCP FIN without ACK (FIN scan)"
        case .tcpNull: "TCP segment without control flags (NULL scan)"
        case .tcpXmas: "TCP FIN, PSH and URG without ACK (Xmas scan)"
        case .tcpReservedBits: "TCP reserved header bits set"
        case .tcpBadDataOffset: "TCP data offset outside the segment"
        case .tcpBadOptions: "malformed TCP options"
        case .icmpPingOfDeath: "IP fragment reassembles past 65535 bytes (ping of death)"
        case .icmpFragmented: "fragmented ICMP message"
        case .icmpRedirectFromOutside: "ICMP redirect from an external address"
        case .icmpTimestampFromOutside: "ICMP timestamp request from an external address"
        case .icmpAddressMaskFromOutside: "ICMP address mask request from an external address"
        case .icmpLargeEcho: "ICMP echo with an oversized payload (possible tunnel)"
        case .ipLand: "IP source and destination address equal (land attack)"
        case .ipTinyFragment: "tiny IP fragment (header split or rewritten across fragments)"
        case .ipOverlappingFragment: "IP fragment overlaps an earlier fragment of the same datagram"
        case .ipv4SourceRoute: "IPv4 source route option (LSRR/SSRR)"
        case .ipv6RoutingType0: "IPv6 routing header type 0"
        case .ipZeroTTL: "IP TTL or hop limit 0 in transit"
        case .ipBadLength: "IP, extension header or UDP length inconsistent with the packet"
        }
    }

    /// The default action: `true` drops, `false` only alerts.
    ///
    /// Drop where no conforming stack sends the packet and a receiver may act
    /// on it differently from us:
    /// - flag sets RFC 9293 makes impossible (SYN+FIN, SYN+RST, FIN without
    ///   ACK, NULL, Xmas) are scans or evasion, never traffic;
    /// - malformed TCP headers and options (RFC 9293 §3.1 MUST-7 suggests
    ///   resetting the connection) and inconsistent lengths let two parsers
    ///   disagree about where data starts;
    /// - land, ping of death, tiny and overlapping fragments (RFC 1858 and
    ///   RFC 3128 recommend dropping; RFC 5722 makes IPv6 receivers discard
    ///   overlapping datagrams) are attacks;
    /// - source routes let a sender steer around the firewall (RFC 7126
    ///   §4.3-4.4 recommends dropping); RFC 5095 forbids originating RH0;
    /// - TTL 0 is never sent (RFC 1122 §3.2.1.7) nor forwarded (RFC 1812 §4.2.2.9).
    ///
    /// Alert only where legitimate traffic does it or blocking costs more
    /// than it saves:
    /// - reserved TCP bits are for future extensions: RFC 9293 says receivers
    ///   ignore them and RFC 3360 documents what dropping them broke (ECN);
    /// - ICMP fragments come from `ping -s 2000`; the harmful forms are
    ///   caught by ping of death and overlap;
    /// - redirects, timestamp and address mask requests from outside are
    ///   reconnaissance or route tampering worth seeing, but also what a
    ///   misconfigured upstream router or a monitoring probe sends; where
    ///   policy forbids them outright, configure drop;
    /// - large echoes are legitimate path-MTU and diagnostic probes as often
    ///   as tunnels.
    public var defaultDrops: Bool {
        switch self {
        case .tcpReservedBits, .icmpFragmented, .icmpRedirectFromOutside, .icmpTimestampFromOutside,
             .icmpAddressMaskFromOutside, .icmpLargeEcho:
            false
        case .tcpSynFin, .tcpSynRst, .tcpFinWithoutAck, .tcpNull, .tcpXmas, .tcpBadDataOffset, .tcpBadOptions,
             .icmpPingOfDeath, .ipLand, .ipTinyFragment, .ipOverlappingFragment, .ipv4SourceRoute,
             .ipv6RoutingType0, .ipZeroTTL, .ipBadLength:
            true
        }
    }

    /// The anomaly whose `name` is `name` (configuration parsing), or nil.
    public init?(name: String) {
        for id in AnomalyID.allCases where id.name == name {
            self = id
            return
        }
        return nil
    }
}

/// Thresholds and sizes of an `AnomalyDetector`.
public struct AnomalyConfig: Equatable, Sendable {
    /// ICMP echo request/reply payload bytes (after the 8-byte header) above
    /// which an echo is large. `ping` sends 56; 1024 leaves room for
    /// diagnostic sizes while tunnels (ptunnel, icmpsh) fill the MTU.
    public var largeEchoPayloadBytes: Int = 1024
    /// A fragment that is not the last one (More Fragments set) carrying
    /// fewer than this many bytes of fragment data is tiny; 0 turns this rule
    /// off (the TCP rules of RFC 1858 stay on).
    ///
    /// Routers cut non-last fragments at the path MTU, and no link in use has
    /// an MTU anywhere near 64 bytes (IPv4 hosts reassemble 576, RFC 1122
    /// §3.3.2; IPv6 links carry 1280, RFC 8200 §5). Tools that split headers
    /// across fragments (nmap -f, fragroute) send 8 to 48 bytes. The first
    /// fragment must also hold the whole transport header (RFC 1858 §3.2,
    /// RFC 7112 for IPv6): the parser rejects a first fragment that does not,
    /// and `classify(_:partial:)` names it a tiny fragment.
    public var tinyFragmentBytes: Int = 64
    /// Datagrams whose fragment ranges are tracked for overlap detection; the
    /// oldest is replaced when full. Rounded up to a power of two of at least
    /// 8; at most 1 << 20; 0 turns overlap detection off. 128 bytes each.
    public var fragmentTableCapacity: Int = 4096
    /// How long a datagram's fragments are remembered after its first
    /// fragment, in seconds (Linux `ipfrag_time`, RFC 8200 §4.5: 60 at most).
    public var fragmentTimeoutSeconds: Int = 30

    /// The defaults above.
    public init() {}
}

/// Finds the first protocol anomaly of each packet.
///
/// Per worker: one thread, not thread-safe, and not meant to be copied (a
/// copy shares the fragment table until its first write, which then copies
/// it). Memory is fixed at init (`memoryBytes`).
public struct AnomalyDetector: Sendable {
    /// The configuration given at init.
    public let config: AnomalyConfig
    private var fragments: FragmentTable

    /// A detector with an empty fragment table of `config.fragmentTableCapacity` entries.
    public init(config: AnomalyConfig = AnomalyConfig()) {
        self.config = config
        let timeout = Int64(min(max(config.fragmentTimeoutSeconds, 0), 3_600)) * 1_000_000_000
        fragments = FragmentTable(capacity: config.fragmentTableCapacity, timeoutNanoseconds: timeout,
                                  seed: UInt64.random(in: .min ... .max))
    }

    /// Bytes the detector allocated (the fragment table), for memory reporting.
    public var memoryBytes: Int { fragments.memoryBytes }

    /// True for the segments of nearly all TCP traffic, which no check of
    /// `inspect` can flag: an ACK without SYN in a whole (unfragmented)
    /// datagram without IP options or IPv6 extension headers, TTL above 0,
    /// distinct addresses, no reserved bits, and no TCP options or just the
    /// usual NOP, NOP, timestamps. Inlined, so such a packet costs no call;
    /// every other packet goes through `inspect`. (A test checks that
    /// `inspect` finds nothing in what this passes.)
    @inline(__always)
    public static func isPlainTCPSegment(_ p: PacketSummary, packet: UnsafeRawBufferPointer) -> Bool {
        guard p.l4Protocol == IPProtocolNumber.tcp, p.l4Parsed, !p.isFragment, !p.hasIPv4Options,
              p.ipv6ExtensionHeaders == 0, p.ttl != 0,
              p.tcpFlags.rawValue & (TCPFlagBit.ack | TCPFlagBit.syn) == TCPFlagBit.ack,
              p.l4Offset + 20 <= packet.count else { return false }
        let offsetByte = packet[p.l4Offset + 12]
        let plain = offsetByte & 0xfe == 0x50
            || (offsetByte & 0xfe == 0x80 && p.l4Offset + 24 <= packet.count
                && UInt32(bigEndian: packet.loadUnaligned(fromByteOffset: p.l4Offset + 20, as: UInt32.self))
                    == usualTimestampOptions)
        return plain && p.source != p.destination
    }

    /// The first anomaly of a packet `PacketParser` accepted, or nil.
    ///
    /// - Parameters:
    ///   - p: the summary `PacketParser.parse` produced from `packet`.
    ///   - packet: the same bytes, starting at the IP header (options,
    ///     extension headers and TCP options are read from it).
    ///   - fromOutside: the source is not one of the protected networks.
    ///   - now: nanoseconds on the caller's monotonic clock (fragment expiry).
    ///
    /// Every real fragment is recorded for overlap detection before anything
    /// is returned. When several anomalies apply, drop-by-default ones come
    /// before alert-only ones (so one answer never hides a drop), and within
    /// each the most specific first: land, ping of death, tiny fragment,
    /// overlap, source route, RH0, zero TTL, TCP flags, TCP options; then TCP
    /// reserved bits, ICMP fragment, ICMP from outside, large echo.
    ///
    /// Never allocates. A TCP or UDP packet without fragments, IP options or
    /// extension headers costs a few compares (plus an option walk for TCP
    /// options other than the usual NOP NOP timestamps).
    ///
    /// Source == destination is also what a host talking to itself over `lo`
    /// looks like: loopback addresses are exempt, but a host's own address
    /// over `lo` is not, so do not run loopback traffic through the detector.
    public mutating func inspect(_ p: PacketSummary, packet: UnsafeRawBufferPointer, fromOutside: Bool,
                                 now: Int64) -> AnomalyID? {
        guard p.ipVersion != 0 else { return nil }  // not a parsed packet
        let end = min(packet.count, p.ipLength)
        var routingType0 = false
        var fragmentDataOffset = p.l4Offset
        if p.ipVersion == 6 && p.ipv6ExtensionHeaders != 0 {
            let walk = AnomalyDetector.walkIPv6ExtensionHeaders(packet, end: end)
            routingType0 = walk.routingType0
            if walk.fragmentDataOffset != 0 { fragmentDataOffset = walk.fragmentDataOffset }
        }
        // RFC 6946: an atomic fragment (offset 0, no more fragments) is a whole datagram.
        let isRealFragment = p.isFragment && (p.fragmentOffset != 0 || p.moreFragments)
        var fragmentAnomaly: AnomalyID? = nil
        if isRealFragment {
            fragmentAnomaly = inspectFragment(p, dataOffset: fragmentDataOffset, now: now)
        }

        if p.source == p.destination && !AnomalyDetector.isLoopback(p.source) { return .ipLand }
        if let fragmentAnomaly { return fragmentAnomaly }
        if p.hasIPv4Options && AnomalyDetector.hasSourceRoute(packet, headerEnd: min(p.l4Offset, end)) {
            return .ipv4SourceRoute
        }
        if routingType0 { return .ipv6RoutingType0 }
        if p.ttl == 0 { return .ipZeroTTL }

        switch p.l4Protocol {
        case IPProtocolNumber.tcp:
            return p.l4Parsed ? AnomalyDetector.tcpAnomaly(p, packet: packet) : nil
        case IPProtocolNumber.icmp where p.ipVersion == 4,
             IPProtocolNumber.icmpv6 where p.ipVersion == 6:
            if isRealFragment { return .icmpFragmented }
            return p.l4Parsed ? icmpAnomaly(p, fromOutside: fromOutside) : nil
        default:
            return nil
        }
    }

    /// The anomaly a packet `PacketParser` rejected stands for, from the error
    /// alone, or nil.
    ///
    /// Truncation is never an anomaly here: without the packet the error
    /// cannot tell a crafted header from a capture cut short by a copy range
    /// or snap length. Use `classify(_:partial:)` when the partial summary is
    /// at hand. Also nil: a bad version (not IP at all), malformed IPv4/IPv6
    /// options (the parser does not walk them; Linux drops such packets), and
    /// long or misordered IPv6 extension chains (reported by the parser's own
    /// counters).
    public static func classify(_ error: WireError) -> AnomalyID? {
        switch error {
        case .badHeaderLength(let layer, _):
            // TCP: data offset < 5 words. IPv4 IHL < 5 and UDP length < 8 are lengths.
            return layer == .tcp ? .tcpBadDataOffset : .ipBadLength
        case .badTotalLength:
            return .ipBadLength
        case .badOptions(let layer):
            return layer == .tcp ? .tcpBadOptions : nil
        case .truncated, .badVersion, .extensionChainTooLong, .badExtensionHeader:
            return nil
        }
    }

    /// Like `classify(_:)`, using what the parser decoded before it failed
    /// (`PacketParser.parse` leaves those fields of `partial` filled).
    ///
    /// When the IP header was decoded and the buffer holds the whole datagram
    /// (`!partial.isTruncated`), a truncation is the packet's own doing:
    /// - a first fragment without its whole transport header: `.ipTinyFragment`
    ///   (RFC 1858 §3.2; RFC 7112 for IPv6);
    /// - a TCP data offset past the segment: `.tcpBadDataOffset`;
    /// - an IP payload too short for its transport header or an extension
    ///   header running past the payload length: `.ipBadLength`.
    public static func classify(_ error: WireError, partial: PacketSummary) -> AnomalyID? {
        guard case .truncated(let layer, let needed, _) = error else { return classify(error) }
        guard partial.ipVersion != 0, !partial.isTruncated else { return nil }
        switch layer {
        case .ipv4:
            return nil
        case .ipv6:
            return .ipBadLength
        case .tcp, .udp, .icmp, .icmpv6:
            if partial.isFragment && partial.moreFragments { return .ipTinyFragment }
            if layer == .tcp && needed > TCPSegment.minimumHeaderLength { return .tcpBadDataOffset }
            return .ipBadLength
        }
    }
}

// MARK: - IP

extension AnomalyDetector {
    /// IPv4 option types (IANA "IP Option Numbers": copy bit, class, number).
    enum IPv4Option {
        static let endOfOptionList: UInt8 = 0
        static let noOperation: UInt8 = 1
        static let looseSourceRoute: UInt8 = 0x83
        static let strictSourceRoute: UInt8 = 0x89
    }

    /// Whether `address` is 127.0.0.0/8 or ::1, which never leave a host
    /// (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3).
    static func isLoopback(_ address: IPAddress) -> Bool {
        address.isV6 ? address.high == 0 && address.low == 1 : address.v4 >> 24 == 127
    }

    /// Whether the IPv4 options in `packet[20..<headerEnd]` hold a loose or
    /// strict source route (RFC 791 §3.1). The walk stops at End of Option
    /// List and at a malformed option: Linux drops such packets
    /// (`ip_options_compile`), so no route in them is ever followed.
    static func hasSourceRoute(_ packet: UnsafeRawBufferPointer, headerEnd: Int) -> Bool {
        var offset = IPv4Packet.minimumHeaderLength
        while offset < headerEnd {
            let type = packet[offset]
            if type == IPv4Option.endOfOptionList { return false }
            if type == IPv4Option.noOperation {
                offset += 1
                continue
            }
            guard offset + 1 < headerEnd else { return false }
            let length = Int(packet[offset + 1])
            guard length >= 2, offset + length <= headerEnd else { return false }
            if type == IPv4Option.looseSourceRoute || type == IPv4Option.strictSourceRoute { return true }
            offset += length
        }
        return false
    }

    /// What `walkIPv6ExtensionHeaders` found.
    struct IPv6Walk {
        /// A routing header of type 0 anywhere in the chain.
        var routingType0 = false
        /// Where the fragment data begins (just after the fragment header); 0
        /// without a fragment header.
        var fragmentDataOffset = 0
    }

    /// Walks the extension headers of the IPv6 packet in `packet[..<end]`
    /// (RFC 8200 §4) as `IPv6Packet.walkExtensionHeaders()` does, looking at
    /// every routing header (the summary keeps only the last one's type) and
    /// noting where the fragment data begins: headers after the fragment
    /// header are part of the fragmentable part.
    static func walkIPv6ExtensionHeaders(_ packet: UnsafeRawBufferPointer, end: Int) -> IPv6Walk {
        var walk = IPv6Walk()
        guard end >= IPv6Packet.headerLength else { return walk }
        var next = packet[6]
        var offset = IPv6Packet.headerLength
        var count = 0
        while IPProtocolNumber.isIPv6ExtensionHeader(next), count < IPv6Packet.extensionHeaderLimit,
              offset + 8 <= end {
            let length: Int
            switch next {
            case IPProtocolNumber.fragment: length = 8  // RFC 8200 §4.5: fixed size.
            case IPProtocolNumber.ah: length = (Int(packet[offset + 1]) + 2) * 4  // RFC 4302 §2.2
            default: length = (Int(packet[offset + 1]) + 1) * 8  // RFC 8200 §4.3-4.6
            }
            guard offset + length <= end else { break }
            if next == IPProtocolNumber.routing && packet[offset + 2] == 0 { walk.routingType0 = true }
            if next == IPProtocolNumber.fragment {
                walk.fragmentDataOffset = offset + length
                // After a non-first fragment header comes the middle of the payload, not headers.
                if packet[offset + 2] != 0 || packet[offset + 3] & 0xf8 != 0 { break }
            }
            next = packet[offset]
            offset += length
            count += 1
        }
        return walk
    }

    /// Fragment anomalies of a real fragment (not atomic) whose data starts
    /// at `dataOffset`; records the fragment for overlap detection.
    mutating func inspectFragment(_ p: PacketSummary, dataOffset: Int, now: Int64) -> AnomalyID? {
        let length = max(p.ipLength - dataOffset, 0)
        let start = p.fragmentOffset
        let end = start + length
        // RFC 8200 §4.5: the IPv6 fragment header is not part of the
        // reassembled packet, the unfragmentable headers before it are; the
        // reassembled IPv4 datagram keeps its header. Linux (ip_frag_reasm,
        // ip6_frag_reasm) drops past 65535.
        let headerBytes = p.ipVersion == 4 ? p.l4Offset : max(dataOffset - IPv6Packet.headerLength - 8, 0)
        let overlaps = fragments.record(source: p.source, destination: p.destination,
                                        identification: p.fragmentIdentification,
                                        protocolNumber: p.ipVersion == 4 ? p.l4Protocol : 0,
                                        start: start, end: end, now: now)
        if headerBytes + end > Int(UInt16.max) { return .icmpPingOfDeath }
        // RFC 1858 §4: a TCP fragment at offset 8 (FO = 1) rewrites the flags of the first.
        if p.l4Protocol == IPProtocolNumber.tcp && start == 8 { return .ipTinyFragment }
        if p.moreFragments && length < config.tinyFragmentBytes { return .ipTinyFragment }
        if overlaps { return .ipOverlappingFragment }
        return nil
    }
}

// MARK: - TCP and ICMP

extension AnomalyDetector {
    /// NOP, NOP, Timestamps kind and length: the options of nearly every
    /// segment after the handshake (RFC 7323 Appendix A layout).
    static let usualTimestampOptions: UInt32 = 0x0101_080a

    /// Flag, reserved bit and option anomalies of a parsed TCP header.
    static func tcpAnomaly(_ p: PacketSummary, packet: UnsafeRawBufferPointer) -> AnomalyID? {
        let flags = p.tcpFlags.rawValue
        // Every anomalous flag set lacks ACK or has SYN; an ACK without SYN
        // (nearly every segment) skips all of them.
        if flags & TCPFlagBit.ack == 0 || flags & TCPFlagBit.syn != 0 {
            let xmas = TCPFlagBit.fin | TCPFlagBit.psh | TCPFlagBit.urg
            if flags & xmas == xmas && (flags & TCPFlagBit.ack == 0 || flags & TCPFlagBit.syn != 0) { return .tcpXmas }
            if flags & TCPFlagBit.syn != 0 {
                if flags & TCPFlagBit.fin != 0 { return .tcpSynFin }
                if flags & TCPFlagBit.rst != 0 { return .tcpSynRst }
            } else {
                if flags & TCPFlagBit.control == 0 { return .tcpNull }
                if flags & TCPFlagBit.fin != 0 { return .tcpFinWithoutAck }
            }
        }
        let header = p.l4Offset
        guard header + TCPSegment.minimumHeaderLength <= packet.count else { return nil }
        let offsetByte = packet[header + 12]
        let dataOffset = Int(offsetByte >> 4) * 4
        if dataOffset > TCPSegment.minimumHeaderLength, header + dataOffset <= packet.count {
            let options = UnsafeRawBufferPointer(
                rebasing: packet[(header + TCPSegment.minimumHeaderLength)..<(header + dataOffset)])
            if !AnomalyDetector.optionsAreValid(options) { return .tcpBadOptions }
        }
        if offsetByte & TCPFlagBit.reserved != 0 { return .tcpReservedBits }
        return nil
    }

    /// Whether every TCP option is well formed, by `TCPOptionIterator`'s rules
    /// (RFC 9293 §3.2): a kind other than EOL and NOP has a length byte of at
    /// least 2 that stays inside the area, and MSS, window scale, SACK
    /// permitted, SACK and timestamps have their RFC sizes. Written out rather
    /// than driving the iterator, which builds an enum per option: `inspect`
    /// of a Linux SYN (five options) takes ~17 ns this way against ~29 ns
    /// with the iterator (release build, 2-vCPU VM). A test checks that both
    /// agree on random option areas.
    static func optionsAreValid(_ options: UnsafeRawBufferPointer) -> Bool {
        let end = options.count
        if end == 12, UInt32(bigEndian: options.loadUnaligned(as: UInt32.self)) == usualTimestampOptions {
            return true
        }
        var offset = 0
        while offset < end {
            let kind = options[offset]
            if kind == TCPOptionKind.endOfOptionList { return true }
            if kind == TCPOptionKind.noOperation {
                offset += 1
                continue
            }
            guard offset + 1 < end else { return false }
            let length = Int(options[offset + 1])
            guard length >= 2, offset + length <= end else { return false }
            switch kind {
            case TCPOptionKind.maximumSegmentSize: guard length == 4 else { return false }
            case TCPOptionKind.windowScale: guard length == 3 else { return false }
            case TCPOptionKind.sackPermitted: guard length == 2 else { return false }
            case TCPOptionKind.sack: guard length >= 10, (length - 2) % 8 == 0 else { return false }
            case TCPOptionKind.timestamps: guard length == 10 else { return false }
            default: break
            }
            offset += length
        }
        return true
    }

    /// TCP option kinds with a fixed size (IANA "TCP Option Kind Numbers").
    enum TCPOptionKind {
        static let endOfOptionList: UInt8 = 0
        static let noOperation: UInt8 = 1
        static let maximumSegmentSize: UInt8 = 2  // RFC 9293 §3.2
        static let windowScale: UInt8 = 3  // RFC 7323 §2.2
        static let sackPermitted: UInt8 = 4  // RFC 2018 §2
        static let sack: UInt8 = 5  // RFC 2018 §3
        static let timestamps: UInt8 = 8  // RFC 7323 §3.2
    }

    /// ICMP message types this detector looks at (RFC 792, RFC 950, RFC 4443, RFC 4861).
    enum ICMPType {
        static let addressMaskRequest: UInt8 = 17
    }

    /// Type anomalies of a parsed, unfragmented ICMP or ICMPv6 message.
    func icmpAnomaly(_ p: PacketSummary, fromOutside: Bool) -> AnomalyID? {
        let type = p.icmpType
        let isEcho: Bool
        if p.ipVersion == 4 {
            switch type {
            case ICMPv4Type.redirect: return fromOutside ? .icmpRedirectFromOutside : nil
            case ICMPv4Type.timestamp: return fromOutside ? .icmpTimestampFromOutside : nil
            case ICMPType.addressMaskRequest: return fromOutside ? .icmpAddressMaskFromOutside : nil
            default: isEcho = type == ICMPv4Type.echoRequest || type == ICMPv4Type.echoReply
            }
        } else {
            if type == ICMPv6Type.redirect { return fromOutside ? .icmpRedirectFromOutside : nil }
            isEcho = type == ICMPv6Type.echoRequest || type == ICMPv6Type.echoReply
        }
        // The declared length, so a capture cut short still counts the whole echo.
        if isEcho && p.ipLength - p.payloadOffset > config.largeEchoPayloadBytes { return .icmpLargeEcho }
        return nil
    }
}

// MARK: - Fragment table

/// The fragment ranges of recent datagrams, for overlap detection: a
/// set-associative cache of 8-way buckets, allocated once.
///
/// Each datagram (source, destination, identification and, for IPv4,
/// protocol: RFC 791 §3.2, RFC 8200 §4.5) keeps up to 8 fragment ranges as
/// they arrived. Ranges are not merged, so an exact retransmission (same
/// offset and length) is recognised as such; fragments beyond the 8th are
/// checked but not stored. A datagram is forgotten 30 s (the timeout) after
/// its first fragment, or when a new datagram needs its bucket and it is the
/// bucket's oldest. Every loss of state can only hide an overlap, never
/// invent one. The bucket hash is keyed per detector, so which datagrams
/// share a bucket cannot be chosen from outside; flooding a bucket costs as
/// many fragments as flooding any bounded table.
struct FragmentTable: Sendable {
    /// One datagram's identity and bookkeeping: 64 bytes.
    struct Slot {
        var source = IPAddress(v4: 0)
        var destination = IPAddress(v4: 0)
        var identification: UInt32 = 0
        var protocolNumber: UInt8 = 0
        var rangeCount: UInt8 = 0
        /// Free or expired when `<= now`.
        var expiresAtNanoseconds = Int64.min
    }

    static let ways = 8
    static let rangesPerDatagram = 8
    static let maximumCapacity = 1 << 20

    private var slots: [Slot]
    /// `rangesPerDatagram` (start, end) pairs per slot, fragment offsets in bytes.
    private var ranges: [UInt32]
    private let bucketMask: Int
    private let seed: UInt64
    private let timeoutNanoseconds: Int64

    init(capacity: Int, timeoutNanoseconds: Int64, seed: UInt64) {
        let wanted = min(max(capacity, 0), FragmentTable.maximumCapacity)
        var buckets = 0
        if wanted > 0 {
            buckets = 1
            while buckets * FragmentTable.ways < wanted { buckets <<= 1 }
        }
        slots = Array(repeating: Slot(), count: buckets * FragmentTable.ways)
        ranges = Array(repeating: 0, count: buckets * FragmentTable.ways * FragmentTable.rangesPerDatagram * 2)
        bucketMask = buckets - 1
        self.seed = seed
        self.timeoutNanoseconds = timeoutNanoseconds
    }

    var memoryBytes: Int {
        pageRounded(slots.count * MemoryLayout<Slot>.stride) + pageRounded(ranges.count * MemoryLayout<UInt32>.stride)
    }

    /// Records the fragment covering bytes `start..<end` of its datagram and
    /// returns whether it overlaps an earlier, different fragment of it.
    mutating func record(source: IPAddress, destination: IPAddress, identification: UInt32,
                         protocolNumber: UInt8, start: Int, end: Int, now: Int64) -> Bool {
        guard !slots.isEmpty, end > start else { return false }
        let low = UInt32(start), high = UInt32(end)  // both < 2^17
        var h = seed
        h = (h ^ source.high) &* 0x9e37_79b9_7f4a_7c15
        h = (h ^ source.low) &* 0x9e37_79b9_7f4a_7c15
        h = (h ^ destination.high) &* 0x9e37_79b9_7f4a_7c15
        h = (h ^ destination.low) &* 0x9e37_79b9_7f4a_7c15
        h = (h ^ (UInt64(identification) << 8 | UInt64(protocolNumber))) &* 0x9e37_79b9_7f4a_7c15
        let base = (Int(truncatingIfNeeded: h >> 32) & bucketMask) * FragmentTable.ways
        var victim = base
        var victimAge = Int64.max
        for i in base..<(base + FragmentTable.ways) {
            let slot = slots[i]
            guard slot.expiresAtNanoseconds > now else {
                if victimAge != Int64.min { victim = i; victimAge = Int64.min }
                continue
            }
            if slot.identification == identification && slot.protocolNumber == protocolNumber
                && slot.source == source && slot.destination == destination {
                return add(low, high, to: i)
            }
            if slot.expiresAtNanoseconds < victimAge { victim = i; victimAge = slot.expiresAtNanoseconds }
        }
        let expires = now > Int64.max - timeoutNanoseconds ? Int64.max : now + timeoutNanoseconds
        slots[victim] = Slot(source: source, destination: destination, identification: identification,
                             protocolNumber: protocolNumber, rangeCount: 0, expiresAtNanoseconds: expires)
        return add(low, high, to: victim)
    }

    /// Compares `low..<high` with the ranges of slot `index` and stores it
    /// when it is new and there is room.
    private mutating func add(_ low: UInt32, _ high: UInt32, to index: Int) -> Bool {
        let count = Int(slots[index].rangeCount)
        let first = index * FragmentTable.rangesPerDatagram * 2
        for r in 0..<count {
            let a = ranges[first + 2 * r], b = ranges[first + 2 * r + 1]
            if a == low && b == high { return false }  // a retransmission
            if low < b && a < high { return true }
        }
        if count < FragmentTable.rangesPerDatagram {
            ranges[first + 2 * count] = low
            ranges[first + 2 * count + 1] = high
            slots[index].rangeCount = UInt8(count + 1)
        }
        return false
    }
}
