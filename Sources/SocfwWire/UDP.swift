/// A read-only view of a UDP datagram (RFC 768) over borrowed bytes.
///
/// Invariants established by `init(checking:wireLength:isFirstFragment:)`:
/// - `bytes` starts at the UDP header and holds the 8-byte header;
/// - `length >= 8`, and (unless the datagram is a first fragment) `length`
///   does not exceed the enclosing IP payload;
/// - `bytes` is trimmed to `min(length, buffer length)`.
///
/// The view borrows the memory it was created from and copies nothing: it must
/// not outlive that buffer, and is not `Sendable` for that reason.
public struct UDPDatagram {
    /// Field offsets (RFC 768 "Format").
    enum Field {
        static let sourcePort = 0..<2
        static let destinationPort = 2..<4
        static let length = 4..<6
        static let checksum = 6..<8
    }

    /// The header length.
    public static let headerLength = 8

    /// The datagram's bytes: header and the payload the buffer holds, never
    /// past `length`.
    public let bytes: UnsafeRawBufferPointer

    /// Validates `bytes` as a UDP datagram and creates a view over it.
    ///
    /// - Parameters:
    ///   - bytes: starts at the UDP header and ends where the IP payload (or
    ///     its captured part) ends. Must stay valid while the view is used.
    ///   - wireLength: the IP payload's length on the wire when `bytes` was
    ///     cut short by a capture; `nil` means `bytes` is the whole IP payload.
    ///   - isFirstFragment: the enclosing IP packet is the first fragment of a
    ///     larger datagram, so the UDP length legitimately exceeds it and is
    ///     not checked against it.
    /// - Throws: `.truncated(.udp, …)` when the header is not all present,
    ///   `.badHeaderLength(.udp, …)` when the length field is below 8,
    ///   `.badTotalLength(.udp, …)` when it exceeds the IP payload.
    public init(checking bytes: UnsafeRawBufferPointer, wireLength: Int? = nil,
                isFirstFragment: Bool = false) throws(WireError) {
        let available = bytes.count
        guard available >= UDPDatagram.headerLength else {
            throw .truncated(layer: .udp, needed: UDPDatagram.headerLength, available: available)
        }
        let length = Int(bytes.wireU16(Field.length.lowerBound))
        guard length >= UDPDatagram.headerLength else {
            throw .badHeaderLength(layer: .udp, value: length)
        }
        let onWire = max(wireLength ?? available, available)
        guard isFirstFragment || length <= onWire else {
            throw .badTotalLength(layer: .udp, declared: length, available: onWire)
        }
        self.bytes = bytes.wireSlice(0..<min(length, available))
    }

    /// Creates a view without validation.
    ///
    /// - Precondition: `bytes` satisfies every invariant listed on the type.
    public init(uncheckedBytes bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The source port (0 when unused, RFC 768).
    public var sourcePort: UInt16 { bytes.wireU16(Field.sourcePort.lowerBound) }

    /// The destination port.
    public var destinationPort: UInt16 { bytes.wireU16(Field.destinationPort.lowerBound) }

    /// The declared datagram length (header plus payload), at least 8.
    public var length: Int { Int(bytes.wireU16(Field.length.lowerBound)) }

    /// The checksum as stored; 0 means "not computed" over IPv4 (RFC 768).
    public var checksum: UInt16 { bytes.wireU16(Field.checksum.lowerBound) }

    /// The payload bytes the buffer holds, never past `length`.
    public var payload: UnsafeRawBufferPointer { bytes.wireSlice(from: UDPDatagram.headerLength) }

    /// Whether the checksum is correct. A zero checksum is accepted over IPv4
    /// (RFC 768: not computed) and rejected over IPv6 (RFC 8200 §8.1). Needs
    /// the whole datagram: `false` when the buffer holds less than `length`.
    public func verifyChecksum(source: IPAddress, destination: IPAddress) -> Bool {
        if checksum == 0 { return !source.isV6 }
        guard bytes.count == length else { return false }
        let pseudo = InternetChecksum.pseudoHeaderSum(source: source, destination: destination,
                                                      protocolNumber: IPProtocolNumber.udp, length: length)
        return InternetChecksum.finish(InternetChecksum.sum(bytes, initial: pseudo)) == 0
    }
}

@available(*, unavailable, message: "a view borrows its buffer; send a PacketSummary instead")
extension UDPDatagram: Sendable {}
