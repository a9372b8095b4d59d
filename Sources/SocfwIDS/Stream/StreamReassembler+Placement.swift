// Where a segment's bytes go: old (compared, dropped), in order (delivered with the
// window), or future (held at their final position until the gap fills). Positions
// are relative to the direction's next expected sequence number; negative is old.

extension StreamReassembler {
    typealias DirectionPointer = UnsafeMutablePointer<StreamDirectionState>

    /// `source[0 ..< count]` is the segment's data, starting `relative` bytes after
    /// the next expected byte.
    func place(_ state: DirectionPointer, relative: Int, source: UnsafeRawPointer, count: Int,
               window: Bool = true) -> StreamChunk? {
        let end = relative + count
        if end <= 0 {
            // Entirely old: a retransmission. Compare what the window still has.
            if let buffer = state.pointee.buffer, buffer.differsFromHistory(source, from: relative, to: end) {
                lastSegmentEvents.insert(.overlapMismatch)
            }
            lastSegmentEvents.insert(.retransmission)
            return nil
        }
        if relative < 0 {
            // Starts before the next expected byte, ends after it: the tail is new.
            if let buffer = state.pointee.buffer, buffer.differsFromHistory(source, from: relative, to: 0) {
                lastSegmentEvents.insert(.overlapMismatch)
            }
            lastSegmentEvents.insert(.overlap)
            return deliverInOrder(state, source: source - relative, count: end, window: window)
        }
        if relative == 0 {
            return deliverInOrder(state, source: source, count: end, window: window)
        }
        return holdOutOfOrder(state, source: source, from: relative, to: end)
    }

    /// Bytes the direction may still deliver before its depth.
    @inline(__always)
    func depthRemaining(_ state: DirectionPointer) -> Int {
        depthLimit == .max ? Int.max : Int(depthLimit - state.pointee.nextOffset)
    }

    /// `source[0 ..< count]` starts at the next expected byte.
    func deliverInOrder(_ state: DirectionPointer, source: UnsafeRawPointer, count: Int,
                        window: Bool = true) -> StreamChunk? {
        let count = min(count, depthRemaining(state))
        tally.inOrder += 1
        if !window, state.pointee.buffer.map({ $0.heldCount == 0 }) ?? true {
            // No history wanted and nothing waiting: hand the packet's bytes out as they are.
            // The history no longer ends at the next expected byte: drop it.
            state.pointee.buffer?.historyLength = 0
            let chunk = StreamChunk(bytes: UnsafeRawBufferPointer(start: source, count: count), newDataStart: 0,
                                    streamOffset: state.pointee.nextOffset)
            advance(state, by: count)
            return chunk
        }
        guard let buffer = state.pointee.buffer else {
            if let buffer = allocateBuffer(state, ahead: count) {
                buffer.data.copyMemory(from: source, byteCount: count)
                return deliver(state, buffer: buffer, count: count)
            }
            return deliverUnbuffered(state, source: source, count: count)
        }
        if buffer.heldCount == 0 {
            // The common case: nothing held, append after the history.
            if buffer.historyLength + count <= buffer.capacity || makeRoom(state, ahead: count) {
                let buffer = state.pointee.buffer.unsafelyUnwrapped
                (buffer.data + buffer.historyLength).copyMemory(from: source, byteCount: count)
                return deliver(state, buffer: buffer, count: count)
            }
            return deliverUnbuffered(state, source: source, count: count)
        }
        // Fills a gap: merge with what is held, then deliver all that is contiguous.
        let nextSeq = state.pointee.nextSeq
        guard makeRoom(state, ahead: max(count, buffer.heldExtent(nextSeq: nextSeq))) else {
            return deliverUnbuffered(state, source: source, count: count)
        }
        let room = state.pointee.buffer.unsafelyUnwrapped
        let insertion = room.insert(source, from: 0, to: count, nextSeq: nextSeq, allowExtraRange: true)
        // At rest at most `maxHeldRanges` are held, so the spare entry is free; should that
        // ever not hold, delivering unbuffered is still correct.
        guard insertion.accepted else { return deliverUnbuffered(state, source: source, count: count) }
        if insertion.mismatch { lastSegmentEvents.insert(.overlapMismatch) }
        if insertion.alreadyHeld > 0 { lastSegmentEvents.insert(.overlap) }
        return deliver(state, buffer: room, count: room.takeContiguous(nextSeq: nextSeq))
    }

    /// Returns the `count` bytes right after the history as a chunk with its window,
    /// and moves the direction past them. They stay in place as history.
    func deliver(_ state: DirectionPointer, buffer: StreamBuffer, count: Int) -> StreamChunk {
        let history = buffer.historyLength
        let shown = min(history, config.windowBytes)
        let chunk = StreamChunk(
            bytes: UnsafeRawBufferPointer(start: buffer.data + (history - shown), count: shown + count),
            newDataStart: shown,
            streamOffset: state.pointee.nextOffset - UInt64(shown))
        buffer.historyLength = history + count
        advance(state, by: count)
        return chunk
    }

    /// Returns in-order bytes straight from the packet, without window, when they
    /// cannot be buffered. Held data they cover is compared and dropped; the packet's
    /// tail becomes the history, as far as the buffer has room, so the next chunk still
    /// has a window.
    func deliverUnbuffered(_ state: DirectionPointer, source: UnsafeRawPointer, count: Int) -> StreamChunk {
        if let buffer = state.pointee.buffer {
            let nextSeq = state.pointee.nextSeq
            let comparison = buffer.compareHeld(source, from: 0, to: count, nextSeq: nextSeq)
            if comparison.mismatch { lastSegmentEvents.insert(.overlapMismatch) }
            if comparison.alreadyHeld > 0 { lastSegmentEvents.insert(.overlap) }
            buffer.discard(upTo: count, nextSeq: nextSeq)
            let after = nextSeq &+ UInt32(truncatingIfNeeded: count)
            let keep = min(config.windowBytes, count, buffer.capacity - buffer.heldExtent(nextSeq: after))
            if keep > 0 { buffer.restartHistory(with: source + (count - keep), count: keep, nextSeq: after) }
        }
        lastSegmentEvents.insert(.unbuffered)
        let chunk = StreamChunk(bytes: UnsafeRawBufferPointer(start: source, count: count), newDataStart: 0,
                                streamOffset: state.pointee.nextOffset)
        advance(state, by: count)
        return chunk
    }

    /// Moves the next expected byte forward over `count` delivered bytes.
    @inline(__always)
    func advance(_ state: DirectionPointer, by count: Int) {
        state.pointee.nextSeq &+= UInt32(truncatingIfNeeded: count)
        state.pointee.nextOffset += UInt64(count)
        state.pointee.refusedBytes = 0
        tally.chunks += 1
        tally.deliveredBytes += UInt64(count)
        if state.pointee.nextOffset >= depthLimit { reachDepth(state) }
    }

    /// Out-of-order data `source[0 ..< to - from]`, for relative positions
    /// `from ..< to` (`from > 0`).
    ///
    /// Held while it lies within `outOfOrderBytes` of the next expected byte; beyond
    /// that it is refused, because holding without bound is what a hostile sender
    /// wants. Refusing is safe inline when the owner drops the refused packet (the
    /// sender retransmits it); when the packet passed, the receiver has bytes we never
    /// will, and the stream would wait forever. So once a span's worth of data was
    /// refused without the stream moving, the gap is given up: the stream resumes at
    /// the earliest data we have (the first held byte, or this segment).
    func holdOutOfOrder(_ state: DirectionPointer, source: UnsafeRawPointer, from: Int, to: Int) -> StreamChunk? {
        // Bytes past the depth are never reassembled: not held, not refused.
        let depth = depthRemaining(state)
        if from >= depth { return nil }
        var from = from
        var to = min(to, depth)
        let limit = config.outOfOrderBytes
        if to > limit {
            let refused = to - max(from, limit)
            if Int(state.pointee.refusedBytes) + refused >= max(config.outOfOrderBytes, 1) {
                let firstHeld = state.pointee.buffer?.firstHeldPosition(nextSeq: state.pointee.nextSeq) ?? from
                let target = min(firstHeld, from)
                if target > 0 {
                    // target <= from < depth: the skip cannot reach the depth.
                    skipGap(state, by: target)
                    from -= target
                    to -= target
                    if from == 0 { return deliverInOrder(state, source: source, count: to) }
                }
            }
            if to > limit {
                refuse(state, bytes: to - max(from, limit))
                lastSegmentEvents.insert(.outOfOrderDropped)
                to = max(from, limit)
            }
        }
        if from < to { hold(state, source: source, from: from, to: to) }
        // After a skipped gap the first held range may now start at the next byte.
        if let buffer = state.pointee.buffer {
            let contiguous = buffer.takeContiguous(nextSeq: state.pointee.nextSeq)
            if contiguous > 0 { return deliver(state, buffer: buffer, count: contiguous) }
        }
        return nil
    }

    /// Stores `from ..< to` (within the span and the depth) in the buffer.
    private func hold(_ state: DirectionPointer, source: UnsafeRawPointer, from: Int, to: Int) {
        let nextSeq = state.pointee.nextSeq
        if let buffer = state.pointee.buffer {
            guard makeRoom(state, ahead: max(to, buffer.heldExtent(nextSeq: nextSeq))) else {
                refuse(state, bytes: to - from)
                if !lastSegmentEvents.contains(.memcapHit) { lastSegmentEvents.insert(.outOfOrderDropped) }
                return
            }
        } else if allocateBuffer(state, ahead: to) == nil {
            refuse(state, bytes: to - from)
            if !lastSegmentEvents.contains(.memcapHit) { lastSegmentEvents.insert(.outOfOrderDropped) }
            return
        }
        let buffer = state.pointee.buffer.unsafelyUnwrapped
        let insertion = buffer.insert(source, from: from, to: to, nextSeq: nextSeq, allowExtraRange: false)
        guard insertion.accepted else {
            refuse(state, bytes: to - from)
            lastSegmentEvents.insert(.outOfOrderDropped)
            return
        }
        if insertion.mismatch { lastSegmentEvents.insert(.overlapMismatch) }
        if insertion.alreadyHeld == to - from {
            lastSegmentEvents.insert(.retransmission)
        } else {
            lastSegmentEvents.insert(.outOfOrderHeld)
            if insertion.alreadyHeld > 0 { lastSegmentEvents.insert(.overlap) }
        }
    }

    @inline(__always)
    private func refuse(_ state: DirectionPointer, bytes: Int) {
        state.pointee.refusedBytes = UInt32(clamping: Int(state.pointee.refusedBytes) + bytes)
    }

    /// Gives up on the `count` bytes after the next expected byte: the stream resumes
    /// after them with an empty window.
    func skipGap(_ state: DirectionPointer, by count: Int) {
        state.pointee.buffer?.discard(upTo: count, nextSeq: state.pointee.nextSeq)
        state.pointee.nextSeq &+= UInt32(truncatingIfNeeded: count)
        state.pointee.nextOffset += UInt64(count)
        state.pointee.refusedBytes = 0
        tally.gapBytesSkipped += UInt64(count)
        lastSegmentEvents.insert(.gapSkipped)
        if state.pointee.nextOffset >= depthLimit { reachDepth(state) }
    }

    /// The direction delivered `depthBytes`: stop reassembling it and give its buffer
    /// back once the chunk that may point into it is no longer valid.
    func reachDepth(_ state: DirectionPointer) {
        state.pointee.flags.insert(.finished)
        lastSegmentEvents.insert(.depthReached)
        if let buffer = state.pointee.buffer {
            pendingRelease = buffer
            state.pointee.buffer = nil
        }
    }
}
