/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
/// complement sum of the data taken as big-endian 16-bit words.
///
/// Sums are carried as `UInt32` values already folded to 16 bits, so partial
/// sums of separate pieces (pseudo header, header, payload) can be chained
/// through `initial` as long as every piece but the last has an even length
/// (RFC 1071 §2(A): otherwise the word alignment of what follows shifts).
public enum InternetChecksum {
    /// The one's complement sum of `bytes`, added to `initial`, folded into
    /// the low 16 bits. An odd trailing byte is padded with a zero byte on the
    /// right (RFC 1071 §4.1).
    ///
    /// Reads four bytes at a time in host order and converts once at the end:
    /// RFC 1071 §2(B) shows the sum is byte-order independent up to a final swap.
    public static func sum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        let count = bytes.count
        var wide: UInt64 = 0
        var offset = 0
        // 2^32 additions of < 2^32 cannot overflow 64 bits; no carry handling needed.
        while offset + 4 <= count {
            wide &+= UInt64(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            offset += 4
        }
        wide = (wide & 0xffff_ffff) &+ (wide >> 32)
        wide = (wide & 0xffff_ffff) &+ (wide >> 32)
        var folded = UInt32(truncatingIfNeeded: wide)
        folded = (folded & 0xffff) &+ (folded >> 16)
        folded = (folded & 0xffff) &+ (folded >> 16)
        // Host-order words summed to a host-order result; one swap makes it big-endian.
        var total = UInt32(UInt16(bigEndian: UInt16(truncatingIfNeeded: folded)))
        if offset + 2 <= count {
            total &+= UInt32(bytes.wireU16(offset))
            offset += 2
        }
        if offset < count {
            total &+= UInt32(bytes.wireU8(offset)) << 8
        }
        total = (total & 0xffff) &+ (total >> 16)
        total &+= (initial & 0xffff) &+ (initial >> 16)
        total = (total & 0xffff) &+ (total >> 16)
        total = (total & 0xffff) &+ (total >> 16)
        return total
    }

    /// Folds `sum` to 16 bits and complements it: the value to store in a
    /// checksum field. When verifying (the sum covers the stored checksum
    /// too) a correct packet finishes to 0.
    @inline(__always)
    public static func finish(_ sum: UInt32) -> UInt16 {
        var folded = (sum & 0xffff) &+ (sum >> 16)
        folded = (folded & 0xffff) &+ (folded >> 16)
        return ~UInt16(truncatingIfNeeded: folded)
    }

    /// `finish(sum(bytes, initial: initial))`.
    @inline(__always)
    public static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt16 {
        finish(sum(bytes, initial: initial))
    }

    /// The sum of the pseudo header that TCP, UDP and ICMPv6 checksums cover:
    /// RFC 9293 §3.1 / RFC 768 for IPv4 (addresses, zero, protocol, 16-bit
    /// length) and RFC 8200 §8.1 for IPv6 (addresses, 32-bit upper-layer
    /// length, zeros, next header). The two layouts produce the same sum of
    /// words, so one formula serves both.
    ///
    /// - Parameters:
    ///   - source, destination: both IPv4 or both IPv6.
    ///   - protocolNumber: the upper-layer protocol (for IPv6 the final one,
    ///     after extension headers).
    ///   - length: the upper-layer length in bytes (header plus payload).
    public static func pseudoHeaderSum(source: IPAddress, destination: IPAddress,
                                       protocolNumber: UInt8, length: Int) -> UInt32 {
        var total: UInt64 = 0
        if source.isV6 {
            total &+= wordSum(source.high) &+ wordSum(source.low)
        } else {
            total &+= UInt64(source.v4 >> 16) &+ UInt64(source.v4 & 0xffff)
        }
        if destination.isV6 {
            total &+= wordSum(destination.high) &+ wordSum(destination.low)
        } else {
            total &+= UInt64(destination.v4 >> 16) &+ UInt64(destination.v4 & 0xffff)
        }
        let length32 = UInt32(truncatingIfNeeded: length)
        total &+= UInt64(length32 >> 16) &+ UInt64(length32 & 0xffff)
        total &+= UInt64(protocolNumber)
        while total > 0xffff {
            total = (total & 0xffff) &+ (total >> 16)
        }
        return UInt32(total)
    }

    @inline(__always)
    private static func wordSum(_ value: UInt64) -> UInt64 {
        (value >> 48) &+ (value >> 32 & 0xffff) &+ (value >> 16 & 0xffff) &+ (value & 0xffff)
    }
}
