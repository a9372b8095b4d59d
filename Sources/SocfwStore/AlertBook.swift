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
    }

    public enum AckError: Error, Equatable {
        case unknown(Int64)
        case alreadyAcknowledged(AlertRecord)
        case store(String)
    }

    public let capacity: Int
    private let state = Mutex(State())

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
        }
    }

    public var writer: StoreWriter? { state.withLock { $0.writer } }

    /// Numbers `record`, keeps it, queues its row; returns it with its id.
    @discardableResult
    public func append(_ record: AlertRecord) -> AlertRecord {
        let (numbered, writer) = state.withLock { s in
            var r = record
            r.id = s.nextID
            s.nextID += 1
            if s.ring.count < capacity {
                s.ring.append(r)
            } else {
                s.ring[s.head] = r
                s.head = (s.head + 1) % capacity
            }
            return (r, s.writer)
        }
        writer?.enqueue(.alert(numbered))
        return numbered
    }

    /// The alerts `query` selects, newest first: the database's rows, with the ring's newer
    /// ones (not written yet) and the ring's acknowledgements (possibly not written yet).
    public func list(_ query: AlertQuery) throws(StoreError) -> [AlertRecord] {
        let (recent, store) = state.withLock { s in (s.ring.filter(query.matches), s.store) }
        guard let store else {
            return Array(recent.sorted { $0.id > $1.id }.prefix(query.limit))
        }
        var byID: [Int64: AlertRecord] = [:]
        for r in try store.alerts(query) { byID[r.id] = r }
        for r in recent where byID[r.id] == nil || (r.acknowledged && !(byID[r.id]?.acknowledged ?? false)) {
            byID[r.id] = r
        }
        return Array(byID.values.sorted { $0.id > $1.id }.prefix(query.limit))
    }

    /// Marks alert `id` acknowledged by `actor` (the first acknowledgement stands).
    public func acknowledge(id: Int64, by actor: String, at time: Int64) -> Result<AlertRecord, AckError> {
        let (inRing, store, writer) = state.withLock { s in (s.ring.first { $0.id == id }, s.store, s.writer) }
        if let inRing, inRing.acknowledged { return .failure(.alreadyAcknowledged(inRing)) }
        if let store {
            do throws(StoreError) {
                if let row = try store.acknowledgeAlert(id: id, by: actor, at: time) {
                    markInRing(row)
                    return .success(row)
                }
                if let row = try store.alert(id: id) {
                    return .failure(.alreadyAcknowledged(row))
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
        writer?.enqueue(.custom { store in _ = try store.acknowledgeAlert(id: id, by: actor, at: time) })
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
