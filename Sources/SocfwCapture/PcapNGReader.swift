/// Reader state for pcapng (draft-ietf-opsawg-pcapng): a sequence of
/// blocks `type, total length, body, total length`, grouped into sections
/// that each start with a Section Header Block fixing the byte order, and
/// each with their own list of interfaces (Interface Description Blocks)
/// that packet blocks refer to by index.
///
/// Only the interface table is heap storage; it grows when an IDB is read
/// and is emptied (keeping its capacity) at each new section, so packet
/// blocks are read with loads and compares only.
struct PcapNGReader: Sendable {
    // Generic block structure (draft-ietf-opsawg-pcapng §3.1).
    static let blockTypeOffset = 0
    static let blockLengthOffset = 4
    static let blockTrailerLength = 4
    static let minimumBlockLength = 12
    static let blockAlignment = 4
    // The draft sets no upper bound; Wireshark rejects blocks over 16 MiB,
    // and so do we, so that a corrupt length field is reported as a bad
    // block rather than as a file that was cut short.
    static let maximumBlockLength = 16 << 20

    // Block type codes (draft-ietf-opsawg-pcapng §10.1). The SHB type is a
    // palindrome, so it reads the same before the byte order is known.
    static let sectionHeaderType: UInt32 = 0x0A0D_0D0A
    static let interfaceDescriptionType: UInt32 = 0x0000_0001
    static let obsoletePacketType: UInt32 = 0x0000_0002
    static let simplePacketType: UInt32 = 0x0000_0003
    static let enhancedPacketType: UInt32 = 0x0000_0006

    // Section Header Block (§4.1).
    static let byteOrderMagicOffset = 8
    static let sectionMajorVersionOffset = 12
    static let sectionMinorVersionOffset = 14
    // Bytes 16-23 hold the section length, which may be -1 (unknown); blocks
    // are walked by their own lengths, so it is not needed.
    static let sectionHeaderMinimumLength = 28
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    static let supportedMajorVersion = 1
    // 1.0 is current; some writers emitted 1.2 for the same format, and
    // Wireshark and libpcap read it.
    static let latestMinorVersion = 2

    // Interface Description Block (§4.2): 16-bit link type, 16 reserved bits.
    static let interfaceLinkTypeOffset = 8
    static let interfaceSnapLengthOffset = 12
    static let interfaceOptionsOffset = 16
    static let interfaceDescriptionMinimumLength = 20

    // Enhanced Packet Block (§4.3). The obsolete Packet Block (Appendix A)
    // has the same layout except a 16-bit interface id followed by a 16-bit
    // drop count where the EPB has a 32-bit interface id.
    static let packetInterfaceOffset = 8
    static let packetTimestampHighOffset = 12
    static let packetTimestampLowOffset = 16
    static let packetCapturedLengthOffset = 20
    static let packetOriginalLengthOffset = 24
    static let packetDataOffset = 28
    static let packetMinimumLength = 32

    // Simple Packet Block (§4.4): no interface id, no timestamp, no captured
    // length; always interface 0 of the section.
    static let simpleOriginalLengthOffset = 8
    static let simpleDataOffset = 12
    static let simpleMinimumLength = 16

    // Options (§3.5): 16-bit code, 16-bit length, value padded to 32 bits.
    static let optionLengthOffset = 2
    static let optionHeaderLength = 4
    static let optionEndOfOptions: UInt16 = 0
    static let optionTimestampResolution: UInt16 = 9  // if_tsresol (§4.2)
    static let optionTimestampOffset: UInt16 = 14  // if_tsoffset (§4.2)
    // Without if_tsresol, timestamps count microseconds (§4.2).
    static let defaultTimestampResolution: UInt8 = 6

    /// What a packet needs from the interface it was captured on.
    struct Interface: Sendable {
        var linkType: LinkType
        var snapLength: UInt32
        var scale: TimestampScale
        var offsetNanoseconds: Int64

        @inline(__always)
        func timestamp(units: UInt64) -> Int64 {
            let nanoseconds = Int64(clamping: scale.nanoseconds(units))
            let (sum, overflow) = nanoseconds.addingReportingOverflow(offsetNanoseconds)
            return overflow ? (offsetNanoseconds > 0 ? .max : .min) : sum
        }
    }

    var swapped = false
    var interfaces: [Interface] = []
    var offset = 0
    var index = 0
    // Simple Packet Blocks carry no timestamp (§4.4); they are given the
    // previous packet's so time never runs backwards for the pipeline's
    // flow timers.
    var lastTimestamp: Int64 = 0

    /// A reader positioned at the start of a file, before any section.
    init() {}

    /// Validates the first Section Header Block; the buffer must start with
    /// the SHB block type. A file too short for it is `truncatedHeader`.
    init(header buffer: UnsafeRawBufferPointer) throws(CaptureError) {
        guard buffer.count >= Self.sectionHeaderMinimumLength else { throw .truncatedHeader(offset: buffer.count) }
        var probe = self
        do throws(CaptureError) {
            try probe.beginSection(in: buffer)
        } catch {
            if case .truncatedRecord = error { throw .truncatedHeader(offset: buffer.count) }
            throw error
        }
    }

    /// The next packet record, skipping every block that is not a packet,
    /// or nil exactly at the end of the file.
    mutating func next(in buffer: UnsafeRawBufferPointer) throws(CaptureError) -> CaptureRecord? {
        while true {
            let available = buffer.count - offset
            if available == 0 { return nil }
            guard available >= Self.minimumBlockLength else {
                throw .truncatedRecord(index: index, offset: offset, needed: Self.minimumBlockLength, available: available)
            }
            let type = buffer.loadUInt32(at: offset + Self.blockTypeOffset, swapped: swapped)
            if type == Self.sectionHeaderType {
                try beginSection(in: buffer)
                continue
            }
            let length = try blockLength(in: buffer)
            switch type {
            case Self.enhancedPacketType:
                let interface = buffer.loadUInt32(at: offset + Self.packetInterfaceOffset, swapped: swapped)
                return try packet(in: buffer, length: length, interface: interface)
            case Self.simplePacketType:
                return try simplePacket(in: buffer, length: length)
            case Self.obsoletePacketType:
                let interface = buffer.loadUInt16(at: offset + Self.packetInterfaceOffset, swapped: swapped)
                return try packet(in: buffer, length: length, interface: UInt32(interface))
            case Self.interfaceDescriptionType:
                try addInterface(in: buffer, length: length)
            default:
                // NRB, ISB, DSB, journal, custom and unknown blocks: the
                // generic framing lets a reader skip what it does not know
                // (§3.1).
                break
            }
            offset += length
        }
    }

    /// Reads and checks the block's total length against the trailer copy.
    /// The caller has checked that at least `minimumBlockLength` bytes remain.
    @inline(__always)
    private func blockLength(in buffer: UnsafeRawBufferPointer) throws(CaptureError) -> Int {
        let declared = buffer.loadUInt32(at: offset + Self.blockLengthOffset, swapped: swapped)
        guard declared >= Self.minimumBlockLength else {
            throw bad("block total length \(declared) is less than the minimum of \(Self.minimumBlockLength)")
        }
        guard declared % UInt32(Self.blockAlignment) == 0 else {
            throw bad("block total length \(declared) is not a multiple of \(Self.blockAlignment)")
        }
        guard declared <= Self.maximumBlockLength else {
            throw bad("block total length \(declared) exceeds the \(Self.maximumBlockLength)-byte limit")
        }
        let length = Int(declared)
        let available = buffer.count - offset
        guard length <= available else {
            throw .truncatedRecord(index: index, offset: offset, needed: length, available: available)
        }
        let trailer = buffer.loadUInt32(at: offset + length - Self.blockTrailerLength, swapped: swapped)
        guard trailer == declared else {
            throw bad("block trailer length \(trailer) does not match header length \(declared)")
        }
        return length
    }

    /// A Section Header Block at `offset`: adopts its byte order, checks its
    /// version, forgets the previous section's interfaces, and steps past it.
    private mutating func beginSection(in buffer: UnsafeRawBufferPointer) throws(CaptureError) {
        let magic = buffer.loadUInt32(at: offset + Self.byteOrderMagicOffset, swapped: false)
        if magic == Self.byteOrderMagic {
            swapped = false
        } else if magic == Self.byteOrderMagic.byteSwapped {
            swapped = true
        } else {
            throw bad(
                "section header byte-order magic 0x\(CaptureError.hex(magic.bigEndian, digits: 8)) "
                    + "is not 1a2b3c4d in either byte order")
        }
        let length = try blockLength(in: buffer)
        guard length >= Self.sectionHeaderMinimumLength else {
            throw bad("section header block length \(length) is less than \(Self.sectionHeaderMinimumLength)")
        }
        let major = Int(buffer.loadUInt16(at: offset + Self.sectionMajorVersionOffset, swapped: swapped))
        let minor = Int(buffer.loadUInt16(at: offset + Self.sectionMinorVersionOffset, swapped: swapped))
        guard major == Self.supportedMajorVersion, minor <= Self.latestMinorVersion else {
            throw .unsupportedVersion(major: major, minor: minor)
        }
        // Interface ids are per section (§4.2).
        interfaces.removeAll(keepingCapacity: true)
        offset += length
    }

    private mutating func addInterface(in buffer: UnsafeRawBufferPointer, length: Int) throws(CaptureError) {
        guard length >= Self.interfaceDescriptionMinimumLength else {
            throw bad("interface description block length \(length) is less than \(Self.interfaceDescriptionMinimumLength)")
        }
        let linkType = buffer.loadUInt16(at: offset + Self.interfaceLinkTypeOffset, swapped: swapped)
        let snapLength = buffer.loadUInt32(at: offset + Self.interfaceSnapLengthOffset, swapped: swapped)
        var resolution = Self.defaultTimestampResolution
        var offsetSeconds: Int64 = 0

        var cursor = offset + Self.interfaceOptionsOffset
        let end = offset + length - Self.blockTrailerLength
        while cursor + Self.optionHeaderLength <= end {
            let code = buffer.loadUInt16(at: cursor, swapped: swapped)
            let valueLength = Int(buffer.loadUInt16(at: cursor + Self.optionLengthOffset, swapped: swapped))
            if code == Self.optionEndOfOptions { break }
            let value = cursor + Self.optionHeaderLength
            guard value + valueLength <= end else {
                throw bad("interface option \(code) of length \(valueLength) at byte \(cursor) overruns the block")
            }
            switch code {
            case Self.optionTimestampResolution:
                guard valueLength == 1 else { throw bad("if_tsresol option has length \(valueLength), expected 1") }
                resolution = buffer[value]
            case Self.optionTimestampOffset:
                guard valueLength == 8 else { throw bad("if_tsoffset option has length \(valueLength), expected 8") }
                offsetSeconds = Int64(bitPattern: buffer.loadUInt64(at: value, swapped: swapped))
            default:
                break
            }
            cursor = value + (valueLength + Self.blockAlignment - 1) / Self.blockAlignment * Self.blockAlignment
        }

        let (offsetNanoseconds, overflow) = offsetSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        interfaces.append(
            Interface(
                linkType: LinkType(rawValue: UInt32(linkType)),
                snapLength: snapLength,
                scale: TimestampScale(ifTimestampResolution: resolution),
                offsetNanoseconds: overflow ? (offsetSeconds > 0 ? .max : .min) : offsetNanoseconds))
    }

    /// An Enhanced Packet Block, or an obsolete Packet Block (same layout
    /// once the interface id has been read).
    @inline(__always)
    private mutating func packet(
        in buffer: UnsafeRawBufferPointer, length: Int, interface: UInt32
    ) throws(CaptureError) -> CaptureRecord {
        guard length >= Self.packetMinimumLength else {
            throw bad("packet block length \(length) is less than \(Self.packetMinimumLength)")
        }
        guard Int(interface) < interfaces.count else {
            throw bad("packet refers to interface \(interface) but the section describes \(interfaces.count)")
        }
        let described = interfaces[Int(interface)]
        let high = buffer.loadUInt32(at: offset + Self.packetTimestampHighOffset, swapped: swapped)
        let low = buffer.loadUInt32(at: offset + Self.packetTimestampLowOffset, swapped: swapped)
        let captured = Int(buffer.loadUInt32(at: offset + Self.packetCapturedLengthOffset, swapped: swapped))
        let original = Int(buffer.loadUInt32(at: offset + Self.packetOriginalLengthOffset, swapped: swapped))
        let room = length - Self.packetMinimumLength
        guard captured <= room else {
            throw bad("captured length \(captured) exceeds the block's \(room) bytes of packet data")
        }
        let timestamp = described.timestamp(units: UInt64(high) << 32 | UInt64(low))
        let record = CaptureRecord(
            index: index, timestampNanoseconds: timestamp, linkType: described.linkType,
            dataOffset: offset + Self.packetDataOffset, capturedLength: captured, originalLength: original)
        lastTimestamp = timestamp
        offset += length
        index += 1
        return record
    }

    private mutating func simplePacket(in buffer: UnsafeRawBufferPointer, length: Int) throws(CaptureError) -> CaptureRecord {
        guard length >= Self.simpleMinimumLength else {
            throw bad("simple packet block length \(length) is less than \(Self.simpleMinimumLength)")
        }
        guard let described = interfaces.first else {
            throw bad("simple packet block before any interface description in its section")
        }
        let original = Int(buffer.loadUInt32(at: offset + Self.simpleOriginalLengthOffset, swapped: swapped))
        // The captured length is implied (§4.4): the original length, cut to
        // the interface's snaplen (0 means none) and to the block's room.
        var captured = min(original, length - Self.simpleMinimumLength)
        if described.snapLength != 0 { captured = min(captured, Int(described.snapLength)) }
        let record = CaptureRecord(
            index: index, timestampNanoseconds: lastTimestamp, linkType: described.linkType,
            dataOffset: offset + Self.simpleDataOffset, capturedLength: captured, originalLength: original)
        offset += length
        index += 1
        return record
    }

    private func bad(_ reason: String) -> CaptureError {
        .badRecord(index: index, offset: offset, reason: reason)
    }
}

/// Converts an interface's timestamp units to nanoseconds (if_tsresol,
/// draft-ietf-opsawg-pcapng §4.2): the high bit selects a power of 2
/// instead of 10, the rest is the negative exponent, so 6 is microseconds,
/// 9 nanoseconds and 0x8A is 2^-10 s. Results saturate instead of trapping:
/// a count past the year 2262 cannot be a real capture, and fuzzed files
/// must not crash the reader.
enum TimestampScale: Sendable, Equatable {
    /// Units of 10^-e s with e ≤ 9: multiply by 10^(9-e).
    case multiply(UInt64)
    /// Units of 10^-e s with 9 < e ≤ 28: divide by 10^(e-9).
    case divide(UInt64)
    /// Units of 10^-e s with e > 28: every 64-bit count is under 1 ns.
    case belowOneNanosecond
    /// Units of 2^-e s, e in 0...127.
    case binary(Int)

    // if_tsresol's top bit: set for negative powers of 2 (§4.2).
    static let binaryFlag: UInt8 = 0x80
    // 10^19 is the largest power of 10 in a UInt64.
    static let largestDecimalDivisorExponent = 19
    static let nanosecondExponent = 9

    init(ifTimestampResolution value: UInt8) {
        let exponent = Int(value & ~Self.binaryFlag)
        if value & Self.binaryFlag != 0 {
            self = .binary(exponent)
        } else if exponent <= Self.nanosecondExponent {
            self = .multiply(Self.powerOfTen(Self.nanosecondExponent - exponent))
        } else if exponent - Self.nanosecondExponent <= Self.largestDecimalDivisorExponent {
            self = .divide(Self.powerOfTen(exponent - Self.nanosecondExponent))
        } else {
            self = .belowOneNanosecond
        }
    }

    private static func powerOfTen(_ exponent: Int) -> UInt64 {
        var value: UInt64 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    @inline(__always)
    func nanoseconds(_ units: UInt64) -> UInt64 {
        switch self {
        case .multiply(let factor):
            let (product, overflow) = units.multipliedReportingOverflow(by: factor)
            return overflow ? .max : product
        case .divide(let divisor):
            return units / divisor
        case .belowOneNanosecond:
            return 0
        case .binary(let shift):
            // units * 10^9 / 2^shift, computed in 128 bits so fine binary
            // resolutions lose nothing to intermediate overflow.
            let (high, low) = units.multipliedFullWidth(by: 1_000_000_000)
            if shift == 0 { return high == 0 ? low : .max }
            if shift < 64 {
                if high >> UInt64(shift) != 0 { return .max }
                return low >> UInt64(shift) | high << UInt64(64 - shift)
            }
            return high >> UInt64(shift - 64)
        }
    }
}
