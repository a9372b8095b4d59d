/// A read-only view of an IPv6 packet (RFC 8200 §3) over borrowed bytes.
///
/// Invariants established by `init(checking:wireLength:)`:
/// - `bytes` starts at the IPv6 header, the version is 6 and the 40-byte fixed
///   header is present;
/// - `40 + payloadLength` does not exceed the packet's length on the wire;
/// - `bytes` is trimmed to `min(40 + payloadLength, buffer length)`.
///
/// Extension headers are not validated by the initializer; call
/// `walkExtensionHeaders()` (the `PacketParser` does).
///
/// The view borrows the memory it was created from and copies nothing: it must
/// not outlive that buffer, and is not `Sendable` for that reason.
public struct IPv6Packet {
    /// Field offsets of the fixed header (RFC 8200 §3).
    enum Field {
        static let versionClassAndFlow = 0..<4
        static let payloadLength = 4..<6
        static let nextHeader = 6
        static let hopLimit = 7
        static let sourceAddress = 8..<24
        static let destinationAddress = 24..<40
    }

    /// The fixed header length.
    public static let headerLength = 40

    /// How many extension headers `walkExtensionHeaders()` accepts before
    /// giving up with `.extensionChainTooLong`.
    public static let extensionHeaderLimit = 8

    /// The packet's bytes: fixed header, extension headers and as much of the
    /// payload as the buffer holds, never past `40 + payloadLength`.
    public let bytes: UnsafeRawBufferPointer

    /// Validates `bytes` as an IPv6 packet and creates a view over it.
    ///
    /// - Parameters:
    ///   - bytes: starts at the IPv6 header. Must stay valid while the view is used.
    ///   - wireLength: the packet's length on the wire when `bytes` holds only
    ///     its beginning; `nil` means `bytes` is the whole packet. Values below
    ///     `bytes.count` are taken as `bytes.count`.
    /// - Throws: `.truncated(.ipv6, …)` when the fixed header is not all
    ///   present, `.badVersion` when the version is not 6, `.badTotalLength`
    ///   when `40 + payloadLength` exceeds the wire length. A payload length of
    ///   zero is accepted as an empty payload (Jumbo Payload, RFC 2675, is not
    ///   supported: such packets do not cross a firewall's MTU).
    public init(checking bytes: UnsafeRawBufferPointer, wireLength: Int? = nil) throws(WireError) {
        let available = bytes.count
        guard available > 0 else {
            throw .truncated(layer: .ipv6, needed: IPv6Packet.headerLength, available: 0)
        }
        let version = bytes.wireU8(0) >> 4
        guard version == 6 else { throw .badVersion(version) }
        guard available >= IPv6Packet.headerLength else {
            throw .truncated(layer: .ipv6, needed: IPv6Packet.headerLength, available: available)
        }
        let onWire = max(wireLength ?? available, available)
        let declared = IPv6Packet.headerLength + Int(bytes.wireU16(Field.payloadLength.lowerBound))
        guard declared <= onWire else {
            throw .badTotalLength(layer: .ipv6, declared: declared, available: onWire)
        }
        self.bytes = bytes.wireSlice(0..<min(declared, available))
    }

    /// Creates a view without validation.
    ///
    /// - Precondition: `bytes` satisfies every invariant listed on the type.
    public init(uncheckedBytes bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The version nibble; always 6 for a checked view.
    public var version: UInt8 { bytes.wireU8(0) >> 4 }

    /// The Traffic Class byte (DSCP in the high 6 bits, ECN in the low 2).
    public var trafficClass: UInt8 {
        UInt8(truncatingIfNeeded: bytes.wireU32(Field.versionClassAndFlow.lowerBound) >> 20)
    }

    /// Differentiated Services code point (RFC 2474).
    public var dscp: UInt8 { trafficClass >> 2 }

    /// Explicit Congestion Notification bits (RFC 3168), 0...3.
    public var ecn: UInt8 { trafficClass & 0x03 }

    /// The 20-bit flow label (RFC 6437).
    public var flowLabel: UInt32 { bytes.wireU32(Field.versionClassAndFlow.lowerBound) & 0x000f_ffff }

    /// The declared length of everything after the fixed header, extension
    /// headers included. May exceed what the buffer holds for a truncated capture.
    public var payloadLength: Int { Int(bytes.wireU16(Field.payloadLength.lowerBound)) }

    /// The type of the header after the fixed header (an extension header or
    /// the upper-layer protocol).
    public var nextHeader: UInt8 { bytes.wireU8(Field.nextHeader) }

    /// The hop limit.
    public var hopLimit: UInt8 { bytes.wireU8(Field.hopLimit) }

    /// The source address (an IPv6 `IPAddress`).
    public var source: IPAddress { bytes.wireIPv6Address(Field.sourceAddress.lowerBound) }

    /// The destination address (an IPv6 `IPAddress`).
    public var destination: IPAddress { bytes.wireIPv6Address(Field.destinationAddress.lowerBound) }

    /// Everything after the fixed header that the buffer holds (extension
    /// headers included), never past `40 + payloadLength`.
    public var payload: UnsafeRawBufferPointer { bytes.wireSlice(from: IPv6Packet.headerLength) }

    /// Whether the buffer holds less than `40 + payloadLength` bytes.
    public var isTruncated: Bool { bytes.count < IPv6Packet.headerLength + payloadLength }

    /// Walks the extension header chain (RFC 8200 §4) to the upper-layer header.
    ///
    /// Hop-by-hop, routing, fragment, destination options, AH, mobility, HIP,
    /// shim6 and the RFC 3692 experimental values are stepped over. The walk
    /// stops at ESP (opaque), No Next Header, any other value (the upper
    /// layer), and after a fragment header with a non-zero offset (what follows
    /// is the middle of the original payload, not a header).
    ///
    /// - Throws: `.truncated(.ipv6, …)` when a header runs past the bytes
    ///   present (`needed` and `available` count from the start of the IPv6
    ///   header), `.extensionChainTooLong` past `extensionHeaderLimit`
    ///   headers, `.badExtensionHeader` for hop-by-hop options anywhere but
    ///   first or a second fragment header (RFC 8200 §4.1).
    public func walkExtensionHeaders() throws(WireError) -> IPv6ExtensionHeaderChain {
        var chain = IPv6ExtensionHeaderChain()
        var next = nextHeader
        var offset = IPv6Packet.headerLength
        let end = bytes.count
        while IPProtocolNumber.isIPv6ExtensionHeader(next) {
            if next == IPProtocolNumber.hopByHop && offset != IPv6Packet.headerLength {
                throw .badExtensionHeader(nextHeader: next)
            }
            if next == IPProtocolNumber.fragment && chain.hasFragmentHeader {
                throw .badExtensionHeader(nextHeader: next)
            }
            guard chain.headerCount < IPv6Packet.extensionHeaderLimit else {
                throw .extensionChainTooLong(limit: IPv6Packet.extensionHeaderLimit)
            }
            // Every extension header starts with Next Header and a length byte.
            guard offset + ExtensionField.minimumLength <= end else {
                throw .truncated(layer: .ipv6, needed: offset + ExtensionField.minimumLength, available: end)
            }
            let length: Int
            switch next {
            case IPProtocolNumber.fragment:
                // RFC 8200 §4.5: fixed 8 bytes; the second byte is reserved, not a length.
                length = FragmentField.length
            case IPProtocolNumber.ah:
                // RFC 4302 §2.2: Payload Len counts 4-octet units, minus 2.
                length = (Int(bytes.wireU8(offset + ExtensionField.length)) + 2) * 4
            default:
                // RFC 8200 §4.3-4.6: Hdr Ext Len counts 8-octet units, not including the first 8.
                length = (Int(bytes.wireU8(offset + ExtensionField.length)) + 1) * 8
            }
            guard offset + length <= end else {
                throw .truncated(layer: .ipv6, needed: offset + length, available: end)
            }
            let following = bytes.wireU8(offset + ExtensionField.nextHeader)
            chain.headerCount += 1
            switch next {
            case IPProtocolNumber.fragment:
                let word = bytes.wireU16(offset + FragmentField.offsetAndFlags)
                chain.hasFragmentHeader = true
                chain.fragmentOffset = Int(word >> 3) * 8
                chain.moreFragments = word & 0x0001 != 0
                chain.fragmentIdentification = bytes.wireU32(offset + FragmentField.identification)
            case IPProtocolNumber.routing:
                chain.hasRoutingHeader = true
                chain.routingType = bytes.wireU8(offset + RoutingField.routingType)
            default:
                break
            }
            next = following
            offset += length
            if chain.hasFragmentHeader && chain.fragmentOffset != 0 {
                break
            }
        }
        chain.upperLayerProtocol = next
        chain.upperLayerOffset = offset
        return chain
    }

    /// Offsets common to every extension header (RFC 8200 §4).
    enum ExtensionField {
        static let nextHeader = 0
        static let length = 1
        static let minimumLength = 8
    }

    /// Offsets in the fragment header (RFC 8200 §4.5).
    enum FragmentField {
        static let offsetAndFlags = 2
        static let identification = 4
        static let length = 8
    }

    /// Offsets in the routing header (RFC 8200 §4.4).
    enum RoutingField {
        static let routingType = 2
    }

    /// Writes a 40-byte IPv6 header at the start of `buffer`.
    ///
    /// - Parameters:
    ///   - buffer: at least 40 bytes.
    ///   - source, destination: IPv6 addresses.
    ///   - payloadLength: bytes following the header, at most 65535.
    /// - Precondition: the constraints above; violating them is a programming error.
    public static func emitHeader(into buffer: UnsafeMutableRawBufferPointer,
                                  source: IPAddress, destination: IPAddress,
                                  nextHeader: UInt8, payloadLength: Int,
                                  hopLimit: UInt8 = 64, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0) {
        precondition(buffer.count >= headerLength, "IPv6 header needs 40 bytes")
        precondition(source.isV6 && destination.isV6, "IPv6 header needs IPv6 addresses")
        precondition(payloadLength >= 0 && payloadLength <= Int(UInt16.max), "IPv6 payload length out of range")
        let word = UInt32(6) << 28 | UInt32(trafficClass) << 20 | flowLabel & 0x000f_ffff
        buffer.wireStore(word, at: Field.versionClassAndFlow.lowerBound)
        buffer.wireStore(UInt16(payloadLength), at: Field.payloadLength.lowerBound)
        buffer.wireStore(nextHeader, at: Field.nextHeader)
        buffer.wireStore(hopLimit, at: Field.hopLimit)
        buffer.wireStore(source, at: Field.sourceAddress.lowerBound)
        buffer.wireStore(destination, at: Field.destinationAddress.lowerBound)
    }
}

@available(*, unavailable, message: "a view borrows its buffer; send a PacketSummary instead")
extension IPv6Packet: Sendable {}

/// What `IPv6Packet.walkExtensionHeaders()` found between the fixed header and
/// the upper-layer header. A plain value.
public struct IPv6ExtensionHeaderChain: Sendable, Equatable {
    /// The first Next Header value that is not a walked extension header: the
    /// upper-layer protocol, ESP (50), No Next Header (59), or — after a
    /// non-first fragment — the fragment header's Next Header.
    public var upperLayerProtocol: UInt8 = 0
    /// Offset of the upper-layer header from the start of the IPv6 header;
    /// at most the view's `bytes.count`.
    public var upperLayerOffset: Int = IPv6Packet.headerLength
    /// How many extension headers were stepped over.
    public var headerCount: Int = 0
    /// Whether a fragment header was seen (atomic fragments, RFC 6946, included).
    public var hasFragmentHeader: Bool = false
    /// The fragment offset in bytes; 0 without a fragment header.
    public var fragmentOffset: Int = 0
    /// The fragment header's M flag.
    public var moreFragments: Bool = false
    /// The fragment header's Identification.
    public var fragmentIdentification: UInt32 = 0
    /// Whether a routing header was seen.
    public var hasRoutingHeader: Bool = false
    /// The last routing header's Routing Type (type 0 is deprecated by RFC 5095).
    public var routingType: UInt8 = 0

    /// An empty chain: upper layer right after the fixed header.
    public init() {}
}
