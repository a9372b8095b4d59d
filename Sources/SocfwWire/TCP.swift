/// The TCP control bits of header byte 13 (RFC 9293 §3.1, RFC 3168 §6.1 for
/// ECE and CWR), with the same bit values as on the wire.
public struct TCPFlags: OptionSet, Sendable, Hashable {
    /// The raw byte 13 of the TCP header.
    public var rawValue: UInt8

    /// Creates flags from the raw header byte.
    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// No more data from sender.
    public static let fin = TCPFlags(rawValue: 0x01)
    /// Synchronize sequence numbers.
    public static let syn = TCPFlags(rawValue: 0x02)
    /// Reset the connection.
    public static let rst = TCPFlags(rawValue: 0x04)
    /// Push function.
    public static let psh = TCPFlags(rawValue: 0x08)
    /// Acknowledgment field is significant.
    public static let ack = TCPFlags(rawValue: 0x10)
    /// Urgent pointer field is significant.
    public static let urg = TCPFlags(rawValue: 0x20)
    /// ECN-Echo (RFC 3168).
    public static let ece = TCPFlags(rawValue: 0x40)
    /// Congestion Window Reduced (RFC 3168).
    public static let cwr = TCPFlags(rawValue: 0x80)
}

/// A read-only view of a TCP segment (RFC 9293 §3.1) over borrowed bytes.
///
/// Invariants established by `init(checking:)`:
/// - `bytes` starts at the TCP header and holds at least `dataOffset` bytes;
/// - `20 <= dataOffset <= 60`.
///
/// The options are not validated by the initializer (most rules never look at
/// them); `parseOptions()` and `optionIterator` validate as they go.
///
/// The view borrows the memory it was created from and copies nothing: it must
/// not outlive that buffer, and is not `Sendable` for that reason.
public struct TCPSegment {
    /// Field offsets (RFC 9293 §3.1).
    enum Field {
        static let sourcePort = 0..<2
        static let destinationPort = 2..<4
        static let sequenceNumber = 4..<8
        static let acknowledgementNumber = 8..<12
        static let dataOffset = 12
        static let flags = 13
        static let window = 14..<16
        static let checksum = 16..<18
        static let urgentPointer = 18..<20
        static let options = 20
    }

    /// The header length without options.
    public static let minimumHeaderLength = 20

    /// The segment's bytes: header, options and the payload the buffer holds.
    public let bytes: UnsafeRawBufferPointer

    /// Validates `bytes` as a TCP segment and creates a view over it.
    ///
    /// - Parameter bytes: starts at the TCP header and ends where the IP
    ///   payload (or the captured part of it) ends. Must stay valid while the
    ///   view is used.
    /// - Throws: `.truncated(.tcp, …)` when fewer than 20 bytes or fewer than
    ///   `dataOffset` bytes are present, `.badHeaderLength(.tcp, …)` when the
    ///   data offset is below 5 words.
    public init(checking bytes: UnsafeRawBufferPointer) throws(WireError) {
        let available = bytes.count
        guard available >= TCPSegment.minimumHeaderLength else {
            throw .truncated(layer: .tcp, needed: TCPSegment.minimumHeaderLength, available: available)
        }
        let dataOffset = Int(bytes.wireU8(Field.dataOffset) >> 4) * 4
        guard dataOffset >= TCPSegment.minimumHeaderLength else {
            throw .badHeaderLength(layer: .tcp, value: dataOffset)
        }
        guard dataOffset <= available else {
            throw .truncated(layer: .tcp, needed: dataOffset, available: available)
        }
        self.bytes = bytes
    }

    /// Creates a view without validation.
    ///
    /// - Precondition: `bytes` satisfies every invariant listed on the type.
    public init(uncheckedBytes bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The source port.
    public var sourcePort: UInt16 { bytes.wireU16(Field.sourcePort.lowerBound) }

    /// The destination port.
    public var destinationPort: UInt16 { bytes.wireU16(Field.destinationPort.lowerBound) }

    /// The sequence number.
    public var sequenceNumber: UInt32 { bytes.wireU32(Field.sequenceNumber.lowerBound) }

    /// The acknowledgement number (meaningful when `flags` contains `.ack`).
    public var acknowledgementNumber: UInt32 { bytes.wireU32(Field.acknowledgementNumber.lowerBound) }

    /// The header length in bytes (the Data Offset field × 4), 20...60.
    public var dataOffset: Int { Int(bytes.wireU8(Field.dataOffset) >> 4) * 4 }

    /// The four bits between Data Offset and the flags (reserved by RFC 9293;
    /// the lowest was the ECN nonce of RFC 3540, now historic).
    public var reservedBits: UInt8 { bytes.wireU8(Field.dataOffset) & 0x0f }

    /// The control bits.
    public var flags: TCPFlags { TCPFlags(rawValue: bytes.wireU8(Field.flags)) }

    /// The receive window (unscaled, as on the wire).
    public var window: UInt16 { bytes.wireU16(Field.window.lowerBound) }

    /// The checksum as stored.
    public var checksum: UInt16 { bytes.wireU16(Field.checksum.lowerBound) }

    /// The urgent pointer.
    public var urgentPointer: UInt16 { bytes.wireU16(Field.urgentPointer.lowerBound) }

    /// The raw options area, `dataOffset - 20` bytes (possibly empty).
    public var options: UnsafeRawBufferPointer { bytes.wireSlice(Field.options..<dataOffset) }

    /// The payload bytes the buffer holds.
    public var payload: UnsafeRawBufferPointer { bytes.wireSlice(from: dataOffset) }

    /// An allocation-free iterator over the options.
    public var optionIterator: TCPOptionIterator { TCPOptionIterator(options) }

    /// Walks the options once and collects the ones connection tracking and
    /// OS fingerprinting use.
    ///
    /// - Throws: `.badOptions(.tcp)` on a malformed option (see `TCPOptionIterator`).
    public func parseOptions() throws(WireError) -> TCPOptionSummary {
        var summary = TCPOptionSummary()
        var iterator = optionIterator
        while let option = try iterator.next() {
            summary.count += 1
            switch option {
            case .maximumSegmentSize(let mss): summary.maximumSegmentSize = mss
            case .windowScale(let shift): summary.windowScale = shift
            case .sackPermitted: summary.sackPermitted = true
            case .sack(let blocks): summary.sackBlockCount = blocks.count
            case .timestamps(let value, let echo):
                summary.timestampValue = value
                summary.timestampEchoReply = echo
            case .endOfOptionList, .noOperation, .unknown: break
            }
        }
        return summary
    }

    /// Whether the checksum over pseudo header, header and payload is correct
    /// (RFC 9293 §3.1). `source` and `destination` are the enclosing IP
    /// header's addresses. Only meaningful when `bytes` is the whole segment:
    /// a truncated capture cannot be verified and yields `false`.
    public func verifyChecksum(source: IPAddress, destination: IPAddress) -> Bool {
        let pseudo = InternetChecksum.pseudoHeaderSum(source: source, destination: destination,
                                                      protocolNumber: IPProtocolNumber.tcp, length: bytes.count)
        return InternetChecksum.finish(InternetChecksum.sum(bytes, initial: pseudo)) == 0
    }

    /// Writes a 20-byte TCP header without options at the start of `buffer`,
    /// with a zero checksum; call `fillChecksum(in:source:destination:)` once
    /// the payload is in place.
    ///
    /// - Precondition: `buffer.count >= 20`.
    public static func emitHeader(into buffer: UnsafeMutableRawBufferPointer,
                                  sourcePort: UInt16, destinationPort: UInt16,
                                  sequenceNumber: UInt32, acknowledgementNumber: UInt32,
                                  flags: TCPFlags, window: UInt16, urgentPointer: UInt16 = 0) {
        precondition(buffer.count >= minimumHeaderLength, "TCP header needs 20 bytes")
        buffer.wireStore(sourcePort, at: Field.sourcePort.lowerBound)
        buffer.wireStore(destinationPort, at: Field.destinationPort.lowerBound)
        buffer.wireStore(sequenceNumber, at: Field.sequenceNumber.lowerBound)
        buffer.wireStore(acknowledgementNumber, at: Field.acknowledgementNumber.lowerBound)
        buffer.wireStore(UInt8(minimumHeaderLength / 4) << 4, at: Field.dataOffset)
        buffer.wireStore(flags.rawValue, at: Field.flags)
        buffer.wireStore(window, at: Field.window.lowerBound)
        buffer.wireStore(UInt16(0), at: Field.checksum.lowerBound)
        buffer.wireStore(urgentPointer, at: Field.urgentPointer.lowerBound)
    }

    /// Computes and stores the checksum of the segment that fills `segment`
    /// (header and payload), over the pseudo header of `source` and `destination`.
    ///
    /// - Precondition: `segment.count >= 20`.
    public static func fillChecksum(in segment: UnsafeMutableRawBufferPointer,
                                    source: IPAddress, destination: IPAddress) {
        precondition(segment.count >= minimumHeaderLength, "TCP header needs 20 bytes")
        segment.wireStore(UInt16(0), at: Field.checksum.lowerBound)
        let pseudo = InternetChecksum.pseudoHeaderSum(source: source, destination: destination,
                                                      protocolNumber: IPProtocolNumber.tcp, length: segment.count)
        let value = InternetChecksum.checksum(UnsafeRawBufferPointer(segment), initial: pseudo)
        segment.wireStore(value, at: Field.checksum.lowerBound)
    }
}

@available(*, unavailable, message: "a view borrows its buffer; send a PacketSummary instead")
extension TCPSegment: Sendable {}
