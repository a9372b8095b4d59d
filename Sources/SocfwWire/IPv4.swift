/// A read-only view of an IPv4 packet (RFC 791 §3.1) over borrowed bytes.
///
/// Invariants established by `init(checking:wireLength:)` and relied on by
/// every getter (which therefore never fail and never re-check):
/// - `bytes` starts at the IPv4 header, the version is 4 and the whole header
///   (20 bytes plus options, `headerLength`) is present;
/// - `headerLength <= totalLength`, and `totalLength` does not exceed the
///   packet's length on the wire;
/// - `bytes` is trimmed to `min(totalLength, buffer length)`: link-layer
///   padding after the datagram is not part of the view, and a truncated
///   capture ends where the buffer ends.
///
/// The view borrows the memory it was created from and copies nothing: it must
/// not outlive that buffer. It is deliberately not `Sendable` for that reason;
/// send a `PacketSummary` across isolation domains instead.
public struct IPv4Packet {
    /// Field offsets of the fixed header (RFC 791 §3.1).
    enum Field {
        static let versionAndHeaderLength = 0
        static let dscpAndECN = 1
        static let totalLength = 2..<4
        static let identification = 4..<6
        static let flagsAndFragmentOffset = 6..<8
        static let ttl = 8
        static let protocolNumber = 9
        static let headerChecksum = 10..<12
        static let sourceAddress = 12..<16
        static let destinationAddress = 16..<20
        static let options = 20
    }

    /// Bits of the flags-and-fragment-offset word (RFC 791 §3.1 "Flags").
    enum FlagBits {
        static let reserved: UInt16 = 0x8000
        static let dontFragment: UInt16 = 0x4000
        static let moreFragments: UInt16 = 0x2000
        static let offsetMask: UInt16 = 0x1fff
    }

    /// The length of a header without options.
    public static let minimumHeaderLength = 20

    /// The packet's bytes: header, options and as much of the payload as the
    /// buffer holds, never past `totalLength`.
    public let bytes: UnsafeRawBufferPointer

    /// Validates `bytes` as an IPv4 packet and creates a view over it.
    ///
    /// - Parameters:
    ///   - bytes: starts at the IPv4 header. Must stay valid while the view is used.
    ///   - wireLength: the packet's length on the wire when `bytes` holds only
    ///     its beginning (NFQUEUE copy range, pcap snap length); `nil` means
    ///     `bytes` is the whole packet. Values below `bytes.count` are taken as
    ///     `bytes.count`.
    /// - Throws: `.truncated(.ipv4, …)` when the header is not all present,
    ///   `.badVersion` when the version is not 4, `.badHeaderLength` when
    ///   IHL < 5, `.badTotalLength` when the total length is smaller than the
    ///   header or larger than `wireLength`.
    public init(checking bytes: UnsafeRawBufferPointer, wireLength: Int? = nil) throws(WireError) {
        let available = bytes.count
        guard available > 0 else {
            throw .truncated(layer: .ipv4, needed: IPv4Packet.minimumHeaderLength, available: 0)
        }
        let first = bytes.wireU8(Field.versionAndHeaderLength)
        guard first >> 4 == 4 else { throw .badVersion(first >> 4) }
        guard available >= IPv4Packet.minimumHeaderLength else {
            throw .truncated(layer: .ipv4, needed: IPv4Packet.minimumHeaderLength, available: available)
        }
        let headerLength = Int(first & 0x0f) * 4
        guard headerLength >= IPv4Packet.minimumHeaderLength else {
            throw .badHeaderLength(layer: .ipv4, value: headerLength)
        }
        guard available >= headerLength else {
            throw .truncated(layer: .ipv4, needed: headerLength, available: available)
        }
        let onWire = max(wireLength ?? available, available)
        let totalLength = Int(bytes.wireU16(Field.totalLength.lowerBound))
        guard totalLength >= headerLength, totalLength <= onWire else {
            throw .badTotalLength(layer: .ipv4, declared: totalLength, available: onWire)
        }
        self.bytes = bytes.wireSlice(0..<min(totalLength, available))
    }

    /// Creates a view without validation.
    ///
    /// - Precondition: `bytes` satisfies every invariant listed on the type
    ///   (for example it was produced by `emitHeader` or is the `bytes` of a
    ///   checked view). Violations make getters trap or return garbage.
    public init(uncheckedBytes bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The version nibble; always 4 for a checked view.
    public var version: UInt8 { bytes.wireU8(Field.versionAndHeaderLength) >> 4 }

    /// Header length in bytes (IHL × 4), 20...60.
    public var headerLength: Int { Int(bytes.wireU8(Field.versionAndHeaderLength) & 0x0f) * 4 }

    /// Differentiated Services code point (RFC 2474), the high 6 bits of the
    /// former TOS byte.
    public var dscp: UInt8 { bytes.wireU8(Field.dscpAndECN) >> 2 }

    /// Explicit Congestion Notification bits (RFC 3168 §5), 0...3.
    public var ecn: UInt8 { bytes.wireU8(Field.dscpAndECN) & 0x03 }

    /// The declared datagram length (header plus payload) in bytes. May exceed
    /// `bytes.count` for a truncated capture.
    public var totalLength: Int { Int(bytes.wireU16(Field.totalLength.lowerBound)) }

    /// The Identification field (RFC 791; RFC 6864 on its meaning for atomic datagrams).
    public var identification: UInt16 { bytes.wireU16(Field.identification.lowerBound) }

    /// The reserved flag bit, which RFC 791 requires to be zero.
    public var reservedFlag: Bool {
        bytes.wireU16(Field.flagsAndFragmentOffset.lowerBound) & FlagBits.reserved != 0
    }

    /// The DF (Don't Fragment) flag.
    public var dontFragment: Bool {
        bytes.wireU16(Field.flagsAndFragmentOffset.lowerBound) & FlagBits.dontFragment != 0
    }

    /// The MF (More Fragments) flag.
    public var moreFragments: Bool {
        bytes.wireU16(Field.flagsAndFragmentOffset.lowerBound) & FlagBits.moreFragments != 0
    }

    /// The fragment offset in bytes (the field counts 8-byte units).
    public var fragmentOffset: Int {
        Int(bytes.wireU16(Field.flagsAndFragmentOffset.lowerBound) & FlagBits.offsetMask) * 8
    }

    /// Whether this datagram is a fragment: MF set or a non-zero offset. The
    /// first fragment (offset 0) still carries the transport header.
    public var isFragment: Bool {
        bytes.wireU16(Field.flagsAndFragmentOffset.lowerBound) & (FlagBits.moreFragments | FlagBits.offsetMask) != 0
    }

    /// Time to live.
    public var ttl: UInt8 { bytes.wireU8(Field.ttl) }

    /// The payload's IANA protocol number (see `IPProtocolNumber`).
    public var protocolNumber: UInt8 { bytes.wireU8(Field.protocolNumber) }

    /// The header checksum as stored.
    public var headerChecksum: UInt16 { bytes.wireU16(Field.headerChecksum.lowerBound) }

    /// The source address (an IPv4 `IPAddress`).
    public var source: IPAddress { bytes.wireIPv4Address(Field.sourceAddress.lowerBound) }

    /// The destination address (an IPv4 `IPAddress`).
    public var destination: IPAddress { bytes.wireIPv4Address(Field.destinationAddress.lowerBound) }

    /// Whether the header carries options (IHL > 5).
    public var hasOptions: Bool { headerLength > IPv4Packet.minimumHeaderLength }

    /// The raw options area (RFC 791 §3.1 "Options"); empty when IHL is 5.
    /// Not parsed: a firewall only needs to know options exist.
    public var options: UnsafeRawBufferPointer {
        bytes.wireSlice(Field.options..<headerLength)
    }

    /// The payload bytes present in the buffer: from the end of the header to
    /// `totalLength` or the end of the buffer, whichever comes first.
    public var payload: UnsafeRawBufferPointer { bytes.wireSlice(from: headerLength) }

    /// Whether the buffer holds less than `totalLength` bytes (a capture cut
    /// short by a snap length or copy range).
    public var isTruncated: Bool { bytes.count < totalLength }

    /// Whether the header checksum is correct (RFC 791 §3.1, RFC 1071).
    public func verifyChecksum() -> Bool {
        InternetChecksum.finish(InternetChecksum.sum(bytes.wireSlice(0..<headerLength))) == 0
    }

    /// Writes a 20-byte IPv4 header without options at the start of `buffer`,
    /// checksum included.
    ///
    /// - Parameters:
    ///   - buffer: at least 20 bytes.
    ///   - source, destination: IPv4 addresses.
    ///   - payloadLength: bytes following the header; `20 + payloadLength`
    ///     must fit the 16-bit total length.
    ///   - identification: 0 is fine for atomic datagrams (DF set; RFC 6864 §4.1).
    ///   - dscp, ecn: 0...63 and 0...3; higher bits are dropped.
    /// - Precondition: the constraints above; violating them is a programming error.
    public static func emitHeader(into buffer: UnsafeMutableRawBufferPointer,
                                  source: IPAddress, destination: IPAddress,
                                  protocolNumber: UInt8, payloadLength: Int,
                                  ttl: UInt8 = 64, identification: UInt16 = 0,
                                  dontFragment: Bool = true, dscp: UInt8 = 0, ecn: UInt8 = 0) {
        precondition(buffer.count >= minimumHeaderLength, "IPv4 header needs 20 bytes")
        precondition(!source.isV6 && !destination.isV6, "IPv4 header needs IPv4 addresses")
        let totalLength = minimumHeaderLength + payloadLength
        precondition(payloadLength >= 0 && totalLength <= Int(UInt16.max), "IPv4 total length out of range")
        buffer.wireStore(UInt8(0x45), at: Field.versionAndHeaderLength)
        buffer.wireStore(dscp << 2 | ecn & 0x03, at: Field.dscpAndECN)
        buffer.wireStore(UInt16(totalLength), at: Field.totalLength.lowerBound)
        buffer.wireStore(identification, at: Field.identification.lowerBound)
        buffer.wireStore(dontFragment ? FlagBits.dontFragment : 0, at: Field.flagsAndFragmentOffset.lowerBound)
        buffer.wireStore(ttl, at: Field.ttl)
        buffer.wireStore(protocolNumber, at: Field.protocolNumber)
        buffer.wireStore(UInt16(0), at: Field.headerChecksum.lowerBound)
        buffer.wireStore(source, at: Field.sourceAddress.lowerBound)
        buffer.wireStore(destination, at: Field.destinationAddress.lowerBound)
        let header = UnsafeRawBufferPointer(rebasing: buffer[0..<minimumHeaderLength])
        buffer.wireStore(InternetChecksum.checksum(header), at: Field.headerChecksum.lowerBound)
    }
}

@available(*, unavailable, message: "a view borrows its buffer; send a PacketSummary instead")
extension IPv4Packet: Sendable {}
