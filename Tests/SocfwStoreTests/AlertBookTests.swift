import Dispatch
import SocfwStore
import Synchronization
import Testing

private func alert(_ i: Int, source: String = "signature", severity: Int = 2, src: String = "192.0.2.1") -> AlertRecord {
    AlertRecord(timestamp: Int64(i) * 1_000, source: source, severity: severity, title: "alert \(i)", message: "m",
                signatureID: 2_000_000 + Int64(i % 3), srcIP: src, dstIP: "198.51.100.1", eve: "{}")
}

/// A book of 1,000 alerts attached to a fresh database in `dir`.
private func attachedBook(_ dir: String) throws -> (SocfwStore, StoreWriter, AlertBook) {
    let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
    let writer = StoreWriter(store: store)
    let book = AlertBook(capacity: 1_000)
    try book.attach(store: store, writer: writer)
    return (store, writer, book)
}

@Suite struct AlertBookTests {
    @Test func withoutADatabaseTheRingIsAllThereIs() throws {
        let book = AlertBook(capacity: 3)
        for i in 1...5 { book.append(alert(i)) }
        #expect(try book.list(AlertQuery(limit: 10)).map(\.id) == [5, 4, 3])
        #expect(try book.list(AlertQuery(limit: 2)).map(\.title) == ["alert 5", "alert 4"])
        guard case let .success(a) = book.acknowledge(id: 4, by: "uid:1000", at: 9) else { Issue.record("not acknowledged"); return }
        #expect(a.acknowledgedBy == "uid:1000" && a.acknowledgedAt == 9)
        guard case .failure(.alreadyAcknowledged) = book.acknowledge(id: 4, by: "uid:0", at: 10) else { Issue.record("twice"); return }
        #expect(book.acknowledge(id: 1, by: "uid:0", at: 10) == .failure(.unknown(1)))
        #expect(try book.list(AlertQuery(limit: 10, openOnly: true)).map(\.id) == [5, 3])
    }

    @Test func idsContinueAfterARestartAndAcknowledgementsPersist() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/socfw.db"
            do {
                let store = try SocfwStore(path: path, durableCommits: false)
                let writer = StoreWriter(store: store)
                let book = AlertBook(capacity: 100)
                try book.attach(store: store, writer: writer)
                for i in 1...4 { book.append(alert(i)) }
                // Acknowledged before (or after) the writer got to it: either way it is written.
                guard case .success = book.acknowledge(id: 2, by: "uid:0/token:soc", at: 77) else { Issue.record("ack"); return }
                writer.flush()
                writer.stop()
            }
            // A new process: a new ring, the same database.
            let store = try SocfwStore(path: path, durableCommits: false)
            let writer = StoreWriter(store: store)
            let book = AlertBook(capacity: 100)
            try book.attach(store: store, writer: writer)
            let fifth = book.append(alert(5))
            #expect(fifth.id == 5)
            let all = try book.list(AlertQuery(limit: 10))
            #expect(all.map(\.id) == [5, 4, 3, 2, 1])
            #expect(all.first { $0.id == 2 }?.acknowledgedBy == "uid:0/token:soc")
            guard case .failure(.alreadyAcknowledged) = book.acknowledge(id: 2, by: "uid:0", at: 80) else {
                Issue.record("an acknowledgement from before the restart must stand"); return
            }
            guard case .success = book.acknowledge(id: 1, by: "uid:0", at: 80) else { Issue.record("old alert"); return }
            #expect(book.acknowledge(id: 99, by: "uid:0", at: 80) == .failure(.unknown(99)))
            #expect(book.acknowledge(id: .max, by: "uid:0", at: 80) == .failure(.unknown(.max)), "found by schemathesis: no overflow")
            writer.flush()
            #expect(try store.alerts(AlertQuery(limit: 10, openOnly: true)).map(\.id) == [5, 4, 3])
        }
    }

    @Test func filtersAndCursorAgreeInTheDatabaseAndTheRing() throws {
        try withTemporaryDirectory { dir in
            let (store, writer, book) = try attachedBook(dir)
            for i in 1...30 {
                book.append(alert(i, source: i % 2 == 0 ? "detector" : "signature", severity: 1 + i % 3,
                                  src: i % 5 == 0 ? "2001:db8::5" : "192.0.2.1"))
            }
            let queries = [
                AlertQuery(limit: 7), AlertQuery(limit: 100, source: "detector"), AlertQuery(limit: 100, severity: 1),
                AlertQuery(limit: 100, address: "2001:db8::5"), AlertQuery(limit: 100, address: "198.51.100.1"),
                AlertQuery(limit: 100, since: 10_000, until: 20_000), AlertQuery(limit: 100, signatureID: 2_000_001),
                AlertQuery(limit: 5, beforeID: 12, source: "signature"),
            ]
            // Before the writer wrote them (ring) and after (database): the same answers.
            let before = try queries.map { try book.list($0).map(\.id) }
            writer.flush()
            for (q, ids) in zip(queries, before) {
                #expect(try store.alerts(q).map(\.id) == ids, "\(q)")
                #expect(try book.list(q).map(\.id) == ids, "\(q)")
            }
            #expect(before[1] == Array(stride(from: 30, through: 2, by: -2)))
            #expect(before[3] == [30, 25, 20, 15, 10, 5])
            #expect(before[4].count == 30)
            #expect(before[5] == Array((10...19).reversed()))
            #expect(before[7] == [11, 9, 7, 5, 3])

            // Paging with the last id as the cursor walks every alert once.
            var seen: [Int64] = []
            var cursor: Int64? = nil
            repeat {
                let page = try book.list(AlertQuery(limit: 4, beforeID: cursor))
                seen += page.map(\.id)
                cursor = page.count == 4 ? page.last?.id : nil
            } while cursor != nil
            #expect(seen == Array((1...30).reversed()))
        }
    }
}

extension AlertBookTests {
    /// What `visit` hands out (and `list` collects): the database's rows read
    /// in place, field for field what GRDB decodes (NULLs, escapes, non-ASCII
    /// included), newest first, with the unwritten ones and unwritten
    /// acknowledgements as records.
    @Test func visitingAPageAgreesWithTheDatabase() throws {
        try withTemporaryDirectory { dir in
            let (store, writer, first) = try attachedBook(dir)
            for i in 1...12 { first.append(alert(i)) }
            first.append(AlertRecord(timestamp: 99, source: "anomaly", severity: 3, title: "quote \" é \u{1}", message: "no ids"))
            writer.flush()
            // After a restart: the ring is empty, every page comes from the database.
            let book = AlertBook(capacity: 1_000)
            try book.attach(store: store, writer: writer)
            for q in [AlertQuery(limit: 100), AlertQuery(limit: 5), AlertQuery(limit: 4, beforeID: 12),
                      AlertQuery(limit: 100, source: "anomaly"), AlertQuery(limit: 100, openOnly: true)] {
                var ids: [Int64] = []
                var rows: [AlertRecord] = []
                let visited = try book.visit(q, record: { ids.append($0.id) },
                                             row: { ids.append($0.id); rows.append(AlertRecord($0)) })
                let stored = try store.alerts(q)
                #expect(rows == stored, "\(q)")
                #expect(ids == stored.map(\.id) && visited.count == stored.count && visited.lastID == stored.last?.id)
            }
            #expect(try book.list(AlertQuery(limit: 1, source: "anomaly")).first?.signatureID == nil)

            // Newer than the database: records, first.
            for i in 14...16 { book.append(alert(i)) }
            let page = try book.list(AlertQuery(limit: 6))
            #expect(page.map(\.id) == [16, 15, 14, 13, 12, 11])
            // Acknowledged, and the acknowledgement maybe not written yet: never listed as open.
            guard case .success = book.acknowledge(id: 11, by: "uid:0", at: 5) else { Issue.record("ack"); return }
            #expect(try !book.list(AlertQuery(limit: 100, openOnly: true)).map(\.id).contains(11))
            writer.flush()
            #expect(try book.list(AlertQuery(limit: 100)).first { $0.id == 11 }?.acknowledgedBy == "uid:0")
        }
    }
}

extension AlertBookTests {
    /// Several workers raise alerts at once; an alert is listed from the
    /// moment `append` returns, its own page (limit 1, cursor just above
    /// it) answered while others join the ring. The ring holds them all
    /// here: an alert the ring has dropped before the writer wrote it is
    /// not listed until written (Docs/api.md).
    @Test func anAlertIsListedAsSoonAsItIsRaisedWhileOthersAreRaised() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let writer = StoreWriter(store: store)
            let book = AlertBook(capacity: 16_384)
            try book.attach(store: store, writer: writer)
            let missed = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 4) { w in
                for i in 0..<3_000 {
                    let id = book.append(alert(w * 10_000 + i)).id
                    let listed = (try? book.list(AlertQuery(limit: 1, beforeID: id + 1)).map(\.id)) ?? []
                    if listed != [id] { missed.add(1, ordering: .relaxed) }
                }
            }
            writer.flush()
            #expect(missed.load(ordering: .relaxed) == 0)
            #expect(try store.alerts(AlertQuery(limit: 20_000)).count == 12_000, "every row written")
        }
    }
}

extension AlertBookTests {
    /// Pages answered from the ring (recent alerts) and from the database
    /// (older ones, or after a restart) are the same pages: random filters,
    /// cursors and limits over 300 alerts, a third acknowledged, a ring of
    /// 64, compared with the database's own answer.
    @Test func theRingAndTheDatabaseGiveTheSamePages() throws {
        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let writer = StoreWriter(store: store)
            var generator = SystemRandomNumberGenerator()
            func randomQuery(top: Int64) -> AlertQuery {
                AlertQuery(limit: [1, 2, 5, 10, 50, 100, 400].randomElement(using: &generator)!,
                           beforeID: Bool.random(using: &generator) ? Int64.random(in: 1...(top + 5), using: &generator) : nil,
                           openOnly: Int.random(in: 0..<3, using: &generator) == 0,
                           severity: Int.random(in: 0..<4, using: &generator) == 0 ? Int.random(in: 1...3, using: &generator) : nil,
                           source: Int.random(in: 0..<4, using: &generator) == 0 ? ["detector", "signature", "rule"].randomElement(using: &generator) : nil,
                           address: Int.random(in: 0..<5, using: &generator) == 0 ? "2001:db8::5" : nil)
            }
            func check(_ book: AlertBook, top: Int64, _ what: String) throws -> (ring: Int, rows: Int) {
                var (ring, rows) = (0, 0)
                for _ in 0..<300 {
                    let q = randomQuery(top: top)
                    var ids: [Int64] = []
                    var fromRows = 0
                    _ = try book.visit(q, record: { ids.append($0.id) }, row: { ids.append($0.id); fromRows += 1 })
                    #expect(ids == (try store.alerts(q).map(\.id)), "\(what): \(q)")
                    if fromRows == 0 { ring += 1 } else { rows += 1 }
                }
                return (ring, rows)
            }
            let book = AlertBook(capacity: 64)
            try book.attach(store: store, writer: writer)
            for i in 1...300 {
                let a = book.append(alert(i, source: ["detector", "signature", "rule"][i % 3], severity: 1 + i % 3,
                                          src: i % 7 == 0 ? "2001:db8::5" : "192.0.2.1"))
                if i % 3 == 0 { _ = book.acknowledge(id: a.id, by: "uid:0", at: 1) }
            }
            writer.flush()
            let running = try check(book, top: 300, "running")
            #expect(running.ring > 30 && running.rows > 30, "both ways were taken: \(running)")
            #expect(try book.list(AlertQuery(limit: 64)).count == 64)

            // After a restart the ring starts empty; newer alerts join it.
            let again = AlertBook(capacity: 64)
            try again.attach(store: store, writer: writer)
            for i in 301...320 { again.append(alert(i)) }
            writer.flush()
            _ = try check(again, top: 320, "restarted")
        }
    }
}

/// `alerts.list`'s page cache: what socfwd keeps of a rendered page, and
/// when it stops using it.
@Suite struct AlertPageCacheTests {
    /// A page as socfwd would cache it: here the ids, as text.
    private func render(_ book: AlertBook, _ query: AlertQuery) throws -> AlertPageCache.Page {
        let ids = try book.list(query).map(\.id)
        return AlertPageCache.Page(text: Array(ids.map(String.init).joined(separator: ",").utf8), count: ids.count, lastID: ids.last)
    }

    @Test func aPageIsKeptUntilTheNextAlertOrAcknowledgement() throws {
        try withTemporaryDirectory { dir in
            let (_, writer, book) = try attachedBook(dir)
            let cache = AlertPageCache(capacity: 2, maxBytes: 256)
            for i in 1...3 { book.append(alert(i)) }
            let newest = AlertQuery(limit: 2)
            var g = book.generation
            cache.store(try render(book, newest), for: newest, generation: g)
            #expect(cache.page(for: newest, generation: g)?.text == Array("3,2".utf8))
            #expect(cache.page(for: AlertQuery(limit: 3), generation: g) == nil, "another query is another page")

            book.append(alert(4))
            #expect(book.generation != g)
            #expect(cache.page(for: newest, generation: book.generation) == nil, "a new alert: rendered again")
            g = book.generation
            cache.store(try render(book, newest), for: newest, generation: g)
            guard case .success = book.acknowledge(id: 4, by: "uid:0", at: 5) else { Issue.record("ack"); return }
            #expect(cache.page(for: newest, generation: book.generation) == nil, "an acknowledgement: rendered again")
            #expect(cache.page(for: newest, generation: g) != nil)
            // A slow renderer storing an older generation's page keeps the newer one.
            cache.store(AlertPageCache.Page(text: [], count: 0, lastID: nil), for: newest, generation: g - 1)
            #expect(cache.page(for: newest, generation: g)?.text == Array("4,3".utf8))

            // Bounded: two pages, the least recently used replaced; nothing over maxPageBytes.
            let (a, b) = (AlertQuery(limit: 1), AlertQuery(limit: 1, source: "detector"))
            cache.store(try render(book, a), for: a, generation: g)
            _ = cache.page(for: a, generation: g)
            cache.store(try render(book, b), for: b, generation: g)
            #expect(cache.page(for: newest, generation: g) == nil && cache.page(for: a, generation: g) != nil)
            let big = AlertQuery(limit: 100, severity: 2)
            cache.store(AlertPageCache.Page(text: Array(repeating: 0x20, count: 65), count: 1, lastID: 1), for: big, generation: g)
            #expect(cache.page(for: big, generation: g) == nil, "over a quarter of the cache")
            // Bytes bound the cache too: two pages of 64 fit in 256 with a small one, a third does not.
            let wide = (1...3).map { AlertQuery(limit: 100 + $0) }
            let c2 = AlertPageCache(capacity: 16, maxBytes: 256)
            for q in wide { c2.store(AlertPageCache.Page(text: Array(repeating: 0x20, count: 64), count: 1, lastID: 1), for: q, generation: g) }
            #expect(c2.size.pages == 3 && c2.size.bytes == 192)
            c2.store(AlertPageCache.Page(text: Array(repeating: 0x20, count: 64), count: 1, lastID: 1), for: AlertQuery(limit: 7), generation: g)
            c2.store(AlertPageCache.Page(text: Array(repeating: 0x20, count: 64), count: 1, lastID: 1), for: AlertQuery(limit: 8), generation: g)
            #expect(c2.size == (4, 256) && c2.page(for: wide[0], generation: g) == nil, "the least recently used went")
            // The same query again replaces its page, it does not add one.
            c2.store(AlertPageCache.Page(text: Array(repeating: 0x20, count: 10), count: 1, lastID: 1), for: AlertQuery(limit: 8), generation: g)
            #expect(c2.size == (4, 202))
            writer.flush()
        }
    }

    /// Pages looked up or rendered while workers append and acknowledge:
    /// none misses an alert whose append had returned before the lookup.
    @Test func aKeptPageIsNeverOlderThanWhatItWasAskedAfter() throws {
        try withTemporaryDirectory { dir in
            let (_, writer, book) = try attachedBook(dir)
            let cache = AlertPageCache()
            let newest = AlertQuery(limit: 1)
            let appended = Atomic<Int64>(0)
            let stale = Atomic<Int>(0)
            let hits = Atomic<Int>(0)
            let lookups = Atomic<Int>(0)
            let done = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 3) { w in
                for i in 0..<(w == 0 ? 500 : 3_000) {
                    if w == 0 {
                        let id = book.append(alert(i)).id
                        appended.store(id, ordering: .sequentiallyConsistent)
                        // Readers look at this generation a few times before the next change.
                        let seen = lookups.load(ordering: .relaxed)
                        while lookups.load(ordering: .relaxed) < seen + 4, done.load(ordering: .relaxed) < 2 {}
                        if i % 3 == 0 { _ = book.acknowledge(id: id, by: "uid:0", at: 1) }
                    } else {
                        let before = appended.load(ordering: .sequentiallyConsistent)
                        let g = book.generation
                        let page: AlertPageCache.Page
                        if let kept = cache.page(for: newest, generation: g) {
                            page = kept
                            hits.add(1, ordering: .relaxed)
                        } else {
                            page = (try? render(book, newest)) ?? AlertPageCache.Page(text: [], count: 0, lastID: nil)
                            cache.store(page, for: newest, generation: g)
                        }
                        if (page.lastID ?? 0) < before { stale.add(1, ordering: .relaxed) }
                        lookups.add(1, ordering: .relaxed)
                    }
                }
                if w != 0 { done.add(1, ordering: .relaxed) }
            }
            writer.flush()
            #expect(stale.load(ordering: .relaxed) == 0)
            #expect(hits.load(ordering: .relaxed) > 0, "the readers shared pages at least once")
        }
    }
}

@Suite struct APITokenStoreTests {
    @Test func tokensAreRandomStoredAsHashesAndRevoked() throws {
        let a = APIToken.generate(), b = APIToken.generate()
        #expect(a != b && a.hasPrefix("socfw_") && a.utf8.count == 6 + 43)
        #expect(a.dropFirst(6).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        // Known answer (FIPS 180-2 "abc").
        #expect(APIToken.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

        try withTemporaryDirectory { dir in
            let store = try SocfwStore(path: dir + "/socfw.db", durableCommits: false)
            let record = APITokenRecord(name: "grafana", sha256: APIToken.sha256(a), scopes: ["read"], created: 1, createdBy: "uid:0")
            #expect(try store.insertToken(record)?.id == 1)
            #expect(try store.insertToken(record) == nil, "one live token per name")
            #expect(try store.tokens(includeRevoked: false).map(\.scopes) == [["read"]])
            #expect(try store.revokeToken(name: "grafana", by: "uid:0", at: 5)?.revoked == 5)
            #expect(try store.revokeToken(name: "grafana", by: "uid:0", at: 6) == nil)
            #expect(try store.tokens(includeRevoked: false).isEmpty)
            var again = record
            again.sha256 = APIToken.sha256(b)
            #expect(try store.insertToken(again) != nil, "the name is free again once revoked")
            #expect(try store.tokens(includeRevoked: true).count == 2)
        }
    }
}
