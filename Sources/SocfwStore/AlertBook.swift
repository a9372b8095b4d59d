import Synchronization

/// socfwd's alerts as the control socket sees them: numbered by socfwd (after the highest id
/// in the database, so ids never repeat across restarts, and an `alert` event's id is its
/// row's id), written to the `alerts` table by the `StoreWriter` off the packet path, and kept
/// in a bounded ring of the newest so that one not yet written is still listed and can be
/// acknowledged. Without a database the ring is all there is.
public final class AlertBook: Sendable {
    private struct State {
        var ring: [AlertRecord] = []
        /// Index of the oldest entry once the ring is full.
        var head = 0
        var nextID: Int64 = 1
        var store: SocfwStore?
        var writer: StoreWriter?
        /// Acknowledged before the writer wrote the row: until the writer
        /// has applied the acknowledgement too.
        var pendingAcks: [Int64: AlertRecord] = [:]
        /// The database holds alerts older than the ring's oldest (it had
        /// some when attached, or the ring has dropped some since).
        var olderOutsideRing = false

        /// The alert at logical index `i` (0 the oldest).
        func at(_ i: Int) -> AlertRecord { ring[(head + i) % ring.count] }

        /// `query`'s page from the ring alone, when the ring can answer it:
        /// `limit` matches within 4 × `limit` (at least 1,024) alerts from
        /// the cursor, or all the matches there are (nothing older outside
        /// the ring). nil: ask the database (a sparse filter is its job). The ring holds its alerts as they are now,
        /// acknowledgements included, and in id order (binary search for
        /// the cursor).
        func ringPage(_ query: AlertQuery) -> [AlertRecord]? {
            let n = ring.count
            var i = n - 1
            if let before = query.beforeID {
                var (lo, hi) = (0, n - 1)
                i = -1
                while lo <= hi {
                    let mid = (lo + hi) / 2
                    if at(mid).id < before { i = mid; lo = mid + 1 } else { hi = mid - 1 }
                }
            }
            var page: [AlertRecord] = []
            page.reserveCapacity(min(query.limit, 256))
            var budget = max(4 * query.limit, 1_024)
            while i >= 0, page.count < query.limit {
                if budget == 0 { return nil }
                budget -= 1
                let r = at(i)
                if query.matches(r) { page.append(r) }
                i -= 1
            }
            return page.count == query.limit || !olderOutsideRing ? page : nil
        }
    }

    public enum AckError: Error, Equatable {
        case unknown(Int64)
        case alreadyAcknowledged(AlertRecord)
        case store(String)
    }

    public let capacity: Int
    private let state = Mutex(State())
    private let changes = Atomic<UInt64>(0)

    /// Changes with every alert appended and every acknowledgement, after
    /// the change is visible to `visit`: a page rendered after reading
    /// generation g shows at least what g stands for, so a copy of it stays
    /// valid while the generation is still g.
    public var generation: UInt64 { changes.load(ordering: .acquiring) }

    public init(capacity: Int = 10_000) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// From now on alerts go to `store` through `writer`, numbered after its highest id.
    public func attach(store: SocfwStore, writer: StoreWriter) throws(StoreError) {
        let highest = try store.maxAlertID()
        state.withLock { s in
            s.store = store
            s.writer = writer
            s.nextID = max(s.nextID, highest + 1)
            if highest > 0 { s.olderOutsideRing = true }
        }
    }

    public var writer: StoreWriter? { state.withLock { $0.writer } }

    /// Numbers `record`, keeps it, queues its row; returns it with its id.
    /// Queued under the lock that numbers it: rows reach the writer in id
    /// order even when several threads append, which `visit` relies on (the
    /// database holds every id up to its highest, the ring the rest).
    @discardableResult
    public func append(_ record: AlertRecord) -> AlertRecord {
        state.withLock { s in
            var r = record
            r.id = s.nextID
            s.nextID += 1
            if s.ring.count < capacity {
                s.ring.append(r)
            } else {
                s.ring[s.head] = r
                s.head = (s.head + 1) % capacity
                // Without a database what the ring drops is gone.
                if s.store != nil { s.olderOutsideRing = true }
            }
            s.writer?.enqueue(.alert(r))
            changes.add(1, ordering: .releasing)
            return r
        }
    }

    /// The alerts `query` selects, newest first: from the ring when it holds
    /// the whole page, else the database's rows with the ring's alerts the
    /// writer has not written yet (always the newest: it writes in order)
    /// and acknowledgements it has not written yet.
    public func list(_ query: AlertQuery) throws(StoreError) -> [AlertRecord] {
        var page: [AlertRecord] = []
        _ = try visit(query, record: { page.append($0) }, row: { page.append(AlertRecord($0)) })
        return page
    }

    /// `list` for a caller that writes the page out: up to `query.limit`
    /// alerts, newest first. A page the ring holds entirely goes to
    /// `record` from there. Otherwise the ones the writer has not written
    /// yet (and rows whose acknowledgement it has not written) go to
    /// `record`, the rest to `row`, read in place from the database without
    /// making an `AlertRecord` (a page of 100 is ~60 KB of text). The highest stored
    /// id and the rows come from one snapshot, so nothing is listed twice.
    /// Returns how many were visited and the last one's id.
    public func visit(_ query: AlertQuery, record: (AlertRecord) -> Void, row: (AlertRowView) -> Void)
        throws(StoreError) -> (count: Int, lastID: Int64?) {
        // Most pages are of recent alerts: the ring answers them without a
        // query (SQLite was a third of a 100-alert page's cost).
        let (fromRing, store) = state.withLock { s in (s.ringPage(query), s.store) }
        if let page = fromRing {
            page.forEach(record)
            return (page.count, page.last?.id)
        }
        guard let store else { return (0, nil) }  // without a database the ring always answers
        var count = 0
        var last: Int64?
        try store.withAlertRows(query) { written, rows in
            let (unwritten, pending) = unwritten(after: written, matching: query)
            // The ring is newest first from its head: already in id order.
            for r in unwritten {
                record(r)
                count += 1
                last = r.id
            }
            while count < query.limit, let view = try rows.next() {
                let id = view.id
                if let acked = pending[id] {
                    if query.openOnly && acked.acknowledged { continue }
                    record(acked)
                } else {
                    row(view)
                }
                count += 1
                last = id
            }
        }
        return (count, last)
    }

    /// The ring's alerts numbered after `written` (the writer has not written
    /// them yet) that `query` selects, newest first, at most `query.limit`;
    /// and the acknowledgements the writer has not written yet.
    private func unwritten(after written: Int64, matching query: AlertQuery)
        -> (alerts: [AlertRecord], pendingAcks: [Int64: AlertRecord]) {
        state.withLock { s in
            var out: [AlertRecord] = []
            let n = s.ring.count
            var k = 0
            while k < n, out.count < query.limit {
                let r = s.ring[(s.head + n - 1 - k) % n]
                if r.id <= written { break }
                if query.matches(r) { out.append(r) }
                k += 1
            }
            return (out, s.pendingAcks)
        }
    }

    /// Marks alert `id` acknowledged by `actor` (the first acknowledgement stands).
    public func acknowledge(id: Int64, by actor: String, at time: Int64) -> Result<AlertRecord, AckError> {
        let (inRing, store, writer) = state.withLock { s in (s.ring.first { $0.id == id }, s.store, s.writer) }
        if let inRing, inRing.acknowledged { return .failure(.alreadyAcknowledged(inRing)) }
        if let store {
            do throws(StoreError) {
                // Twice at most: the writer may write the row between the two statements.
                for _ in 0..<2 {
                    if let row = try store.acknowledgeAlert(id: id, by: actor, at: time) {
                        markInRing(row)
                        changes.add(1, ordering: .releasing)
                        return .success(row)
                    }
                    guard let row = try store.alert(id: id) else { break }  // not written yet
                    if row.acknowledged { return .failure(.alreadyAcknowledged(row)) }
                }
            } catch {
                return .failure(.store(error.description))
            }
        }
        guard var record = inRing else { return .failure(.unknown(id)) }
        // Not written yet: the writer writes jobs in order, so the row exists when this runs.
        record.acknowledged = true
        record.acknowledgedBy = actor
        record.acknowledgedAt = time
        markInRing(record)
        if let writer {
            let acknowledged = record
            state.withLock { $0.pendingAcks[id] = acknowledged }
            let queued = writer.enqueue(.custom { [self] store in
                defer {
                    _ = state.withLock { $0.pendingAcks.removeValue(forKey: id) }
                    // Written, the row answers from now on; if the write failed,
                    // listings change back, and kept pages must not hide that.
                    changes.add(1, ordering: .releasing)
                }
                _ = try store.acknowledgeAlert(id: id, by: actor, at: time)
            })
            if !queued { _ = state.withLock { $0.pendingAcks.removeValue(forKey: id) } }
        }
        changes.add(1, ordering: .releasing)
        return .success(record)
    }

    private func markInRing(_ record: AlertRecord) {
        state.withLock { s in
            if let i = s.ring.firstIndex(where: { $0.id == record.id }) { s.ring[i] = record }
        }
    }

    /// Alerts in the ring.
    public var count: Int { state.withLock { $0.ring.count } }
}
