// Capture files are written in the writer's byte order (pcap-savefile(5),
// draft-ietf-opsawg-pcapng §4.1), so every multi-byte field is loaded
// unaligned in host order and swapped when the file's magic said so. The
// callers check bounds first; these helpers never do.

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadUInt16(at offset: Int, swapped: Bool) -> UInt16 {
        let value = loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return swapped ? value.byteSwapped : value
    }

    @inline(__always)
    func loadUInt32(at offset: Int, swapped: Bool) -> UInt32 {
        let value = loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return swapped ? value.byteSwapped : value
    }

    @inline(__always)
    func loadUInt64(at offset: Int, swapped: Bool) -> UInt64 {
        let value = loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return swapped ? value.byteSwapped : value
    }

    /// The first four bytes as they appear in a hex dump, for `notACapture`.
    func leadingBytesBigEndian() -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<Swift.min(4, count) { value |= UInt32(self[i]) << (24 - 8 * UInt32(i)) }
        return value
    }
}
