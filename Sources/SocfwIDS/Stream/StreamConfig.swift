// Limits of TCP stream reassembly, one set per `StreamReassembler` (one per queue
// worker). Docs/stream-reassembly.md explains each limit and what happens when it
// is reached; the defaults are Suricata's (stream.reassembly.depth 1 MiB,
// stream.reassembly.memcap 64 MiB) where Suricata has an equivalent.

/// How much of each TCP stream is reassembled, and how much memory that may take.
///
/// Validate with `validate()` before handing it to a `StreamReassembler`; the
/// reassembler treats an invalid configuration as a programmer error.
public struct StreamConfig: Sendable, Equatable {
    /// Stream bytes reassembled per direction, counted from the first data byte of
    /// that direction (Suricata's `stream.reassembly.depth`). Once a direction has
    /// delivered this many bytes it is no longer reassembled (counted in
    /// `StreamCounters.depthReached`). 0 means no limit.
    public var depthBytes: Int

    /// Bytes of already delivered stream kept in front of new data, so that a
    /// signature sees `[window | new data]` and finds a pattern split across segments.
    /// A pattern longer than `windowBytes + 1` bytes can still be missed when it is
    /// split; keep this at least as long as the longest content the signatures match.
    public var windowBytes: Int

    /// Per direction, how far past the next expected byte future (out-of-order) data
    /// is held while waiting for the gap to fill. It is a span of sequence space,
    /// not a byte count of held segments: held data is stored at its final position.
    /// Data beyond it is not held (`outOfOrderDropped`); after a span's worth of
    /// refused data without progress, the gap is skipped (`gapsSkipped`).
    public var outOfOrderBytes: Int

    /// All stream buffers of this reassembler together (Suricata's
    /// `stream.reassembly.memcap`). When an allocation would pass it, or pass half of
    /// it for a flow already above its fair share, the data is not buffered
    /// (`memcapHits`): in-order data is still delivered, straight from the packet.
    public var memcapBytes: Int

    /// Suricata's defaults where it has one: 1 MiB depth, 64 MiB memcap; 8 KiB of
    /// window and 64 KiB of out-of-order span.
    public init(depthBytes: Int = 1 << 20, windowBytes: Int = 8 << 10,
                outOfOrderBytes: Int = 64 << 10, memcapBytes: Int = 64 << 20) {
        self.depthBytes = depthBytes
        self.windowBytes = windowBytes
        self.outOfOrderBytes = outOfOrderBytes
        self.memcapBytes = memcapBytes
    }

    /// Allowed values. Window and out-of-order span stay far below 2^31 so every
    /// position inside a buffer is an unambiguous distance in sequence space
    /// (RFC 9293 §3.4 comparisons only hold within half the space).
    public static let depthRange: ClosedRange<Int> = 0...(1 << 40)
    public static let windowRange: ClosedRange<Int> = 0...(16 << 20)
    public static let outOfOrderRange: ClosedRange<Int> = 0...(16 << 20)
    public static let memcapRange: ClosedRange<Int> = 0...(1 << 40)

    /// Checks every field; the first one out of range is reported.
    public func validate() throws(StreamConfigError) {
        let checks: [(String, Int, ClosedRange<Int>)] = [
            ("depthBytes", depthBytes, Self.depthRange),
            ("windowBytes", windowBytes, Self.windowRange),
            ("outOfOrderBytes", outOfOrderBytes, Self.outOfOrderRange),
            ("memcapBytes", memcapBytes, Self.memcapRange),
        ]
        for (field, value, allowed) in checks where !allowed.contains(value) {
            throw .outOfRange(field: field, value: value, allowed: allowed)
        }
    }
}

/// Why a `StreamConfig` was refused.
public enum StreamConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case outOfRange(field: String, value: Int, allowed: ClosedRange<Int>)

    public var description: String {
        switch self {
        case let .outOfRange(field, value, allowed):
            "stream reassembly: \(field) is \(value), it must be within \(allowed.lowerBound)...\(allowed.upperBound)"
        }
    }
}

/// Which half of a TCP flow a segment belongs to.
public enum StreamDirection: Int, Sendable, CaseIterable {
    /// The flow's original direction (the side that sent the first packet; for a
    /// normal connection, the client).
    case toServer = 0
    /// The reply direction.
    case toClient = 1
}
