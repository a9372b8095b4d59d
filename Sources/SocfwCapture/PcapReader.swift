/// Reader state for the classic libpcap format (tcpdump's pcap-savefile(5),
/// draft-ietf-opsawg-pcap): a 24-byte file header, then records of a 16-byte
/// header plus the captured bytes, all in the writer's byte order.
///
/// A plain value with no references, so the iterator copies it freely and
/// stepping to the next record is loads and compares only.
struct PcapReader: Sendable {
    // File header (draft-ietf-opsawg-pcap §4).
    static let magicOffset = 0
    static let versionMajorOffset = 4
    static let versionMinorOffset = 6
    // Bytes 8-15 are "Reserved1/Reserved2" (once thiszone/sigfigs); the
    // draft says readers must ignore them.
    static let snapLengthOffset = 16
    static let linkTypeOffset = 20
    static let fileHeaderLength = 24

    // Record header (draft-ietf-opsawg-pcap §5).
    static let secondsOffset = 0
    static let fractionOffset = 4
    static let capturedLengthOffset = 8
    static let originalLengthOffset = 12
    static let recordHeaderLength = 16

    // Magic numbers as read in host order from a file written in host order;
    // their byte swaps mark a file from the other endianness.
    static let microsecondMagic: UInt32 = 0xA1B2_C3D4
    static let nanosecondMagic: UInt32 = 0xA1B2_3C4D

    static let supportedMajorVersion = 2
    // libpcap's sf-pcap.c accepts 2.0-2.4; older minors swapped the two
    // length fields, handled by `lengthOrder` below.
    static let latestMinorVersion = 4

    // The link-type field also carries FCS information in its upper bits;
    // the type itself is the low 16 bits (draft-ietf-opsawg-pcap §4, which
    // also makes pcap and pcapng link types the same 16-bit space).
    static let linkTypeMask: UInt32 = 0xFFFF

    // libpcap's default maximum snapshot length. The header's snaplen is
    // advisory (writers exist that record a smaller one than they used, and
    // libpcap truncates rather than rejects those), so a captured length is
    // corrupt only when it exceeds both the snaplen and this bound, the
    // same limit libpcap applies (max_snaplen_for_dlt).
    static let maximumPlausibleCaptureLength = 262_144

    /// How the "captured" and "original" length fields are ordered.
    /// Before version 2.3 they were in the other order; 2.3 files exist in
    /// both orders (libpcap sf-pcap.c, "lengths_swapped").
    enum LengthOrder: Sendable {
        case normal
        case swapped
        case swappedIfCapturedExceedsOriginal
    }

    static func isMagic(_ hostOrderMagic: UInt32) -> Bool {
        hostOrderMagic == microsecondMagic || hostOrderMagic == nanosecondMagic
            || hostOrderMagic == microsecondMagic.byteSwapped || hostOrderMagic == nanosecondMagic.byteSwapped
    }

    let swapped: Bool
    let fractionToNanoseconds: Int64
    let linkType: LinkType
    let snapLength: UInt32
    let maximumCapturedLength: Int
    let lengthOrder: LengthOrder
    var offset: Int
    var index: Int

    /// Parses and validates the file header; the buffer must start with a
    /// pcap magic number (`isMagic`).
    init(header buffer: UnsafeRawBufferPointer) throws(CaptureError) {
        guard buffer.count >= Self.fileHeaderLength else { throw .truncatedHeader(offset: buffer.count) }
        let magic = buffer.loadUInt32(at: Self.magicOffset, swapped: false)
        swapped = magic == Self.microsecondMagic.byteSwapped || magic == Self.nanosecondMagic.byteSwapped
        let hostMagic = swapped ? magic.byteSwapped : magic
        fractionToNanoseconds = hostMagic == Self.nanosecondMagic ? 1 : 1_000

        let major = Int(buffer.loadUInt16(at: Self.versionMajorOffset, swapped: swapped))
        let minor = Int(buffer.loadUInt16(at: Self.versionMinorOffset, swapped: swapped))
        guard major == Self.supportedMajorVersion, minor <= Self.latestMinorVersion else {
            throw .unsupportedVersion(major: major, minor: minor)
        }
        lengthOrder = minor < 3 ? .swapped : minor == 3 ? .swappedIfCapturedExceedsOriginal : .normal

        snapLength = buffer.loadUInt32(at: Self.snapLengthOffset, swapped: swapped)
        maximumCapturedLength = max(Int(snapLength), Self.maximumPlausibleCaptureLength)
        linkType = LinkType(rawValue: buffer.loadUInt32(at: Self.linkTypeOffset, swapped: swapped) & Self.linkTypeMask)
        offset = Self.fileHeaderLength
        index = 0
    }

    /// The record at `offset`, or nil exactly at the end of the file.
    @inline(__always)
    mutating func next(in buffer: UnsafeRawBufferPointer) throws(CaptureError) -> CaptureRecord? {
        let available = buffer.count - offset
        if available == 0 { return nil }
        guard available >= Self.recordHeaderLength else {
            throw .truncatedRecord(index: index, offset: offset, needed: Self.recordHeaderLength, available: available)
        }
        let seconds = buffer.loadUInt32(at: offset + Self.secondsOffset, swapped: swapped)
        let fraction = buffer.loadUInt32(at: offset + Self.fractionOffset, swapped: swapped)
        var captured = buffer.loadUInt32(at: offset + Self.capturedLengthOffset, swapped: swapped)
        var original = buffer.loadUInt32(at: offset + Self.originalLengthOffset, swapped: swapped)
        switch lengthOrder {
        case .normal: break
        case .swapped: swap(&captured, &original)
        case .swappedIfCapturedExceedsOriginal: if captured > original { swap(&captured, &original) }
        }
        let capturedLength = Int(captured)
        guard capturedLength <= maximumCapturedLength else {
            throw .badRecord(
                index: index, offset: offset,
                reason: "captured length \(captured) exceeds the snapshot length \(snapLength) "
                    + "and the \(Self.maximumPlausibleCaptureLength)-byte maximum")
        }
        let needed = Self.recordHeaderLength + capturedLength
        guard available >= needed else {
            throw .truncatedRecord(index: index, offset: offset, needed: needed, available: available)
        }
        // Both fields are unsigned 32-bit, so seconds * 10^9 + fraction * 10^3
        // stays below 2^63: no overflow check needed.
        let record = CaptureRecord(
            index: index,
            timestampNanoseconds: Int64(seconds) * 1_000_000_000 + Int64(fraction) * fractionToNanoseconds,
            linkType: linkType,
            dataOffset: offset + Self.recordHeaderLength,
            capturedLength: capturedLength,
            originalLength: Int(original))
        offset += needed
        index += 1
        return record
    }
}
