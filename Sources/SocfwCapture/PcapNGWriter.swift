/// Writes a pcapng file (draft-ietf-opsawg-pcapng): one little-endian
/// section with a Section Header Block, one Interface Description Block
/// with nanosecond timestamps (`if_tsresol` = 9), then one Enhanced Packet
/// Block per frame. Used by tests and by the benchmark that generates
/// captures; writes are buffered and flushed on `close()` and on deinit.
public final class PcapNGWriter {
    // if_tsresol value 9: units of 10^-9 s (§4.2).
    static let nanosecondResolution: UInt8 = 9

    private let sink: FileSink
    private let snapLength: UInt32

    /// Creates (or truncates) `path` and writes the section and interface headers.
    ///
    /// - Parameters:
    ///   - linkType: the interface's link type (pcapng keeps 16 bits of it).
    ///   - nanosecondResolution: accepted for symmetry with `PcapWriter`;
    ///     pcapng timestamps are 64-bit, so they are always nanoseconds.
    ///   - snapLength: frames longer than this are cut to it; 0 means no limit.
    public init(
        path: String, linkType: LinkType, nanosecondResolution: Bool = true, snapLength: UInt32 = 262144
    ) throws(CaptureError) {
        sink = try FileSink(path: path)
        self.snapLength = snapLength

        // Section Header Block (§4.1), no options.
        let sectionLength = UInt32(PcapNGReader.sectionHeaderMinimumLength)
        sink.append(PcapNGReader.sectionHeaderType)
        sink.append(sectionLength)
        sink.append(PcapNGReader.byteOrderMagic)
        sink.append(UInt16(PcapNGReader.supportedMajorVersion))
        sink.append(UInt16(0))  // minor version 0, the current one
        sink.append(Int64(-1))  // section length not known in advance
        sink.append(sectionLength)

        // Interface Description Block (§4.2) with if_tsresol and opt_endofopt.
        let optionsLength = PcapNGReader.optionHeaderLength + PcapNGReader.blockAlignment  // if_tsresol, padded
            + PcapNGReader.optionHeaderLength  // opt_endofopt
        let interfaceLength = UInt32(PcapNGReader.interfaceDescriptionMinimumLength + optionsLength)
        sink.append(PcapNGReader.interfaceDescriptionType)
        sink.append(interfaceLength)
        sink.append(UInt16(truncatingIfNeeded: linkType.rawValue))
        sink.append(UInt16(0))  // reserved
        sink.append(snapLength)
        sink.append(PcapNGReader.optionTimestampResolution)
        sink.append(UInt16(1))
        sink.append(Self.nanosecondResolution)
        sink.appendZeros(3)
        sink.append(PcapNGReader.optionEndOfOptions)
        sink.append(UInt16(0))
        sink.append(interfaceLength)
    }

    /// Appends one Enhanced Packet Block on interface 0.
    ///
    /// Timestamps before 1970 are written as 1970 (pcapng timestamps are
    /// unsigned). `originalLength` defaults to the frame's length.
    public func write(
        timestampNanoseconds: Int64, frame: UnsafeRawBufferPointer, originalLength: Int? = nil
    ) throws(CaptureError) {
        try sink.checkOpen()
        let units = UInt64(max(0, timestampNanoseconds))
        let captured = snapLength == 0 ? frame.count : min(frame.count, Int(snapLength))
        let padding = (PcapNGReader.blockAlignment - captured % PcapNGReader.blockAlignment) % PcapNGReader.blockAlignment
        let blockLength = UInt32(PcapNGReader.packetMinimumLength + captured + padding)
        sink.append(PcapNGReader.enhancedPacketType)
        sink.append(blockLength)
        sink.append(UInt32(0))  // interface id
        sink.append(UInt32(truncatingIfNeeded: units >> 32))
        sink.append(UInt32(truncatingIfNeeded: units))
        sink.append(UInt32(captured))
        sink.append(UInt32(clamping: originalLength ?? frame.count))
        sink.append(UnsafeRawBufferPointer(rebasing: frame[0..<captured]))
        sink.appendZeros(padding)
        sink.append(blockLength)
        try sink.flushIfFull()
    }

    /// `write(timestampNanoseconds:frame:originalLength:)` for a frame held in an array.
    public func write(timestampNanoseconds: Int64, frame: [UInt8], originalLength: Int? = nil) throws(CaptureError) {
        try frame.withUnsafeBufferPointer { (pointer) throws(CaptureError) in
            try write(timestampNanoseconds: timestampNanoseconds, frame: UnsafeRawBufferPointer(pointer),
                      originalLength: originalLength)
        }
    }

    /// Flushes buffered blocks and closes the file. Later writes throw
    /// `cannotWrite`; closing again does nothing.
    public func close() throws(CaptureError) {
        try sink.close()
    }
}
