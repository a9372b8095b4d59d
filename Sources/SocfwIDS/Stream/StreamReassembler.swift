// Per-flow TCP stream reassembly for the signature engine: for each direction of a
// tracked TCP flow, turns segments in any order into the in-order byte stream, and
// hands each piece of new data to the caller together with the window of stream
// before it, so that a pattern split across segments is found.
//
// Design, overlap policy, limits and counters: Docs/stream-reassembly.md. This file
// holds the public surface and the per-slot state; the byte placement is in
// StreamReassembler+Placement.swift, memory accounting in StreamReassembler+Memory.swift,
// the storage of one direction in StreamBuffer.swift.

/// New in-order stream data with the window of stream before it, contiguous.
///
/// Borrowed memory: valid until the next call into the reassembler that returned it
/// (and, for an unbuffered chunk, while the packet's payload is). Copy what must live
/// longer.
public struct StreamChunk {
    /// `[window | new data]`: the last `min(delivered so far, windowBytes)` stream bytes
    /// before the new data, then the new data. The window is empty after a skipped gap
    /// and for unbuffered chunks (`StreamSegmentEvents.unbuffered`).
    public var bytes: UnsafeRawBufferPointer
    /// Index in `bytes` where the new data begins (the window's length).
    public var newDataStart: Int
    /// Stream offset of `bytes[0]`: bytes since this direction's first data byte (the
    /// byte after the SYN, or the first byte seen for a flow picked up mid-stream).
    /// Skipped gaps count, so offsets always match sequence-number distances.
    public var streamOffset: UInt64

    /// The new data alone.
    public var newData: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[newDataStart...]) }

    /// Stream offset of the first new byte.
    public var newDataOffset: UInt64 { streamOffset + UInt64(newDataStart) }
}

/// One direction of one slot. 25 bytes (stride 32): what must survive while the
/// direction owns no buffer (before its first held byte, or under memcap).
struct StreamDirectionState {
    /// Stream offset of `nextSeq`: bytes delivered or skipped so far.
    var nextOffset: UInt64 = 0
    /// Window history and held data; nil until needed, and after depth or reset.
    var buffer: StreamBuffer?
    /// The next expected sequence number (valid once `.started`).
    var nextSeq: UInt32 = 0
    /// Out-of-order bytes refused since the direction last moved forward; a span's
    /// worth of them means the gap will not fill (see `holdOutOfOrder`).
    var refusedBytes: UInt32 = 0
    var flags: Flags = []

    struct Flags: OptionSet {
        var rawValue: UInt8
        /// `nextSeq` is known (from a SYN or the first data segment).
        static let started = Flags(rawValue: 1 << 0)
        /// Depth reached: nothing more is reassembled in this direction.
        static let finished = Flags(rawValue: 1 << 1)
    }
}

/// Per-slot state, reserved for every slot at init: 72 bytes.
struct StreamSlot {
    var toServer = StreamDirectionState()
    var toClient = StreamDirectionState()
    /// The flow that owns the slot now; another value means the slot was reused.
    var flowID: UInt64 = 0
}

/// Reassembles the TCP streams of the flows of one connection tracker, both
/// directions of each.
///
/// Owned by one thread (the queue worker that owns the tracker); not Sendable.
/// Flows are identified by the tracker's slot and flow ID: a slot is reused by later
/// flows, and a different flow ID (or `newFlow`) on a slot starts from scratch.
///
/// Invariants:
/// - `memoryBytes <= config.memcapBytes` at all times (every buffer allocation is
///   checked first);
/// - per direction, delivered data is exactly the stream bytes from the first data
///   byte, in order, each at most once, with skipped gaps (counted) the only holes;
///   `depthBytes` bounds how far;
/// - data already received (delivered or held) is never replaced (first wins).
public final class StreamReassembler {
    /// The limits it was made with.
    public let config: StreamConfig
    /// Slots `0 ..< flowCapacity` are valid (the tracker's table capacity).
    public let flowCapacity: Int

    let slots: UnsafeMutablePointer<StreamSlot>
    var tally = StreamCounters()
    /// Bytes of stream buffers allocated now, including the one a returned chunk may
    /// still point into. Never above `config.memcapBytes`.
    public internal(set) var memoryBytes = 0
    var activeBuffers = 0
    /// What happened to the segment of the last `segment` call.
    public internal(set) var lastSegmentEvents: StreamSegmentEvents = []
    /// The buffer of a direction that reached its depth while the chunk just returned
    /// points into it: freed at the next call.
    var pendingRelease: StreamBuffer?
    /// `config.depthBytes`, or `UInt64.max` for no limit.
    let depthLimit: UInt64
    /// Largest data capacity of a buffer: window + out-of-order span, plus as much
    /// again (at least a 64 KiB segment) so compaction stays amortised.
    let maxCapacity: Int
    let toClientOffset: Int

    /// Larger payloads are not reassembled: beyond 2^30 the sequence arithmetic would
    /// lose its meaning, and no TCP segment gets near it.
    static let maxPayloadBytes = 1 << 30

    /// - Parameters:
    ///   - config: validated limits (`config.validate()`); an invalid one traps.
    ///   - flowCapacity: the tracker's slot count, 1...2^24. `reservedBytes` of slot
    ///     state is allocated now; buffers come later, with data.
    public init(config: StreamConfig, flowCapacity: Int) {
        do throws(StreamConfigError) { try config.validate() } catch { preconditionFailure(error.description) }
        precondition(flowCapacity > 0 && flowCapacity <= 1 << 24, "StreamReassembler flowCapacity must be 1...16,777,216")
        self.config = config
        self.flowCapacity = flowCapacity
        depthLimit = config.depthBytes == 0 ? UInt64.max : UInt64(config.depthBytes)
        let core = config.windowBytes + config.outOfOrderBytes
        maxCapacity = (core + max(core, 1 << 16) + 1023) & ~1023
        toClientOffset = MemoryLayout<StreamSlot>.offset(of: \StreamSlot.toClient)!
        slots = .allocate(capacity: flowCapacity)
        slots.initialize(repeating: StreamSlot(), count: flowCapacity)
    }

    deinit {
        releasePending()
        for slot in 0..<flowCapacity { reset(slots + slot) }
        slots.deinitialize(count: flowCapacity)
        slots.deallocate()
    }

    /// Bytes of per-slot state allocated at init (not part of `memoryBytes`).
    public var reservedBytes: Int { flowCapacity * MemoryLayout<StreamSlot>.stride }

    /// The running totals, with the gauges filled in.
    public var counters: StreamCounters {
        var counters = tally
        counters.activeBuffers = activeBuffers
        counters.activeBytes = memoryBytes
        return counters
    }

    /// Handles one TCP segment of a tracked flow; returns the new in-order data with
    /// its window, or nil when nothing new is in order (no payload, retransmission,
    /// held out-of-order segment, depth reached, RST).
    ///
    /// - Parameters:
    ///   - slot: the flow's slot in the tracker (`TrackResult.index`). Out of range:
    ///     ignored (counted).
    ///   - flowID: the flow's ID (`TrackResult.flowID`); differing from the slot's
    ///     current flow resets the slot.
    ///   - newFlow: the packet created the flow (`TrackResult.created`): resets the slot.
    ///   - direction: `.toServer` for the flow's original direction.
    ///   - sequence: the segment's sequence number.
    ///   - syn: a SYN: `sequence` is the ISN and data starts at `sequence + 1`. It sets
    ///     the direction's start unless data was already delivered.
    ///   - fin: a FIN. Nothing to do (the FIN follows the data); kept so the call reads
    ///     like the segment.
    ///   - rst: an RST: its payload is diagnostic text, not stream data (RFC 9293
    ///     §3.5.3), and is ignored. Release the flow when the tracker ends it.
    ///   - payload: the TCP payload; only read during the call unless the returned
    ///     chunk is unbuffered.
    /// - Returns: a chunk valid until the next call into this reassembler.
    ///   `lastSegmentEvents` says what happened to the segment either way.
    ///
    /// `window: false` when the caller needs the bytes in order but no history
    /// before them (an HTTP parser keeps its own state): in-order data with
    /// nothing held is then handed out straight from the packet, without
    /// copying or allocating; out-of-order data is still held.
    public func segment(slot: Int32, flowID: UInt64, newFlow: Bool, direction: StreamDirection,
                        sequence: UInt32, syn: Bool, fin: Bool, rst: Bool,
                        payload: UnsafeRawBufferPointer, window: Bool = true) -> StreamChunk? {
        releasePending()
        lastSegmentEvents = []
        guard slot >= 0, Int(slot) < flowCapacity else {
            if !payload.isEmpty { ignore() }
            return nil
        }
        let slotPointer = slots + Int(slot)
        if newFlow || slotPointer.pointee.flowID != flowID {
            reset(slotPointer)
            slotPointer.pointee.flowID = flowID
        }
        let state = (UnsafeMutableRawPointer(slotPointer) + (direction == .toServer ? 0 : toClientOffset))
            .assumingMemoryBound(to: StreamDirectionState.self)

        var dataSequence = sequence
        if syn {
            dataSequence = sequence &+ 1
            synchronize(state, dataSequence: dataSequence)
        }
        guard let source = payload.baseAddress, !payload.isEmpty else { return nil }
        guard !rst, !state.pointee.flags.contains(.finished), payload.count <= Self.maxPayloadBytes else {
            ignore()
            return nil
        }
        tally.segments += 1
        if !state.pointee.flags.contains(.started) {
            // Picked up mid-stream (or the SYN was not seen): the stream starts here.
            state.pointee.nextSeq = dataSequence
            state.pointee.flags.insert(.started)
        }
        let relative = Int(Int32(bitPattern: dataSequence &- state.pointee.nextSeq))
        let chunk = place(state, relative: relative, source: source, count: payload.count, window: window)
        if !lastSegmentEvents.isEmpty { record(lastSegmentEvents) }
        return chunk
    }

    /// Forgets a flow (it ended): frees its buffers. The next segment on the slot
    /// starts a new stream.
    public func release(slot: Int32) {
        releasePending()
        lastSegmentEvents = []
        guard slot >= 0, Int(slot) < flowCapacity else { return }
        reset(slots + Int(slot))
        slots[Int(slot)].flowID = 0
    }

    /// A SYN gives the ISN. It may only move a direction that has delivered and held
    /// nothing yet (a SYN retransmitted with a new ISN); later SYNs do not rewind it.
    private func synchronize(_ state: UnsafeMutablePointer<StreamDirectionState>, dataSequence: UInt32) {
        if !state.pointee.flags.contains(.started) {
            state.pointee.nextSeq = dataSequence
            state.pointee.flags.insert(.started)
        } else if state.pointee.nextOffset == 0, state.pointee.nextSeq != dataSequence,
                  state.pointee.buffer.map({ $0.heldCount == 0 }) ?? true {
            state.pointee.nextSeq = dataSequence
            state.pointee.refusedBytes = 0
        }
    }

    private func ignore() {
        tally.ignoredSegments += 1
        lastSegmentEvents.insert(.ignored)
    }

    /// Adds one segment's events to the totals.
    private func record(_ events: StreamSegmentEvents) {
        if events.contains(.retransmission) {
            tally.retransmissions += 1
        } else if events.contains(.overlap) {
            tally.overlaps += 1
        }
        if events.contains(.overlapMismatch) { tally.overlapMismatches += 1 }
        if events.contains(.outOfOrderHeld) { tally.outOfOrderHeld += 1 }
        if events.contains(.outOfOrderDropped) { tally.outOfOrderDropped += 1 }
        if events.contains(.memcapHit) { tally.memcapHits += 1 }
        if events.contains(.gapSkipped) { tally.gapsSkipped += 1 }
        if events.contains(.depthReached) { tally.depthReached += 1 }
        if events.contains(.unbuffered) { tally.unbufferedChunks += 1 }
    }
}

/// One worker thread owns a reassembler; it shares nothing and locks nothing.
@available(*, unavailable)
extension StreamReassembler: Sendable {}
