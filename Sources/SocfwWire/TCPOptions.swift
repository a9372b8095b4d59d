/// One TCP option (RFC 9293 §3.2 and the IANA "TCP Option Kind Numbers").
///
/// Payloads that are byte ranges borrow the segment's buffer, like the views.
public enum TCPOption {
    /// Kind 0: End of Option List. The iterator stops after it; what follows
    /// is padding.
    case endOfOptionList
    /// Kind 1: No-Operation (padding between options).
    case noOperation
    /// Kind 2: Maximum Segment Size (RFC 9293 §3.7.1).
    case maximumSegmentSize(UInt16)
    /// Kind 3: Window Scale shift count (RFC 7323 §2). Reported as sent;
    /// RFC 7323 §2.3 says receivers treat values above 14 as 14.
    case windowScale(UInt8)
    /// Kind 4: SACK Permitted (RFC 2018 §2).
    case sackPermitted
    /// Kind 5: SACK blocks (RFC 2018 §3).
    case sack(TCPSACKBlocks)
    /// Kind 8: Timestamps (RFC 7323 §3): TSval and TSecr.
    case timestamps(value: UInt32, echoReply: UInt32)
    /// Any other kind, with its data (the bytes after kind and length).
    case unknown(kind: UInt8, data: UnsafeRawBufferPointer)
}

@available(*, unavailable, message: "an option borrows its buffer")
extension TCPOption: Sendable {}

/// The blocks of a SACK option (RFC 2018 §3): pairs of left and right edges.
///
/// Invariant: `bytes.count` is a multiple of 8.
public struct TCPSACKBlocks {
    /// The raw blocks, 8 bytes each.
    public let bytes: UnsafeRawBufferPointer

    /// The number of blocks (at most 4 fit in the option space).
    public var count: Int { bytes.count / 8 }

    /// The `index`-th block's edges.
    ///
    /// - Precondition: `0 <= index < count`.
    public subscript(index: Int) -> (left: UInt32, right: UInt32) {
        precondition(index >= 0 && index < count, "SACK block index out of range")
        return (bytes.wireU32(index * 8), bytes.wireU32(index * 8 + 4))
    }
}

@available(*, unavailable, message: "a view borrows its buffer")
extension TCPSACKBlocks: Sendable {}

/// Walks TCP options without allocating.
///
/// Each `next()` validates one option: a kind other than End of Option List
/// and No-Operation needs a length byte, the length must be at least 2 and
/// stay inside the option area, and the fixed-size kinds must have their RFC
/// length (MSS 4, window scale 3, SACK permitted 2, timestamps 10, SACK
/// 2 + 8n with n ≥ 1). Anything else throws `.badOptions(.tcp)`, which is what
/// a stack would do: such a segment is crafted.
public struct TCPOptionIterator {
    /// Offsets within one option (RFC 9293 §3.2).
    enum Field {
        static let kind = 0
        static let length = 1
        static let data = 2
    }

    /// Option kinds with a meaning here.
    enum Kind {
        static let endOfOptionList: UInt8 = 0
        static let noOperation: UInt8 = 1
        static let maximumSegmentSize: UInt8 = 2
        static let windowScale: UInt8 = 3
        static let sackPermitted: UInt8 = 4
        static let sack: UInt8 = 5
        static let timestamps: UInt8 = 8
    }

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    /// Iterates over the raw option area `options` (e.g. `TCPSegment.options`).
    public init(_ options: UnsafeRawBufferPointer) {
        self.bytes = options
    }

    /// The next option, or `nil` at the end of the area or after End of Option List.
    ///
    /// - Throws: `.badOptions(.tcp)`; the iterator is then finished.
    public mutating func next() throws(WireError) -> TCPOption? {
        let end = bytes.count
        guard offset < end else { return nil }
        let kind = bytes.wireU8(offset + Field.kind)
        switch kind {
        case Kind.endOfOptionList:
            offset = end
            return .endOfOptionList
        case Kind.noOperation:
            offset += 1
            return .noOperation
        default:
            break
        }
        guard offset + Field.length < end else {
            offset = end
            throw .badOptions(layer: .tcp)
        }
        let length = Int(bytes.wireU8(offset + Field.length))
        guard length >= Field.data, offset + length <= end else {
            offset = end
            throw .badOptions(layer: .tcp)
        }
        let start = offset + Field.data
        let data = bytes.wireSlice(start..<offset + length)
        offset += length
        switch kind {
        case Kind.maximumSegmentSize:
            guard length == 4 else { break }
            return .maximumSegmentSize(data.wireU16(0))
        case Kind.windowScale:
            guard length == 3 else { break }
            return .windowScale(data.wireU8(0))
        case Kind.sackPermitted:
            guard length == 2 else { break }
            return .sackPermitted
        case Kind.sack:
            guard length >= 10, (length - 2) % 8 == 0 else { break }
            return .sack(TCPSACKBlocks(bytes: data))
        case Kind.timestamps:
            guard length == 10 else { break }
            return .timestamps(value: data.wireU32(0), echoReply: data.wireU32(4))
        default:
            return .unknown(kind: kind, data: data)
        }
        offset = end
        throw .badOptions(layer: .tcp)
    }
}

@available(*, unavailable, message: "an iterator borrows its buffer")
extension TCPOptionIterator: Sendable {}

/// The TCP options connection tracking and fingerprinting care about, as
/// plain values (`nil` / `false` / 0 when absent). When an option repeats,
/// the last occurrence wins.
public struct TCPOptionSummary: Sendable, Equatable {
    /// How many options were present, padding (NOP, EOL) included.
    public var count: Int = 0
    /// The MSS option's value.
    public var maximumSegmentSize: UInt16? = nil
    /// The window scale shift count as sent.
    public var windowScale: UInt8? = nil
    /// Whether SACK Permitted was present.
    public var sackPermitted: Bool = false
    /// The number of SACK blocks in the SACK option.
    public var sackBlockCount: Int = 0
    /// The timestamp option's TSval.
    public var timestampValue: UInt32? = nil
    /// The timestamp option's TSecr.
    public var timestampEchoReply: UInt32? = nil

    /// No options.
    public init() {}
}
