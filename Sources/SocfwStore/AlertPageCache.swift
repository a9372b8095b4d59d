import Synchronization

/// The last pages of `alerts.list` socfwd wrote, each valid while the alert
/// book's generation (`AlertBook.generation`: every new alert and every
/// acknowledgement) is the one it was rendered at. Dashboards and SOC
/// consoles poll the newest page every few seconds, many at once; while no
/// alert arrives, each poll after the first costs a copy instead of a query
/// and ~60 KB of rendering (100 alerts). The same idea as Elasticsearch's
/// shard request cache, which is dropped at the next refresh that changed
/// the shard.
///
/// Small and bounded: at most `capacity` pages and `maxBytes` of text in
/// all (a page over a quarter of that is not kept), the least recently
/// used dropped first.
public final class AlertPageCache: Sendable {
    public struct Page: Sendable, Equatable {
        /// The `alerts` array's text.
        public var text: [UInt8]
        public var count: Int
        public var lastID: Int64?

        public init(text: [UInt8], count: Int, lastID: Int64?) {
            self.text = text
            self.count = count
            self.lastID = lastID
        }
    }

    private struct Entry {
        var query: AlertQuery
        var generation: UInt64
        var page: Page
        var used: UInt64
    }

    private struct State {
        var entries: [Entry] = []
        var tick: UInt64 = 0
        var bytes = 0
    }

    public let capacity: Int
    public let maxBytes: Int
    private let state = Mutex(State())

    public init(capacity: Int = 16, maxBytes: Int = 4 << 20) {
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    /// The largest page kept.
    public var maxPageBytes: Int { maxBytes / 4 }

    /// The page for `query` rendered at `generation`, if kept.
    public func page(for query: AlertQuery, generation: UInt64) -> Page? {
        state.withLock { s in
            s.tick &+= 1
            guard let i = s.entries.firstIndex(where: { $0.query == query }), s.entries[i].generation == generation else {
                return nil
            }
            s.entries[i].used = s.tick
            return s.entries[i].page
        }
    }

    /// Keeps `page`, rendered for `query` after reading `generation`.
    public func store(_ page: Page, for query: AlertQuery, generation: UInt64) {
        guard page.text.count <= maxPageBytes else { return }
        state.withLock { s in
            s.tick &+= 1
            if let i = s.entries.firstIndex(where: { $0.query == query }) {
                // A page rendered at an older generation never replaces a newer one.
                guard s.entries[i].generation <= generation else { return }
                s.bytes -= s.entries[i].page.text.count
                s.entries.remove(at: i)
            }
            while !s.entries.isEmpty && (s.entries.count >= capacity || s.bytes + page.text.count > maxBytes) {
                let oldest = s.entries.indices.min { s.entries[$0].used < s.entries[$1].used }!
                s.bytes -= s.entries[oldest].page.text.count
                s.entries.remove(at: oldest)
            }
            s.entries.append(Entry(query: query, generation: generation, page: page, used: s.tick))
            s.bytes += page.text.count
        }
    }

    /// Pages kept and their text's size.
    public var size: (pages: Int, bytes: Int) { state.withLock { ($0.entries.count, $0.bytes) } }
}
