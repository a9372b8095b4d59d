// Network-byte-order accessors shared by every view in this module.
//
// Every read goes through `loadUnaligned` because header fields sit at odd
// offsets whenever a link header (14 bytes of Ethernet) or IPv4 options
// precede them, and a misaligned `load` traps.

extension UnsafeRawBufferPointer {
    /// The byte at `offset`. The caller has checked `offset < count`.
    @inline(__always)
    func wireU8(_ offset: Int) -> UInt8 {
        self[offset]
    }

    /// The big-endian 16-bit field at `offset`. The caller has checked
    /// `offset + 2 <= count`.
    @inline(__always)
    func wireU16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// The big-endian 32-bit field at `offset`. The caller has checked
    /// `offset + 4 <= count`.
    @inline(__always)
    func wireU32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The big-endian 64-bit field at `offset`. The caller has checked
    /// `offset + 8 <= count`.
    @inline(__always)
    func wireU64(_ offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The IPv4 address stored at `offset` (4 bytes, network order).
    @inline(__always)
    func wireIPv4Address(_ offset: Int) -> IPAddress {
        IPAddress(v4: wireU32(offset))
    }

    /// The IPv6 address stored at `offset` (16 bytes, network order).
    @inline(__always)
    func wireIPv6Address(_ offset: Int) -> IPAddress {
        IPAddress(v6High: wireU64(offset), low: wireU64(offset + 8))
    }

    /// A view of `range` sharing this buffer's memory: no copy. The caller has
    /// checked that `range` lies within `0..<count`.
    @inline(__always)
    func wireSlice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[range])
    }

    /// The bytes from `offset` to the end (`offset <= count`).
    @inline(__always)
    func wireSlice(from offset: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[offset...])
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Stores `value` at `offset`; the caller has checked the bounds.
    @inline(__always)
    func wireStore(_ value: UInt8, at offset: Int) {
        self[offset] = value
    }

    /// Stores `value` big-endian at `offset` (unaligned stores are allowed
    /// since SE-0349).
    @inline(__always)
    func wireStore(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// Stores `value` big-endian at `offset`.
    @inline(__always)
    func wireStore(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// Stores `address` in network order at `offset`: 4 bytes for IPv4, 16
    /// for IPv6.
    @inline(__always)
    func wireStore(_ address: IPAddress, at offset: Int) {
        if address.isV6 {
            storeBytes(of: address.high.bigEndian, toByteOffset: offset, as: UInt64.self)
            storeBytes(of: address.low.bigEndian, toByteOffset: offset + 8, as: UInt64.self)
        } else {
            wireStore(address.v4, at: offset)
        }
    }
}
