/// IANA "Assigned Internet Protocol Numbers": the values of the IPv4 Protocol
/// and IPv6 Next Header fields that this module gives meaning to.
public enum IPProtocolNumber {
    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3); only valid first in the chain.
    public static let hopByHop: UInt8 = 0
    /// ICMP for IPv4 (RFC 792).
    public static let icmp: UInt8 = 1
    /// IGMP (RFC 3376).
    public static let igmp: UInt8 = 2
    /// IPv4 encapsulation (RFC 2003).
    public static let ipInIP: UInt8 = 4
    /// TCP (RFC 9293).
    public static let tcp: UInt8 = 6
    /// UDP (RFC 768).
    public static let udp: UInt8 = 17
    /// IPv6 encapsulation (RFC 2473).
    public static let ipv6InIP: UInt8 = 41
    /// IPv6 Routing header (RFC 8200 §4.4).
    public static let routing: UInt8 = 43
    /// IPv6 Fragment header (RFC 8200 §4.5).
    public static let fragment: UInt8 = 44
    /// GRE (RFC 2784).
    public static let gre: UInt8 = 47
    /// Encapsulating Security Payload (RFC 4303): opaque, ends header parsing.
    public static let esp: UInt8 = 50
    /// Authentication Header (RFC 4302).
    public static let ah: UInt8 = 51
    /// ICMP for IPv6 (RFC 4443).
    public static let icmpv6: UInt8 = 58
    /// IPv6 No Next Header (RFC 8200 §4.7): nothing follows.
    public static let noNextHeader: UInt8 = 59
    /// IPv6 Destination Options (RFC 8200 §4.6).
    public static let destinationOptions: UInt8 = 60
    /// SCTP (RFC 9260).
    public static let sctp: UInt8 = 132
    /// Mobility header (RFC 6275 §6.1).
    public static let mobility: UInt8 = 135
    /// UDP-Lite (RFC 3828).
    public static let udpLite: UInt8 = 136
    /// Host Identity Protocol (RFC 7401).
    public static let hip: UInt8 = 139
    /// Shim6 (RFC 5533).
    public static let shim6: UInt8 = 140
    /// Reserved for experimentation (RFC 3692); RFC 7045 lets them be used
    /// as extension headers, so they are walked as such.
    public static let experimental1: UInt8 = 253
    /// Reserved for experimentation (RFC 3692).
    public static let experimental2: UInt8 = 254

    /// Whether `value` names an IPv6 extension header that the chain walker
    /// steps over (RFC 8200 §4, RFC 7045 §2). ESP is not included: its
    /// contents are encrypted, so the walk stops there.
    @inlinable
    public static func isIPv6ExtensionHeader(_ value: UInt8) -> Bool {
        switch value {
        case 0, 43, 44, 51, 60, 135, 139, 140, 253, 254: return true
        default: return false
        }
    }
}
