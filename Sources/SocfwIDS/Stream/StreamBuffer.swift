// One direction's stream bytes: the window history and the out-of-order data held
// after it, in one heap block. Only mechanics live here (placing, comparing,
// compacting, moving bytes); what may be allocated and what to count is the
// reassembler's business (StreamReassembler.swift).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run of held (not yet deliverable) stream bytes, by sequence number: `start`
/// inclusive, `end` exclusive.
struct HeldRange: Equatable {
    var start: UInt32
    var end: UInt32
}

/// A view of one heap block holding a direction's bytes. Layout:
///
///     [Header, 16 B][HeldRange × (maxHeldRanges + 1)][data: capacity bytes]
///
/// Positions in `data` are relative to the direction's next expected sequence
/// number `nextSeq`, which the owner keeps and passes in:
/// - `data[0 ..< historyLength]` is history: the bytes just before `nextSeq`, oldest
///   first (what the window shows, plus not yet compacted older bytes);
/// - a held byte with sequence number `s` is at `data[historyLength + (s - nextSeq)]`.
///
/// Invariants (`nextSeq` being the owner's):
/// - `held[0 ..< heldCount]` is sorted, its ranges are disjoint, do not touch, and
///   each lies within `nextSeq ..< nextSeq + capacity - historyLength` (so within 2^31
///   of `nextSeq`: positions are plain distances);
/// - a range starts at `nextSeq` only between placing in-order data and delivering
///   it, or after in-order data was delivered unbuffered up to a held range (it is
///   delivered with the next segment);
/// - `heldCount <= maxHeldRanges` at rest; the spare entry takes in-order data that
///   is delivered in the same call;
/// - `historyLength + heldExtent <= capacity`.
///
/// A plain pointer wrapper: copies share the block, `deallocate` ends it.
struct StreamBuffer {
    let base: UnsafeMutableRawPointer

    struct Header {
        var capacity: Int32
        var historyLength: Int32
        var heldCount: Int32
        var reserved: Int32
    }

    /// Separate holes a direction may hold data around. More fragments than this is
    /// not what a lossy path produces; refusing them bounds the work per segment.
    static let maxHeldRanges = 32
    static let heldOffset = MemoryLayout<Header>.stride
    static let dataOffset = (heldOffset + (maxHeldRanges + 1) * MemoryLayout<HeldRange>.stride + 15) & ~15

    /// Bytes of the heap block for `capacity` data bytes (what memcap accounting counts).
    @inline(__always)
    static func blockBytes(capacity: Int) -> Int { dataOffset + capacity }

    /// A new block with room for `capacity` data bytes, empty.
    static func allocate(capacity: Int) -> StreamBuffer {
        precondition(capacity > 0 && capacity < Int(Int32.max) - dataOffset)
        let base = UnsafeMutableRawPointer.allocate(byteCount: blockBytes(capacity: capacity), alignment: 16)
        base.bindMemory(to: Header.self, capacity: 1)
            .initialize(to: Header(capacity: Int32(capacity), historyLength: 0, heldCount: 0, reserved: 0))
        (base + heldOffset).bindMemory(to: HeldRange.self, capacity: maxHeldRanges + 1)
        return StreamBuffer(base: base)
    }

    func deallocate() { base.deallocate() }

    @inline(__always)
    private var header: UnsafeMutablePointer<Header> { base.assumingMemoryBound(to: Header.self) }

    @inline(__always)
    var held: UnsafeMutablePointer<HeldRange> { (base + Self.heldOffset).assumingMemoryBound(to: HeldRange.self) }

    @inline(__always)
    var data: UnsafeMutableRawPointer { base + Self.dataOffset }

    var capacity: Int {
        @inline(__always) get { Int(header.pointee.capacity) }
    }

    var historyLength: Int {
        @inline(__always) get { Int(header.pointee.historyLength) }
        @inline(__always) nonmutating set { header.pointee.historyLength = Int32(newValue) }
    }

    var heldCount: Int {
        @inline(__always) get { Int(header.pointee.heldCount) }
        @inline(__always) nonmutating set { header.pointee.heldCount = Int32(newValue) }
    }

    /// Distance from `nextSeq` to `sequence`, for sequence numbers known to lie in
    /// `nextSeq ..< nextSeq + 2^31` (every held range does, by the invariants).
    @inline(__always)
    static func position(_ sequence: UInt32, after nextSeq: UInt32) -> Int { Int(sequence &- nextSeq) }

    /// One past the last held byte, relative to `nextSeq`; 0 when nothing is held.
    func heldExtent(nextSeq: UInt32) -> Int {
        let count = heldCount
        return count == 0 ? 0 : Self.position(held[count - 1].end, after: nextSeq)
    }

    /// Relative start of the first held range; nil when nothing is held.
    func firstHeldPosition(nextSeq: UInt32) -> Int? {
        heldCount == 0 ? nil : Self.position(held[0].start, after: nextSeq)
    }

    /// Data bytes in use: history plus the held extent.
    func usedBytes(nextSeq: UInt32) -> Int { historyLength + heldExtent(nextSeq: nextSeq) }

    /// Drops the oldest `count` history bytes in place (memmove of what follows).
    func compact(dropping count: Int, nextSeq: UInt32) {
        guard count > 0 else { return }
        let used = usedBytes(nextSeq: nextSeq)
        data.copyMemory(from: data + count, byteCount: used - count)
        historyLength -= count
    }

    /// Copies this buffer into a new block of `newCapacity` data bytes, leaving out
    /// the oldest `dropping` history bytes, and frees this one.
    func moved(toCapacity newCapacity: Int, dropping: Int, nextSeq: UInt32) -> StreamBuffer {
        let used = usedBytes(nextSeq: nextSeq)
        precondition(used - dropping <= newCapacity)
        let moved = StreamBuffer.allocate(capacity: newCapacity)
        moved.historyLength = historyLength - dropping
        moved.heldCount = heldCount
        moved.held.initialize(from: held, count: heldCount)
        moved.data.copyMemory(from: data + dropping, byteCount: used - dropping)
        deallocate()
        return moved
    }

    /// Forgets the history and every held byte before relative position `count`, and
    /// moves the held bytes after it so they sit right for `nextSeq + count`, which the
    /// caller makes the new next expected sequence number (delivering past data that
    /// never went through the buffer, or skipping a gap).
    func discard(upTo count: Int, nextSeq: UInt32) {
        let extent = heldExtent(nextSeq: nextSeq)
        var dropped = 0
        while dropped < heldCount && Self.position(held[dropped].end, after: nextSeq) <= count { dropped += 1 }
        if dropped > 0 {
            (held).update(from: held + dropped, count: heldCount - dropped)
            heldCount -= dropped
        }
        if heldCount > 0 && Self.position(held[0].start, after: nextSeq) < count {
            held[0].start = nextSeq &+ UInt32(count)
        }
        if extent > count {
            data.copyMemory(from: data + historyLength + count, byteCount: extent - count)
        }
        historyLength = 0
    }

    /// Makes `source[0 ..< count]` the history (which `discard` left empty), moving the
    /// held bytes after it. The caller checked `count + heldExtent <= capacity`.
    func restartHistory(with source: UnsafeRawPointer, count: Int, nextSeq: UInt32) {
        precondition(historyLength == 0 && count + heldExtent(nextSeq: nextSeq) <= capacity)
        let extent = heldExtent(nextSeq: nextSeq)
        if extent > 0 { (data + count).copyMemory(from: data, byteCount: extent) }
        data.copyMemory(from: source, byteCount: count)
        historyLength = count
    }

    /// Whether `source[0 ..< to - from]`, the bytes for relative positions
    /// `from ..< to`, differ from history at negative positions (`from ..< to` must
    /// end at or before 0); positions older than the history are not compared.
    func differsFromHistory(_ source: UnsafeRawPointer, from: Int, to: Int) -> Bool {
        let history = historyLength
        let lower = max(from, -history)
        guard lower < to else { return false }
        return memcmp(data + history + lower, source + (lower - from), to - lower) != 0
    }

    /// Outcome of `insert`.
    struct Insertion {
        /// False when the data would need one hole more than allowed; nothing changed.
        var accepted = true
        /// Some already-held byte differs from the new copy (the held one was kept).
        var mismatch = false
        /// New bytes that were already held.
        var alreadyHeld = 0
    }

    /// Places the bytes for relative positions `from ..< to` (`source[0]` is the byte
    /// at `from`, `0 <= from < to`): bytes not held yet are copied in, bytes already
    /// held are only compared (first copy wins), and the held ranges absorb
    /// `from ..< to`. The caller made room: `historyLength + to <= capacity`.
    /// `allowExtraRange` lets a range starting at 0 (delivered right after) use the
    /// spare entry.
    func insert(_ source: UnsafeRawPointer, from: Int, to: Int, nextSeq: UInt32, allowExtraRange: Bool) -> Insertion {
        let count = heldCount
        // Ranges i ..< j overlap or touch from ..< to.
        var i = 0
        while i < count && Self.position(held[i].end, after: nextSeq) < from { i += 1 }
        var j = i
        while j < count && Self.position(held[j].start, after: nextSeq) <= to { j += 1 }
        var result = Insertion()
        if i == j && count >= Self.maxHeldRanges + (allowExtraRange ? 1 : 0) {
            result.accepted = false
            return result
        }

        let target = data + historyLength
        var cursor = from
        for k in i..<j {
            let rangeStart = Self.position(held[k].start, after: nextSeq)
            let rangeEnd = Self.position(held[k].end, after: nextSeq)
            if rangeStart > cursor {
                let gapEnd = min(rangeStart, to)
                (target + cursor).copyMemory(from: source + (cursor - from), byteCount: gapEnd - cursor)
                cursor = gapEnd
            }
            let overlapEnd = min(rangeEnd, to)
            if overlapEnd > cursor {
                if memcmp(target + cursor, source + (cursor - from), overlapEnd - cursor) != 0 { result.mismatch = true }
                result.alreadyHeld += overlapEnd - cursor
                cursor = overlapEnd
            }
        }
        if cursor < to {
            (target + cursor).copyMemory(from: source + (cursor - from), byteCount: to - cursor)
        }

        if i == j {
            (held + i + 1).update(from: held + i, count: count - i)
            held[i] = HeldRange(start: nextSeq &+ UInt32(from), end: nextSeq &+ UInt32(to))
            heldCount = count + 1
        } else {
            let start = min(from, Self.position(held[i].start, after: nextSeq))
            let end = max(to, Self.position(held[j - 1].end, after: nextSeq))
            held[i] = HeldRange(start: nextSeq &+ UInt32(start), end: nextSeq &+ UInt32(end))
            let removed = j - i - 1
            if removed > 0 {
                (held + i + 1).update(from: held + j, count: count - j)
                heldCount = count - removed
            }
        }
        return result
    }

    /// Whether `source`, the bytes for relative positions `from ..< to`, differs from
    /// held bytes it overlaps; also how many of its bytes are held.
    func compareHeld(_ source: UnsafeRawPointer, from: Int, to: Int, nextSeq: UInt32) -> (mismatch: Bool, alreadyHeld: Int) {
        var mismatch = false
        var alreadyHeld = 0
        let target = data + historyLength
        for k in 0..<heldCount {
            let lower = max(from, Self.position(held[k].start, after: nextSeq))
            let upper = min(to, Self.position(held[k].end, after: nextSeq))
            if lower >= to { break }
            guard lower < upper else { continue }
            if memcmp(target + lower, source + (lower - from), upper - lower) != 0 { mismatch = true }
            alreadyHeld += upper - lower
        }
        return (mismatch, alreadyHeld)
    }

    /// When the first held range starts at `nextSeq`, removes it and returns its
    /// length: those bytes are now in order, right after the history. Otherwise 0.
    func takeContiguous(nextSeq: UInt32) -> Int {
        guard heldCount > 0, held[0].start == nextSeq else { return 0 }
        let length = Self.position(held[0].end, after: nextSeq)
        held.update(from: held + 1, count: heldCount - 1)
        heldCount -= 1
        return length
    }
}
