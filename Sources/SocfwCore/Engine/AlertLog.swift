import Synchronization

/// The most recent alerts, numbered, with their acknowledgement: what
/// `alerts.list` / `alerts.ack` and `socfwctl alerts` show. Bounded (the
/// oldest go first); EVE output keeps every alert.
public final class AlertLog: Sendable {
    public struct Entry: Sendable, Equatable {
        /// Increasing from 1 for the life of the process.
        public var id: UInt64
        public var timestampNanoseconds: Int64
        /// The alert's EVE record (one JSON object).
        public var eve: String
        /// Who acknowledged it (uid) and when; nil while open.
        public var acknowledgedBy: UInt32?
        public var acknowledgedAtNanoseconds: Int64?
    }

    private struct State {
        var entries: [Entry] = []
        /// Index of the oldest entry once the ring is full.
        var head = 0
        var nextID: UInt64 = 1
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int = 10_000) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Records an alert; returns its entry.
    @discardableResult
    public func append(timestampNanoseconds: Int64, eve: String) -> Entry {
        state.withLock { s in
            let e = Entry(id: s.nextID, timestampNanoseconds: timestampNanoseconds, eve: eve)
            s.nextID += 1
            if s.entries.count < capacity {
                s.entries.append(e)
            } else {
                s.entries[s.head] = e
                s.head = (s.head + 1) % capacity
            }
            return e
        }
    }

    /// Newest first, at most `limit`; only open ones with `openOnly`.
    public func list(limit: Int, openOnly: Bool = false) -> [Entry] {
        state.withLock { s in
            var out: [Entry] = []
            let n = s.entries.count
            for k in 0..<n where out.count < limit {
                let e = s.entries[(s.head + n - 1 - k) % n]
                if !openOnly || e.acknowledgedBy == nil { out.append(e) }
            }
            return out
        }
    }

    public enum AckError: Error, Equatable {
        case unknown(UInt64)
        case alreadyAcknowledged(Entry)
    }

    /// Marks an alert acknowledged by `uid`.
    public func acknowledge(id: UInt64, by uid: UInt32, at now: Int64) -> Result<Entry, AckError> {
        state.withLock { s in
            guard let i = s.entries.firstIndex(where: { $0.id == id }) else { return .failure(.unknown(id)) }
            if s.entries[i].acknowledgedBy != nil { return .failure(.alreadyAcknowledged(s.entries[i])) }
            s.entries[i].acknowledgedBy = uid
            s.entries[i].acknowledgedAtNanoseconds = now
            return .success(s.entries[i])
        }
    }

    public var count: Int { state.withLock { $0.entries.count } }
}
