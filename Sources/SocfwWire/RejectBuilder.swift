/// Builds the packet a firewall sends back for REJECT (used in bridge mode,
/// where socfwd writes it itself).
///
/// For a TCP segment: an RST as RFC 9293 §3.10.7.1 says (if the offending
/// segment has ACK: seq = its ack, flags RST; otherwise seq 0, ack = seq +
/// payload length + SYN + FIN, flags RST|ACK). Addresses and ports swapped,
/// TTL/hop limit 64, checksums correct. For anything else: ICMPv4 destination
/// unreachable code 13 (communication administratively prohibited, RFC 1812
/// §5.2.7.1) or ICMPv6 type 1 code 1 (RFC 4443 §3.1), quoting the original
/// (v4: as much as fits in 576 bytes, RFC 1812 §4.3.2.3; v6: as much as fits
/// in 1280, RFC 4443 §2.4(c)), source = the original destination.
///
/// Returns `nil` — sends nothing — where the RFCs forbid an answer or no
/// sensible one exists:
/// - the packet does not parse (`PacketParser` throws);
/// - it is a non-first fragment (RFC 1812 §4.3.2.7, RFC 4443 §2.4(e.4));
/// - it is an RST (RFC 9293 §3.10.7.1: an RST is never answered);
/// - it is an ICMP error, or an ICMPv6 error or redirect (RFC 1812 §4.3.2.7,
///   RFC 4443 §2.4(e.1, e.2));
/// - its destination is multicast, broadcast or unspecified, or its source
///   does not name a single host (unspecified, loopback, multicast, IPv4
///   class E / limited broadcast): RFC 1812 §4.3.2.7, RFC 4443 §2.4(e.3,
///   e.6). The reply's source would be that destination, and its
///   destination that source.
public enum RejectBuilder {
    /// Reply TTL / hop limit: the common host default (RFC 1700's 64).
    public static let replyTTL: UInt8 = 64

    /// RFC 1812 §4.3.2.3: an ICMPv4 error including its IP header should not exceed 576 bytes.
    public static let maximumICMPv4ReplyLength = 576

    /// RFC 4443 §2.4(c): an ICMPv6 error must not exceed the minimum IPv6 MTU.
    public static let maximumICMPv6ReplyLength = 1280

    /// The reply to `packet` (a whole L3 packet, first byte = IP version),
    /// as full L3 packet bytes, or `nil` when no reply may be sent.
    /// Allocates the result: REJECT is not the hot path.
    public static func reply(to packet: UnsafeRawBufferPointer) -> [UInt8]? {
        reply(to: packet, wireLength: nil)
    }

    /// `reply(to:)` for a buffer holding only the start of a packet whose
    /// length on the wire was `wireLength` (NFQUEUE copy range). The RST's
    /// acknowledgement number uses the wire length; ICMP quotes what is present.
    public static func reply(to packet: UnsafeRawBufferPointer, wireLength: Int?) -> [UInt8]? {
        var summary = PacketSummary()
        do {
            try PacketParser.parse(packet, wireLength: wireLength, into: &summary)
        } catch {
            return nil
        }
        guard summary.fragmentOffset == 0,
              isSingleHost(summary.source),
              isSingleHost(summary.destination)
        else { return nil }
        let isV6 = summary.ipVersion == 6
        switch summary.l4Protocol {
        case IPProtocolNumber.tcp where summary.l4Parsed:
            guard !summary.tcpFlags.contains(.rst) else { return nil }
            return tcpReset(answering: summary)
        case IPProtocolNumber.icmp where !isV6 && summary.l4Parsed:
            guard !ICMPv4Type.isError(summary.icmpType) else { return nil }
        case IPProtocolNumber.icmpv6 where isV6 && summary.l4Parsed:
            guard !ICMPv6Type.isError(summary.icmpType), summary.icmpType != ICMPv6Type.redirect else { return nil }
        default:
            break
        }
        // The quote ends where the datagram does: link-layer padding is not part of it.
        let present = UnsafeRawBufferPointer(rebasing: packet[0..<min(summary.ipLength, packet.count)])
        return isV6 ? icmpv6Unreachable(answering: summary, quoting: present)
                    : icmpv4Unreachable(answering: summary, quoting: present)
    }

    /// Whether `address` may be the source or destination of a reply: a
    /// single unicast host.
    static func isSingleHost(_ address: IPAddress) -> Bool {
        if address.isV6 {
            if address.high == 0 && (address.low == 0 || address.low == 1) { return false }  // ::, ::1
            if address.high >> 56 == 0xff { return false }  // ff00::/8 multicast
            return true
        }
        let first = address.v4 >> 24
        if first == 0 || first == 127 { return false }  // "this network", loopback
        if first >= 224 { return false }  // multicast, class E, 255.255.255.255
        return true
    }

    private static func tcpReset(answering original: PacketSummary) -> [UInt8] {
        // SEG.LEN counts the payload on the wire plus SYN and FIN (RFC 9293 §3.4). For a first
        // fragment only this fragment's payload is known; that matters only for a fragmented
        // segment without ACK, which real stacks do not send.
        var segmentLength = UInt32(truncatingIfNeeded: original.ipLength - original.payloadOffset)
        if original.tcpFlags.contains(.syn) { segmentLength &+= 1 }
        if original.tcpFlags.contains(.fin) { segmentLength &+= 1 }
        let sequence: UInt32
        let acknowledgement: UInt32
        let flags: TCPFlags
        if original.tcpFlags.contains(.ack) {
            sequence = original.tcpAcknowledgement
            acknowledgement = 0
            flags = .rst
        } else {
            sequence = 0
            acknowledgement = original.tcpSequence &+ segmentLength
            flags = [.rst, .ack]
        }
        let ipHeaderLength = original.ipVersion == 6 ? IPv6Packet.headerLength : IPv4Packet.minimumHeaderLength
        let tcpLength = TCPSegment.minimumHeaderLength
        var reply = [UInt8](repeating: 0, count: ipHeaderLength + tcpLength)
        reply.withUnsafeMutableBytes { buffer in
            let source = original.destination
            let destination = original.source
            emitIPHeader(into: buffer, ipVersion: original.ipVersion, source: source, destination: destination,
                         protocolNumber: IPProtocolNumber.tcp, payloadLength: tcpLength, dontFragment: true)
            let segment = UnsafeMutableRawBufferPointer(rebasing: buffer[ipHeaderLength...])
            TCPSegment.emitHeader(into: segment, sourcePort: original.destinationPort,
                                  destinationPort: original.sourcePort, sequenceNumber: sequence,
                                  acknowledgementNumber: acknowledgement, flags: flags, window: 0)
            TCPSegment.fillChecksum(in: segment, source: source, destination: destination)
        }
        return reply
    }

    private static func icmpv4Unreachable(answering original: PacketSummary,
                                          quoting quote: UnsafeRawBufferPointer) -> [UInt8] {
        let headers = IPv4Packet.minimumHeaderLength + ICMPv4Message.headerLength
        let quoted = min(quote.count, maximumICMPv4ReplyLength - headers)
        var reply = [UInt8](repeating: 0, count: headers + quoted)
        reply.withUnsafeMutableBytes { buffer in
            // DF clear: a 576-byte error must still get through links with a smaller MTU.
            IPv4Packet.emitHeader(into: buffer, source: original.destination, destination: original.source,
                                  protocolNumber: IPProtocolNumber.icmp,
                                  payloadLength: ICMPv4Message.headerLength + quoted,
                                  ttl: replyTTL, dontFragment: false)
            let message = UnsafeMutableRawBufferPointer(rebasing: buffer[IPv4Packet.minimumHeaderLength...])
            ICMPv4Message.emitHeader(into: message, type: ICMPv4Type.destinationUnreachable,
                                     code: ICMPv4UnreachableCode.communicationAdministrativelyProhibited)
            UnsafeMutableRawBufferPointer(rebasing: message[ICMPv4Message.headerLength...])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: quote[0..<quoted]))
            ICMPv4Message.fillChecksum(in: message)
        }
        return reply
    }

    private static func icmpv6Unreachable(answering original: PacketSummary,
                                          quoting quote: UnsafeRawBufferPointer) -> [UInt8] {
        let headers = IPv6Packet.headerLength + ICMPv6Message.headerLength
        let quoted = min(quote.count, maximumICMPv6ReplyLength - headers)
        var reply = [UInt8](repeating: 0, count: headers + quoted)
        reply.withUnsafeMutableBytes { buffer in
            let source = original.destination
            let destination = original.source
            IPv6Packet.emitHeader(into: buffer, source: source, destination: destination,
                                  nextHeader: IPProtocolNumber.icmpv6,
                                  payloadLength: ICMPv6Message.headerLength + quoted, hopLimit: replyTTL)
            let message = UnsafeMutableRawBufferPointer(rebasing: buffer[IPv6Packet.headerLength...])
            ICMPv6Message.emitHeader(into: message, type: ICMPv6Type.destinationUnreachable,
                                     code: ICMPv6UnreachableCode.administrativelyProhibited)
            UnsafeMutableRawBufferPointer(rebasing: message[ICMPv6Message.headerLength...])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: quote[0..<quoted]))
            ICMPv6Message.fillChecksum(in: message, source: source, destination: destination)
        }
        return reply
    }

    private static func emitIPHeader(into buffer: UnsafeMutableRawBufferPointer, ipVersion: UInt8,
                                     source: IPAddress, destination: IPAddress, protocolNumber: UInt8,
                                     payloadLength: Int, dontFragment: Bool) {
        if ipVersion == 6 {
            IPv6Packet.emitHeader(into: buffer, source: source, destination: destination,
                                  nextHeader: protocolNumber, payloadLength: payloadLength, hopLimit: replyTTL)
        } else {
            IPv4Packet.emitHeader(into: buffer, source: source, destination: destination,
                                  protocolNumber: protocolNumber, payloadLength: payloadLength,
                                  ttl: replyTTL, dontFragment: dontFragment)
        }
    }
}
