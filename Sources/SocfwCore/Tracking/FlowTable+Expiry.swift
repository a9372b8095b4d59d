extension FlowTable {
    /// Files a live entry again after its `expiresAtNanoseconds` moved
    /// earlier than before (e.g. ESTABLISHED → TIME_WAIT). A later expiry
    /// needs no call: the wheel re-files the entry when its old slot comes
    /// round.
    @inlinable
    public mutating func reschedule(_ index: Int32) {
        let i = Int(index)
        precondition(wheel.isLive(i), "FlowTable.reschedule: not a live entry")
        wheel.unlink(i)
        wheel.file(i, expiresAtNanoseconds: entries[i].expiresAtNanoseconds)
    }

    /// Advances the wheel to `now`: removes the entries whose expiry has
    /// passed (handing each to `onExpire` once it is out of the table) and
    /// re-files those whose expiry moved later. Visits at most `budget`
    /// entries per call and carries on from there on the next call, so a
    /// worker calls it once per batch and never stalls on a full slot.
    /// Returns how many entries it removed.
    ///
    /// A tick is processed once it has wholly passed (`now` is past its
    /// end), so an entry is removed at most one tick after its expiry. After
    /// an idle gap of more than a wheel's worth of ticks every slot is
    /// taken at once (at most 4,096 list splices) rather than tick by tick.
    @inlinable
    @discardableResult
    public mutating func expire(now: Int64, budget: Int, onExpire: (Entry) -> Void) -> Int {
        expire(now: now, budget: budget, onExpireAt: { onExpire($1) })
    }

    /// `expire`, also telling the slot each entry had (for side tables).
    @inlinable
    @discardableResult
    public mutating func expire(now: Int64, budget: Int, onExpireAt: (Int32, Entry) -> Void) -> Int {
        wheel.start(now: now)
        let nowTick = wheel.tick(of: now)
        var visits = 0
        var removed = 0
        while visits < budget {
            if let node = wheel.firstPending {
                visits += 1
                let expiresAt = entries[node].expiresAtNanoseconds
                if expiresAt <= now {
                    let entry = detach(Int32(node))
                    counters.expired += 1
                    removed += 1
                    onExpireAt(Int32(node), entry)
                } else {
                    // Not due: its expiry moved later since it was filed, or
                    // it is due more than a revolution away.
                    wheel.unlink(node)
                    wheel.file(node, expiresAtNanoseconds: expiresAt)
                }
            } else if wheel.nextTick < nowTick {
                if nowTick - wheel.nextTick >= Int64(TimerWheel.size) {
                    for tick in wheel.nextTick..<wheel.nextTick + Int64(TimerWheel.size) {
                        wheel.movePending(tick: tick)
                    }
                    wheel.nextTick = nowTick
                } else {
                    wheel.movePending(tick: wheel.nextTick)
                    wheel.nextTick += 1
                }
            } else {
                break
            }
        }
        return removed
    }
}
