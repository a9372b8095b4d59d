/// The protocol layer a `WireError` refers to.
///
/// The raw value is the stable prefix of the error's counter name.
public enum WireLayer: String, Sendable, CaseIterable {
    /// The IPv4 header and options.
    case ipv4
    /// The IPv6 fixed header and extension header chain.
    case ipv6
    /// The TCP header and options.
    case tcp
    /// The UDP header.
    case udp
    /// The ICMP (for IPv4) header.
    case icmp
    /// The ICMPv6 header.
    case icmpv6
}

/// Why a buffer is not a well-formed packet.
///
/// Every failure the wire layer reports is one of these cases; none carries a
/// reference or a string, so building one never allocates and it can be thrown
/// on the hot path. Offsets and lengths are in bytes.
public enum WireError: Error, Equatable, Sendable {
    /// The buffer ends before a header of `layer` does: `needed` bytes were
    /// required (counted from the start of that layer's header) but only
    /// `available` are present.
    case truncated(layer: WireLayer, needed: Int, available: Int)
    /// The IP version nibble is neither 4 nor 6 (or not the version the view
    /// expects). Carries the nibble.
    case badVersion(UInt8)
    /// A header-length field declares fewer bytes than the fixed header
    /// (IPv4 IHL < 5, TCP data offset < 5, UDP length < 8). `value` is the
    /// declared length in bytes.
    case badHeaderLength(layer: WireLayer, value: Int)
    /// A total-length field is inconsistent: smaller than the header, or larger
    /// than the bytes that existed on the wire (`available`).
    case badTotalLength(layer: WireLayer, declared: Int, available: Int)
    /// An IPv6 packet carries more than `limit` extension headers. Legitimate
    /// traffic uses a handful (RFC 8200 §4.1 lists the usual order of at most
    /// seven); long chains are an evasion technique (RFC 7112).
    case extensionChainTooLong(limit: Int)
    /// An IPv6 extension header appears where RFC 8200 §4.1 forbids it:
    /// hop-by-hop options anywhere but first, or a second fragment header.
    case badExtensionHeader(nextHeader: UInt8)
    /// The options of `layer` are malformed: an option length runs past the
    /// option area, is shorter than two bytes, or does not match the fixed
    /// size its kind requires.
    case badOptions(layer: WireLayer)

    /// Stable snake_case id used as a counter name, e.g. "ipv4_truncated",
    /// "tcp_bad_header_length".
    ///
    /// Always one of `WireError.allCounterNames`; returns string literals only,
    /// so it never allocates.
    public var counterName: String {
        switch self {
        case .truncated(let layer, _, _):
            switch layer {
            case .ipv4: return "ipv4_truncated"
            case .ipv6: return "ipv6_truncated"
            case .tcp: return "tcp_truncated"
            case .udp: return "udp_truncated"
            case .icmp: return "icmp_truncated"
            case .icmpv6: return "icmpv6_truncated"
            }
        case .badVersion:
            return "ip_bad_version"
        case .badHeaderLength(let layer, _):
            switch layer {
            case .ipv4: return "ipv4_bad_header_length"
            case .ipv6: return "ipv6_bad_header_length"
            case .tcp: return "tcp_bad_header_length"
            case .udp: return "udp_bad_header_length"
            case .icmp: return "icmp_bad_header_length"
            case .icmpv6: return "icmpv6_bad_header_length"
            }
        case .badTotalLength(let layer, _, _):
            switch layer {
            case .ipv4: return "ipv4_bad_total_length"
            case .ipv6: return "ipv6_bad_total_length"
            case .tcp: return "tcp_bad_total_length"
            case .udp: return "udp_bad_total_length"
            case .icmp: return "icmp_bad_total_length"
            case .icmpv6: return "icmpv6_bad_total_length"
            }
        case .extensionChainTooLong:
            return "ipv6_extension_chain_too_long"
        case .badExtensionHeader:
            return "ipv6_bad_extension_header"
        case .badOptions(let layer):
            switch layer {
            case .ipv4: return "ipv4_bad_options"
            case .ipv6: return "ipv6_bad_options"
            case .tcp: return "tcp_bad_options"
            case .udp: return "udp_bad_options"
            case .icmp: return "icmp_bad_options"
            case .icmpv6: return "icmpv6_bad_options"
            }
        }
    }

    /// Every value `counterName` can return, so metrics can be registered up
    /// front (a counter that is missing until its first error looks like an
    /// exporter bug on a dashboard).
    public static let allCounterNames: [String] = {
        var names: [String] = []
        for layer in WireLayer.allCases {
            names.append(WireError.truncated(layer: layer, needed: 0, available: 0).counterName)
            names.append(WireError.badHeaderLength(layer: layer, value: 0).counterName)
            names.append(WireError.badTotalLength(layer: layer, declared: 0, available: 0).counterName)
            names.append(WireError.badOptions(layer: layer).counterName)
        }
        names.append(WireError.badVersion(0).counterName)
        names.append(WireError.extensionChainTooLong(limit: 0).counterName)
        names.append(WireError.badExtensionHeader(nextHeader: 0).counterName)
        return names
    }()
}

extension WireError: CustomStringConvertible {
    /// A human-readable sentence for logs. Builds a string: not for the hot
    /// path (use `counterName` there).
    public var description: String {
        switch self {
        case .truncated(let layer, let needed, let available):
            return "\(layer.rawValue): truncated, needed \(needed) bytes, \(available) available"
        case .badVersion(let version):
            return "ip: bad version \(version)"
        case .badHeaderLength(let layer, let value):
            return "\(layer.rawValue): bad header length \(value)"
        case .badTotalLength(let layer, let declared, let available):
            return "\(layer.rawValue): bad total length \(declared), \(available) available"
        case .extensionChainTooLong(let limit):
            return "ipv6: more than \(limit) extension headers"
        case .badExtensionHeader(let nextHeader):
            return "ipv6: extension header \(nextHeader) not allowed here"
        case .badOptions(let layer):
            return "\(layer.rawValue): malformed options"
        }
    }
}
