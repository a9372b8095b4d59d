/// Link-layer header types (tcpdump.org linktypes list, `LINKTYPE_*`).
///
/// These are the values stored in files; they differ on some platforms from
/// the `DLT_*` values a live capture reports, which libpcap maps to these
/// before writing.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `LINKTYPE_*` number.
    public var rawValue: UInt32

    /// Wraps any `LINKTYPE_*` number, known to this module or not.
    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `LINKTYPE_NULL` (0): BSD loopback, a 4-byte `AF_` value in the
    /// capturing host's byte order.
    public static let null = LinkType(rawValue: 0)
    /// `LINKTYPE_ETHERNET` (1): IEEE 802.3 Ethernet.
    public static let ethernet = LinkType(rawValue: 1)
    /// `LINKTYPE_RAW` (101): raw IP, version in the first nibble.
    public static let raw = LinkType(rawValue: 101)
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, a 4-byte big-endian `AF_` value.
    public static let loop = LinkType(rawValue: 108)
    /// `LINKTYPE_LINUX_SLL` (113): Linux "cooked" capture v1, 16-byte header.
    public static let linuxSLL = LinkType(rawValue: 113)
    /// `LINKTYPE_IPV4` (228): raw IPv4 only.
    public static let ipv4 = LinkType(rawValue: 228)
    /// `LINKTYPE_IPV6` (229): raw IPv6 only.
    public static let ipv6 = LinkType(rawValue: 229)
    /// `LINKTYPE_LINUX_SLL2` (276): Linux "cooked" capture v2, 20-byte header.
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// The tcpdump name for the known types (`EN10MB`, `LINUX_SLL`, ...),
    /// otherwise the number.
    public var description: String {
        switch self {
        case .null: return "NULL"
        case .ethernet: return "EN10MB"
        case .raw: return "RAW"
        case .loop: return "LOOP"
        case .linuxSLL: return "LINUX_SLL"
        case .ipv4: return "IPV4"
        case .ipv6: return "IPV6"
        case .linuxSLL2: return "LINUX_SLL2"
        default: return "linktype \(rawValue)"
        }
    }
}

/// Where the network-layer (IP) header starts in a frame, and its version.
public struct NetworkLayer: Equatable, Sendable {
    /// Byte offset of the IP header from the start of the frame.
    public var offset: Int
    /// 4 or 6.
    public var ipVersion: UInt8

    /// A network layer at `offset` carrying IP version `ipVersion` (4 or 6).
    @inlinable
    public init(offset: Int, ipVersion: UInt8) {
        self.offset = offset
        self.ipVersion = ipVersion
    }
}

/// Finds the IP header inside a captured frame for the link types socfw sees
/// in practice. Pure offset arithmetic over the frame: no allocation.
public enum LinkLayer {
    // Ethernet (IEEE 802.3): destination MAC, source MAC, EtherType.
    static let ethernetTypeOffset = 12
    static let ethernetHeaderLength = 14
    static let etherTypeLength = 2
    // Each 802.1Q / 802.1ad tag is a 2-byte TPID (in the EtherType slot)
    // plus a 2-byte TCI; the real EtherType follows the last tag.
    static let vlanTagLength = 4
    // Real traffic carries one or two tags (QinQ); the bound stops a frame of
    // repeated 0x8100 from being walked to its end.
    static let maximumVLANTags = 4

    // Linux cooked v1 (tcpdump.org LINKTYPE_LINUX_SLL): packet type, ARPHRD
    // type, address length, 8-byte address, then the protocol (EtherType).
    static let sllProtocolOffset = 14
    static let sllHeaderLength = 16
    // Linux cooked v2 (LINKTYPE_LINUX_SLL2): the protocol comes first.
    static let sll2ProtocolOffset = 0
    static let sll2HeaderLength = 20
    // BSD/OpenBSD loopback: a 32-bit address family, nothing else.
    static let loopbackHeaderLength = 4

    static let etherTypeIPv4: UInt16 = 0x0800
    static let etherTypeIPv6: UInt16 = 0x86DD
    static let etherTypeVLAN: UInt16 = 0x8100  // IEEE 802.1Q
    static let etherTypeQinQ: UInt16 = 0x88A8  // IEEE 802.1ad service tag
    static let etherTypeQinQLegacy: UInt16 = 0x9100  // pre-802.1ad QinQ, still in the wild

    // The IP version is the top nibble of the first byte (RFC 791, RFC 8200).
    static let versionShift: UInt8 = 4

    static let addressFamilyINET: UInt32 = 2
    // AF_INET6 differs per OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28,
    // Darwin 30 (tcpdump.org LINKTYPE_NULL notes).
    static func isAddressFamilyINET6(_ value: UInt32) -> Bool {
        value == 10 || value == 24 || value == 28 || value == 30
    }

    /// Where the network layer starts in a frame and what it is: for ethernet (skip any number of 802.1Q/802.1ad VLAN tags, bound 4),
    /// linuxSLL (16-byte header, protocol at 14), linuxSLL2 (20-byte, protocol at 0), raw/ipv4/ipv6 (offset 0, version from the first
    /// nibble), null/loop (4-byte AF_ header; AF_INET 2, AF_INET6 10/24/28/30 in either byte order).
    /// Returns nil when the frame is not IPv4/IPv6 (ARP, LLDP, ...) or too short — the caller counts those as non-IP.
    ///
    /// "Too short" means the link-layer header is incomplete or no byte of
    /// the network layer is present; the IP header itself is left for the
    /// IP parser to validate, so truncated IP is reported as malformed IP
    /// rather than as non-IP. Cooked (SLL/SLL2) frames whose protocol is a
    /// VLAN TPID carry the tag's TCI and inner EtherType after the cooked
    /// header; those are skipped too.
    public static func networkLayer(of frame: UnsafeRawBufferPointer, linkType: LinkType) -> NetworkLayer? {
        switch linkType {
        case .ethernet:
            guard frame.count >= ethernetHeaderLength else { return nil }
            let etherType = loadBigEndianUInt16(frame, ethernetTypeOffset)
            return skippingVLANTags(in: frame, etherType: etherType, typeOffset: ethernetTypeOffset)
        case .linuxSLL:
            guard frame.count >= sllHeaderLength else { return nil }
            let protocolType = loadBigEndianUInt16(frame, sllProtocolOffset)
            return skippingVLANTags(in: frame, etherType: protocolType, typeOffset: sllProtocolOffset)
        case .linuxSLL2:
            guard frame.count >= sll2HeaderLength else { return nil }
            // The protocol sits at the front, but what follows the header is
            // laid out as if it were the header's last two bytes: a VLAN
            // TCI and inner EtherType come right after byte 20.
            let protocolType = loadBigEndianUInt16(frame, sll2ProtocolOffset)
            return skippingVLANTags(in: frame, etherType: protocolType, typeOffset: sll2HeaderLength - etherTypeLength)
        case .raw:
            return fromVersionNibble(frame, requiring: nil)
        case .ipv4:
            return fromVersionNibble(frame, requiring: 4)
        case .ipv6:
            return fromVersionNibble(frame, requiring: 6)
        case .null, .loop:
            guard frame.count > loopbackHeaderLength else { return nil }
            // LINKTYPE_NULL is in the capturing host's order, LINKTYPE_LOOP
            // is big-endian but some writers got it wrong: accept both orders.
            let raw = frame.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
            let little = UInt32(littleEndian: raw)
            let big = UInt32(bigEndian: raw)
            if little == addressFamilyINET || big == addressFamilyINET {
                return NetworkLayer(offset: loopbackHeaderLength, ipVersion: 4)
            }
            if isAddressFamilyINET6(little) || isAddressFamilyINET6(big) {
                return NetworkLayer(offset: loopbackHeaderLength, ipVersion: 6)
            }
            return nil
        default:
            return nil
        }
    }

    @inline(__always)
    static func loadBigEndianUInt16(_ frame: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bigEndian: frame.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    static func isVLAN(_ etherType: UInt16) -> Bool {
        etherType == etherTypeVLAN || etherType == etherTypeQinQ || etherType == etherTypeQinQLegacy
    }

    /// `etherType` is the EtherType that ends at `typeOffset + 2`. While it
    /// is a VLAN TPID, a 2-byte TCI and the next EtherType follow; the
    /// network layer starts after the last EtherType.
    static func skippingVLANTags(in frame: UnsafeRawBufferPointer, etherType: UInt16, typeOffset: Int) -> NetworkLayer? {
        var etherType = etherType
        var typeOffset = typeOffset
        var tags = 0
        while isVLAN(etherType) {
            tags += 1
            guard tags <= maximumVLANTags else { return nil }
            typeOffset += vlanTagLength
            guard typeOffset + etherTypeLength <= frame.count else { return nil }
            etherType = loadBigEndianUInt16(frame, typeOffset)
        }
        let offset = typeOffset + etherTypeLength
        guard offset < frame.count else { return nil }
        switch etherType {
        case etherTypeIPv4: return NetworkLayer(offset: offset, ipVersion: 4)
        case etherTypeIPv6: return NetworkLayer(offset: offset, ipVersion: 6)
        default: return nil
        }
    }

    /// Raw IP at offset 0; `requiring` nil accepts either version.
    @inline(__always)
    static func fromVersionNibble(_ frame: UnsafeRawBufferPointer, requiring: UInt8?) -> NetworkLayer? {
        guard !frame.isEmpty else { return nil }
        let version = frame[0] >> versionShift
        guard version == 4 || version == 6 else { return nil }
        if let requiring, requiring != version { return nil }
        return NetworkLayer(offset: 0, ipVersion: version)
    }
}
