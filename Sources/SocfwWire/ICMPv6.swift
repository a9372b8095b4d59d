/// ICMPv6 message types (RFC 4443 §2.1, RFC 4861 §4) this module names.
public enum ICMPv6Type {
    /// Destination Unreachable (error).
    public static let destinationUnreachable: UInt8 = 1
    /// Packet Too Big (error).
    public static let packetTooBig: UInt8 = 2
    /// Time Exceeded (error).
    public static let timeExceeded: UInt8 = 3
    /// Parameter Problem (error).
    public static let parameterProblem: UInt8 = 4
    /// Echo Request.
    public static let echoRequest: UInt8 = 128
    /// Echo Reply.
    public static let echoReply: UInt8 = 129
    /// Router Solicitation (RFC 4861).
    public static let routerSolicitation: UInt8 = 133
    /// Router Advertisement (RFC 4861).
    public static let routerAdvertisement: UInt8 = 134
    /// Neighbor Solicitation (RFC 4861).
    public static let neighborSolicitation: UInt8 = 135
    /// Neighbor Advertisement (RFC 4861).
    public static let neighborAdvertisement: UInt8 = 136
    /// Redirect (RFC 4861).
    public static let redirect: UInt8 = 137

    /// Whether `type` is an error message: RFC 4443 §2.1 gives errors the
    /// types below 128.
    @inlinable
    public static func isError(_ type: UInt8) -> Bool { type < 128 }
}

/// ICMPv6 Destination Unreachable codes (RFC 4443 §3.1).
public enum ICMPv6UnreachableCode {
    /// No route to destination.
    public static let noRoute: UInt8 = 0
    /// Communication with destination administratively prohibited.
    public static let administrativelyProhibited: UInt8 = 1
    /// Beyond scope of source address.
    public static let beyondScope: UInt8 = 2
    /// Address unreachable.
    public static let addressUnreachable: UInt8 = 3
    /// Port unreachable.
    public static let portUnreachable: UInt8 = 4
    /// Source address failed ingress/egress policy.
    public static let sourcePolicyFailed: UInt8 = 5
    /// Reject route to destination.
    public static let rejectRoute: UInt8 = 6
}

/// A read-only view of an ICMPv6 message (RFC 4443 §2.1) over borrowed bytes.
///
/// Invariant established by `init(checking:)`: `bytes` starts at the ICMPv6
/// header and holds its 8 bytes (type, code, checksum, rest of header).
///
/// The view borrows the memory it was created from and copies nothing: it must
/// not outlive that buffer, and is not `Sendable` for that reason.
public struct ICMPv6Message {
    /// Field offsets (RFC 4443 §2.1, §4).
    enum Field {
        static let type = 0
        static let code = 1
        static let checksum = 2..<4
        static let restOfHeader = 4..<8
        static let identifier = 4..<6
        static let sequenceNumber = 6..<8
    }

    /// The header length: type, code, checksum and the 4-byte message body
    /// start that every ICMPv6 message has.
    public static let headerLength = 8

    /// The message's bytes: header and the payload the buffer holds.
    public let bytes: UnsafeRawBufferPointer

    /// Validates `bytes` as an ICMPv6 message and creates a view over it.
    ///
    /// - Parameter bytes: starts at the ICMPv6 header. Must stay valid while the view is used.
    /// - Throws: `.truncated(.icmpv6, …)` when fewer than 8 bytes are present.
    public init(checking bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= ICMPv6Message.headerLength else {
            throw .truncated(layer: .icmpv6, needed: ICMPv6Message.headerLength, available: bytes.count)
        }
        self.bytes = bytes
    }

    /// Creates a view without validation.
    ///
    /// - Precondition: `bytes.count >= 8`.
    public init(uncheckedBytes bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The message type (see `ICMPv6Type`).
    public var type: UInt8 { bytes.wireU8(Field.type) }

    /// The code, whose meaning depends on `type`.
    public var code: UInt8 { bytes.wireU8(Field.code) }

    /// The checksum as stored.
    public var checksum: UInt16 { bytes.wireU16(Field.checksum.lowerBound) }

    /// The 4 bytes after the checksum, as one word: identifier and sequence
    /// for echo, the MTU for Packet Too Big, the pointer for Parameter
    /// Problem, unused (zero) for Destination Unreachable.
    public var restOfHeader: UInt32 { bytes.wireU32(Field.restOfHeader.lowerBound) }

    /// The echo identifier (meaningful for echo request and reply, RFC 4443 §4).
    public var identifier: UInt16 { bytes.wireU16(Field.identifier.lowerBound) }

    /// The echo sequence number (meaningful for echo request and reply).
    public var sequenceNumber: UInt16 { bytes.wireU16(Field.sequenceNumber.lowerBound) }

    /// Whether this is an error message (type < 128).
    public var isError: Bool { ICMPv6Type.isError(type) }

    /// The bytes after the 8-byte header that the buffer holds. For error
    /// messages: the quoted packet (as much as fits in 1280 bytes, RFC 4443 §2.4(c)).
    public var payload: UnsafeRawBufferPointer { bytes.wireSlice(from: ICMPv6Message.headerLength) }

    /// Whether the checksum over pseudo header and message is correct
    /// (RFC 4443 §2.3). Needs the whole message.
    public func verifyChecksum(source: IPAddress, destination: IPAddress) -> Bool {
        let pseudo = InternetChecksum.pseudoHeaderSum(source: source, destination: destination,
                                                      protocolNumber: IPProtocolNumber.icmpv6, length: bytes.count)
        return InternetChecksum.finish(InternetChecksum.sum(bytes, initial: pseudo)) == 0
    }

    /// Writes an 8-byte ICMPv6 header at the start of `buffer` with a zero
    /// checksum; call `fillChecksum(in:source:destination:)` once the payload
    /// is in place.
    ///
    /// - Precondition: `buffer.count >= 8`.
    public static func emitHeader(into buffer: UnsafeMutableRawBufferPointer,
                                  type: UInt8, code: UInt8, restOfHeader: UInt32 = 0) {
        precondition(buffer.count >= headerLength, "ICMPv6 header needs 8 bytes")
        buffer.wireStore(type, at: Field.type)
        buffer.wireStore(code, at: Field.code)
        buffer.wireStore(UInt16(0), at: Field.checksum.lowerBound)
        buffer.wireStore(restOfHeader, at: Field.restOfHeader.lowerBound)
    }

    /// Computes and stores the checksum of the message filling `message`,
    /// over the pseudo header of `source` and `destination` (RFC 4443 §2.3).
    ///
    /// - Precondition: `message.count >= 8`.
    public static func fillChecksum(in message: UnsafeMutableRawBufferPointer,
                                    source: IPAddress, destination: IPAddress) {
        precondition(message.count >= headerLength, "ICMPv6 header needs 8 bytes")
        message.wireStore(UInt16(0), at: Field.checksum.lowerBound)
        let pseudo = InternetChecksum.pseudoHeaderSum(source: source, destination: destination,
                                                      protocolNumber: IPProtocolNumber.icmpv6, length: message.count)
        message.wireStore(InternetChecksum.checksum(UnsafeRawBufferPointer(message), initial: pseudo),
                          at: Field.checksum.lowerBound)
    }
}

@available(*, unavailable, message: "a view borrows its buffer; send a PacketSummary instead")
extension ICMPv6Message: Sendable {}
