// What the reassembler did, as running totals (`StreamCounters`, for the stats
// line and EVE `stats`) and per segment (`StreamSegmentEvents`, for anomalies
// the owner raises on the packet at hand, as Suricata's stream events).

/// Running totals of one `StreamReassembler`, plus two gauges. A segment is counted
/// in `segments` and then in each category that applies (an overlapping segment
/// that also fills a gap is both `overlaps` and `inOrder`).
public struct StreamCounters: Sendable, Equatable {
    /// Segments with payload handed to `segment` (RST payloads excluded).
    public var segments: UInt64 = 0
    /// Segments whose data started at or before the next expected byte and brought
    /// new bytes.
    public var inOrder: UInt64 = 0
    /// Out-of-order segments whose data (all or part) was held for later.
    public var outOfOrderHeld: UInt64 = 0
    /// Out-of-order segments with data not held: beyond `outOfOrderBytes` past the
    /// next expected byte, or too fragmented (a 33rd separate run of held data).
    /// Data not held for lack of memory is counted in `memcapHits` instead.
    public var outOfOrderDropped: UInt64 = 0
    /// Segments carrying only bytes already received (delivered or held).
    public var retransmissions: UInt64 = 0
    /// Segments carrying some bytes already received and some new ones.
    public var overlaps: UInt64 = 0
    /// Segments whose already-received bytes differ from the copy kept (held, or
    /// still in the window): the first copy was kept. A possible evasion attempt
    /// (Ptacek & Newsham 1998, "Insertion, Evasion, and Denial of Service").
    public var overlapMismatches: UInt64 = 0
    /// Directions that reached `depthBytes`.
    public var depthReached: UInt64 = 0
    /// Segments with data not buffered because of `memcapBytes`.
    public var memcapHits: UInt64 = 0
    /// Gaps given up on: the missing bytes are treated as lost and the stream goes on
    /// after them (the window restarts empty).
    public var gapsSkipped: UInt64 = 0
    /// Sequence space skipped over by those gaps.
    public var gapBytesSkipped: UInt64 = 0
    /// Chunks returned.
    public var chunks: UInt64 = 0
    /// Chunks pointing straight into the packet, without window (not bufferable:
    /// memcap, or a payload larger than a buffer may grow).
    public var unbufferedChunks: UInt64 = 0
    /// New in-order bytes delivered in chunks.
    public var deliveredBytes: UInt64 = 0
    /// Segments ignored: a slot outside the table, payload on an RST, data after the
    /// direction reached its depth.
    public var ignoredSegments: UInt64 = 0
    /// Gauge: stream buffers allocated now.
    public var activeBuffers = 0
    /// Gauge: bytes of stream buffers allocated now (what `memcapBytes` bounds).
    public var activeBytes = 0

    public init() {}
}

/// What happened to the last segment handed to `StreamReassembler.segment`, so the
/// caller can raise an anomaly on that packet or apply a policy to it.
public struct StreamSegmentEvents: OptionSet, Sendable, Hashable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// All of its bytes were already received.
    public static let retransmission = StreamSegmentEvents(rawValue: 1 << 0)
    /// Some of its bytes were already received.
    public static let overlap = StreamSegmentEvents(rawValue: 1 << 1)
    /// Already-received bytes differ from this copy; the first copy was kept.
    public static let overlapMismatch = StreamSegmentEvents(rawValue: 1 << 2)
    /// Held for later (it lies after a gap).
    public static let outOfOrderHeld = StreamSegmentEvents(rawValue: 1 << 3)
    /// Some or all of its bytes were not held (out-of-order limits). Inline, dropping
    /// the packet makes the sender retransmit it; passing it leaves the stream a hole
    /// that is eventually skipped.
    public static let outOfOrderDropped = StreamSegmentEvents(rawValue: 1 << 4)
    /// Its data was not buffered because of the memcap.
    public static let memcapHit = StreamSegmentEvents(rawValue: 1 << 5)
    /// A gap was skipped while handling it.
    public static let gapSkipped = StreamSegmentEvents(rawValue: 1 << 6)
    /// Its direction reached the depth with it (once per direction).
    public static let depthReached = StreamSegmentEvents(rawValue: 1 << 7)
    /// The returned chunk points into the packet and carries no window.
    public static let unbuffered = StreamSegmentEvents(rawValue: 1 << 8)
    /// Not reassembled at all (see `StreamCounters.ignoredSegments`).
    public static let ignored = StreamSegmentEvents(rawValue: 1 << 9)
}
