/// Writes a classic pcap file (pcap-savefile(5), draft-ietf-opsawg-pcap),
/// little-endian, version 2.4. Used by tests and by the benchmark that
/// generates captures; writes are buffered and flushed on `close()` and
/// on deinit.
public final class PcapWriter {
    private let sink: FileSink
    private let nanosecondResolution: Bool
    private let snapLength: UInt32

    /// Creates (or truncates) `path` and writes the file header.
    ///
    /// - Parameters:
    ///   - linkType: the link type of every frame that will be written.
    ///   - nanosecondResolution: write the nanosecond magic (0xA1B23C4D)
    ///     rather than the microsecond one; microsecond files drop the
    ///     sub-microsecond part of timestamps.
    ///   - snapLength: frames longer than this are cut to it (the original
    ///     length is still recorded).
    public init(
        path: String, linkType: LinkType, nanosecondResolution: Bool = true, snapLength: UInt32 = 262144
    ) throws(CaptureError) {
        sink = try FileSink(path: path)
        self.nanosecondResolution = nanosecondResolution
        self.snapLength = snapLength
        sink.append(nanosecondResolution ? PcapReader.nanosecondMagic : PcapReader.microsecondMagic)
        sink.append(UInt16(PcapReader.supportedMajorVersion))
        sink.append(UInt16(PcapReader.latestMinorVersion))
        sink.append(UInt32(0))  // Reserved1 (was thiszone)
        sink.append(UInt32(0))  // Reserved2 (was sigfigs)
        sink.append(snapLength)
        sink.append(linkType.rawValue & PcapReader.linkTypeMask)
    }

    /// Appends one record.
    ///
    /// pcap stores unsigned 32-bit seconds, so timestamps before 1970 are
    /// written as 1970 and those after 2106 as the last second of 2106.
    /// `originalLength` defaults to the frame's length.
    public func write(
        timestampNanoseconds: Int64, frame: UnsafeRawBufferPointer, originalLength: Int? = nil
    ) throws(CaptureError) {
        try sink.checkOpen()
        let clamped = max(0, timestampNanoseconds)
        let seconds = UInt32(clamping: clamped / 1_000_000_000)
        let nanoseconds = seconds == UInt32.max && clamped / 1_000_000_000 > Int64(UInt32.max)
            ? 999_999_999 : clamped % 1_000_000_000
        let captured = min(frame.count, Int(snapLength))
        sink.append(seconds)
        sink.append(UInt32(nanosecondResolution ? nanoseconds : nanoseconds / 1_000))
        sink.append(UInt32(captured))
        sink.append(UInt32(clamping: originalLength ?? frame.count))
        sink.append(UnsafeRawBufferPointer(rebasing: frame[0..<captured]))
        try sink.flushIfFull()
    }

    /// `write(timestampNanoseconds:frame:originalLength:)` for a frame held in an array.
    public func write(timestampNanoseconds: Int64, frame: [UInt8], originalLength: Int? = nil) throws(CaptureError) {
        try frame.withUnsafeBufferPointer { (pointer) throws(CaptureError) in
            try write(timestampNanoseconds: timestampNanoseconds, frame: UnsafeRawBufferPointer(pointer),
                      originalLength: originalLength)
        }
    }

    /// Flushes buffered records and closes the file. Later writes throw
    /// `cannotWrite`; closing again does nothing.
    public func close() throws(CaptureError) {
        try sink.close()
    }
}
