/// ICMPv4 message types (RFC 792, RFC 1122 §3.2.2) this module names.
public enum ICMPv4Type {
    /// Echo Reply.
    public static let echoReply: UInt8 = 0
    /// Destination Unreachable (error).
    public static let destinationUnreachable: UInt8 = 3
    /// Source Quench (error; deprecated by RFC 6633).
    public static let sourceQuench: UInt8 = 4
    /// Redirect (error).
    public static let redirect: UInt8 = 5
    /// Echo Request.
    public static let echoRequest: UInt8 = 8
    /// Router Advertisement (RFC 1256).
    public static let routerAdvertisement: UInt8 = 9
    /// Router Solicitation (RFC 1256).
    public static let routerSolicitation: UInt8 = 10
    /// Time Exceeded (error).
    public static let timeExceeded: UInt8 = 11
    /// Parameter Problem (error).
    public static let parameterProblem: UInt8 = 12
    /// Timestamp.
    public static let timestamp: UInt8 = 13
    /// Timestamp Reply.
    public static let timestampReply: UInt8 = 14

    /// Whether `type` is an error message, which quotes the offending
    /// datagram and must never itself be answered with an error
    /// (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7).
    @inlinable
    public static func isError(_ type: UInt8) -> Bool {
        switch type {
        case 3, 4, 5, 11, 12: return true
        default: return false
        }
    }
}

/// ICMPv4 Destination Unreachable codes (RFC 792, RFC 1812 §5.2.7.1).
public enum ICMPv4UnreachableCode {
    /// Net unreachable.
    public static let networkUnreachable: UInt8 = 0
    /// Host unreachable.
    public static let hostUnreachable: UInt8 = 1
    /// Protocol unreachable.
    public static let protocolUnreachable: UInt8 = 2
    /// Port unreachable.
    public static let portUnreachable: UInt8 = 3
    /// Fragmentation needed and DF set (RFC 1191 path MTU discovery).
    public static let fragmentationNeeded: UInt8 = 4
    /// Communication administratively prohibited: what a filtering router
    /// sends (RFC 1812 §5.2.7.1).
    public static let communicationAdministrativelyProhibited: UInt8 = 13
}

/// A read-only view of an ICMPv4 message (RFC 792) over borrowed bytes.
///
/// Invariant established by `init(checking:)`: `bytes` starts at the ICMP
/// header and holds its 8 bytes (type, code, checksum, rest of header).
///
/// The view borrows the memory it was created from and copies nothing: it must
/// not outlive that buffer, and is not `Sendable` for that reason.
public struct ICMPv4Message {
    /// Field offsets (RFC 792).
    enum Field {
        static let type = 0
        static let code = 1
        static let checksum = 2..<4
        static let restOfHeader = 4..<8
        static let identifier = 4..<6
        static let sequenceNumber = 6..<8
    }

    /// The header length: type, code, checksum and the 4-byte rest of header.
    public static let headerLength = 8

    /// The message's bytes: header and the payload the buffer holds.
    public let bytes: UnsafeRawBufferPointer

    /// Validates `bytes` as an ICMPv4 message and creates a view over it.
    ///
    /// - Parameter bytes: starts at the ICMP header. Must stay valid while the view is used.
    /// - Throws: `.truncated(.icmp, …)` when fewer than 8 bytes are present.
    public init(checking bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= ICMPv4Message.headerLength else {
            throw .truncated(layer: .icmp, needed: ICMPv4Message.headerLength, available: bytes.count)
        }
        self.bytes = bytes
    }

    /// Creates a view without validation.
    ///
    /// - Precondition: `bytes.count >= 8`.
    public init(uncheckedBytes bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The message type (see `ICMPv4Type`).
    public var type: UInt8 { bytes.wireU8(Field.type) }

    /// The code, whose meaning depends on `type`.
    public var code: UInt8 { bytes.wireU8(Field.code) }

    /// The checksum as stored.
    public var checksum: UInt16 { bytes.wireU16(Field.checksum.lowerBound) }

    /// The 4 bytes after the checksum, as one word: identifier and sequence
    /// for echo, the gateway for redirects, the next-hop MTU for
    /// fragmentation needed (RFC 1191), the pointer for parameter problem.
    public var restOfHeader: UInt32 { bytes.wireU32(Field.restOfHeader.lowerBound) }

    /// The echo identifier (meaningful for echo, timestamp and their replies).
    public var identifier: UInt16 { bytes.wireU16(Field.identifier.lowerBound) }

    /// The echo sequence number (meaningful for echo, timestamp and their replies).
    public var sequenceNumber: UInt16 { bytes.wireU16(Field.sequenceNumber.lowerBound) }

    /// Whether this is an error message (`ICMPv4Type.isError`).
    public var isError: Bool { ICMPv4Type.isError(type) }

    /// The bytes after the 8-byte header that the buffer holds. For error
    /// messages: the quoted datagram (its IP header and at least 8 bytes of
    /// its payload, RFC 792 / RFC 1812 §4.3.2.3).
    public var payload: UnsafeRawBufferPointer { bytes.wireSlice(from: ICMPv4Message.headerLength) }

    /// Whether the checksum over the whole message is correct (RFC 792: no
    /// pseudo header for ICMPv4). Needs the whole message.
    public func verifyChecksum() -> Bool {
        InternetChecksum.finish(InternetChecksum.sum(bytes)) == 0
    }

    /// Writes an 8-byte ICMPv4 header at the start of `buffer` with a zero
    /// checksum; call `fillChecksum(in:)` once the payload is in place.
    ///
    /// - Precondition: `buffer.count >= 8`.
    public static func emitHeader(into buffer: UnsafeMutableRawBufferPointer,
                                  type: UInt8, code: UInt8, restOfHeader: UInt32 = 0) {
        precondition(buffer.count >= headerLength, "ICMP header needs 8 bytes")
        buffer.wireStore(type, at: Field.type)
        buffer.wireStore(code, at: Field.code)
        buffer.wireStore(UInt16(0), at: Field.checksum.lowerBound)
        buffer.wireStore(restOfHeader, at: Field.restOfHeader.lowerBound)
    }

    /// Computes and stores the checksum of the message filling `message`.
    ///
    /// - Precondition: `message.count >= 8`.
    public static func fillChecksum(in message: UnsafeMutableRawBufferPointer) {
        precondition(message.count >= headerLength, "ICMP header needs 8 bytes")
        message.wireStore(UInt16(0), at: Field.checksum.lowerBound)
        message.wireStore(InternetChecksum.checksum(UnsafeRawBufferPointer(message)), at: Field.checksum.lowerBound)
    }
}

@available(*, unavailable, message: "a view borrows its buffer; send a PacketSummary instead")
extension ICMPv4Message: Sendable {}
