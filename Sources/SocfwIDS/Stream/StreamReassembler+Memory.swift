// Buffer sizing and the memcap. A direction gets a buffer with its first byte that
// must be kept; it grows by doubling (1 KiB granularity) up to `maxCapacity`, and
// history older than the window is dropped by compaction, which runs only when it
// frees at least a quarter of the buffer: every compaction moves at most three
// bytes per byte delivered since the previous one, so the cost per byte is O(1).
// A steady in-order flow settles at about twice the window (16 KiB for 8 KiB)
// and allocates nothing more.

extension StreamReassembler {
    /// Smallest buffer: a few segments.
    static let minimumCapacity = 1024

    @inline(__always)
    static func roundedCapacity(_ bytes: Int) -> Int { max(minimumCapacity, (bytes + 1023) & ~1023) }

    /// Whether `additional` more bytes may be allocated for a buffer that would then
    /// take `resultingBlockBytes`. Over the memcap: never. Over half of it: only for a
    /// buffer within its fair share (memcap / buffers), so one flow's out-of-order
    /// flood cannot take the memory every other flow's window needs.
    func mayAllocate(additional: Int, resultingBlockBytes: Int, newBuffer: Bool) -> Bool {
        let after = memoryBytes + additional
        guard after <= config.memcapBytes else { return false }
        if after > config.memcapBytes / 2 {
            let buffers = activeBuffers + (newBuffer ? 1 : 0)
            return resultingBlockBytes <= config.memcapBytes / max(buffers, 1)
        }
        return true
    }

    /// A first buffer with room for `ahead` bytes; nil (memcap hit noted, or too large).
    func allocateBuffer(_ state: DirectionPointer, ahead: Int) -> StreamBuffer? {
        let capacity = Self.roundedCapacity(ahead)
        guard capacity <= maxCapacity else { return nil }
        let bytes = StreamBuffer.blockBytes(capacity: capacity)
        guard mayAllocate(additional: bytes, resultingBlockBytes: bytes, newBuffer: true) else {
            lastSegmentEvents.insert(.memcapHit)
            return nil
        }
        let buffer = StreamBuffer.allocate(capacity: capacity)
        memoryBytes += bytes
        activeBuffers += 1
        state.pointee.buffer = buffer
        return buffer
    }

    /// Makes `historyLength + ahead <= capacity` hold, by compaction or growth; the
    /// direction's buffer may be replaced. When it may not grow, history is dropped
    /// down to what fits, even below the window (memcap hit noted when the memcap cut
    /// the window). False when `ahead` alone does not fit.
    func makeRoom(_ state: DirectionPointer, ahead: Int) -> Bool {
        let buffer = state.pointee.buffer.unsafelyUnwrapped
        let nextSeq = state.pointee.nextSeq
        let capacity = buffer.capacity
        let history = buffer.historyLength
        if history + ahead <= capacity { return true }
        let excess = max(0, history - config.windowBytes)
        let needed = history - excess + ahead
        if excess > 0 && excess * 4 >= capacity && needed <= capacity {
            buffer.compact(dropping: excess, nextSeq: nextSeq)
            return true
        }
        let minimum = Self.roundedCapacity(needed)
        var memcapRefused = false
        func grow(to newCapacity: Int) -> Bool {
            guard newCapacity > capacity else { return false }
            let additional = newCapacity - capacity
            guard mayAllocate(additional: additional, resultingBlockBytes: StreamBuffer.blockBytes(capacity: newCapacity),
                              newBuffer: false) else {
                memcapRefused = true
                return false
            }
            state.pointee.buffer = buffer.moved(toCapacity: newCapacity, dropping: excess, nextSeq: nextSeq)
            memoryBytes += additional
            return true
        }
        if minimum <= maxCapacity {
            // Double (amortised growth); under memory pressure settle for what is needed.
            let doubled = min(max(capacity * 2, minimum), maxCapacity)
            if grow(to: doubled) || (minimum < doubled && grow(to: minimum)) { return true }
        }
        // No growth: drop older history, below the window if need be, rather than fail.
        // Under memory pressure a shorter window beats none (or a hole in the stream).
        let keep = capacity - ahead
        guard keep >= 0 else {
            if memcapRefused { lastSegmentEvents.insert(.memcapHit) }
            return false
        }
        buffer.compact(dropping: history - keep, nextSeq: nextSeq)
        if memcapRefused && keep < min(history, config.windowBytes) { lastSegmentEvents.insert(.memcapHit) }
        return true
    }

    /// Frees the buffer a depth-reaching chunk pointed into; called first by every
    /// public entry point, when that chunk stops being valid.
    @inline(__always)
    func releasePending() {
        guard let buffer = pendingRelease else { return }
        pendingRelease = nil
        memoryBytes -= StreamBuffer.blockBytes(capacity: buffer.capacity)
        activeBuffers -= 1
        buffer.deallocate()
    }

    /// Frees both directions' buffers and forgets their state (flow ID untouched).
    func reset(_ slot: UnsafeMutablePointer<StreamSlot>) {
        free(slot.pointee.toServer.buffer)
        free(slot.pointee.toClient.buffer)
        slot.pointee.toServer = StreamDirectionState()
        slot.pointee.toClient = StreamDirectionState()
    }

    private func free(_ buffer: StreamBuffer?) {
        guard let buffer else { return }
        memoryBytes -= StreamBuffer.blockBytes(capacity: buffer.capacity)
        activeBuffers -= 1
        buffer.deallocate()
    }
}
