import CHyperscan

/// A literal for the prefilter: the bytes of a signature's fast pattern.
public struct Literal: Hashable, Sendable {
    public var bytes: [UInt8]
    public var caseless: Bool

    public init(bytes: [UInt8], caseless: Bool) {
        self.bytes = bytes
        // Hyperscan folds ASCII letters only; a caseless literal without
        // letters is the same literal, so keep one form for deduplication.
        self.caseless = caseless && bytes.contains { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7a }
    }
}

public struct LiteralDatabaseError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "literal database: \(message)" }
}

/// Many literals compiled into one Hyperscan block-mode database (the engine
/// Suricata's multi-pattern matcher uses): one pass over a buffer reports
/// which literals occur in it, whatever their number.
///
/// Every literal is compiled with `HS_FLAG_SINGLEMATCH`: a scan reports each
/// literal at most once (its first end offset), which is all a prefilter
/// needs and bounds the callback work by the number of distinct literals.
public final class LiteralDatabase: @unchecked Sendable {
    // @unchecked: the database is immutable after init; Hyperscan allows
    // concurrent scans of one database with one scratch per thread.
    let database: OpaquePointer
    /// Number of literals (ids are 0..<count, in the order given).
    public let count: Int
    /// Length of the longest literal: a scan that must find literals ending
    /// in new data starts this many bytes minus one before it.
    public let longest: Int
    /// Bytes of compiled database.
    public let sizeBytes: Int
    /// Identifies this database to scratch spaces (an address could be reused
    /// by a later database; a random 64-bit serial is not, in practice).
    let serial = UInt64.random(in: 1...UInt64.max)

    public init(literals: [Literal]) throws(LiteralDatabaseError) {
        guard !literals.isEmpty else { throw LiteralDatabaseError(message: "no literals") }
        guard hs_valid_platform() == HS_SUCCESS else {
            throw LiteralDatabaseError(message: "this CPU lacks SSSE3, which Hyperscan needs")
        }
        if let empty = literals.firstIndex(where: { $0.bytes.isEmpty }) {
            throw LiteralDatabaseError(message: "literal \(empty) is empty")
        }
        count = literals.count
        longest = literals.map(\.bytes.count).max() ?? 0
        var flags = [UInt32](repeating: 0, count: literals.count)
        var ids = [UInt32](repeating: 0, count: literals.count)
        var lengths = [Int](repeating: 0, count: literals.count)
        let storage = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: literals.count)
        defer {
            for i in 0..<literals.count { storage[i]?.deallocate() }
            storage.deallocate()
        }
        for (i, literal) in literals.enumerated() {
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: literal.bytes.count)
            for (k, b) in literal.bytes.enumerated() { p[k] = CChar(bitPattern: b) }
            storage[i] = p
            flags[i] = UInt32(HS_FLAG_SINGLEMATCH) | (literal.caseless ? UInt32(HS_FLAG_CASELESS) : 0)
            ids[i] = UInt32(i)
            lengths[i] = literal.bytes.count
        }
        var db: OpaquePointer? = nil
        var error: UnsafeMutablePointer<hs_compile_error_t>? = nil
        let rc = storage.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: literals.count) { expressions in
            hs_compile_lit_multi(expressions, flags, ids, lengths, UInt32(literals.count), UInt32(HS_MODE_BLOCK), nil,
                                 &db, &error)
        }
        guard rc == HS_SUCCESS, let db else {
            let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "error \(rc)"
            let which = error.map { Int($0.pointee.expression) } ?? -1
            if error != nil { hs_free_compile_error(error) }
            throw LiteralDatabaseError(message: which >= 0 ? "literal \(which): \(message)" : message)
        }
        database = db
        var size = 0
        hs_database_size(db, &size)
        sizeBytes = size
    }

    deinit { hs_free_database(database) }

    /// Scans `data` and appends to `hits` the id of every literal that ends
    /// after `minimumEnd` (a byte offset in `data`; 0 reports all).
    public func scan(_ data: UnsafeRawBufferPointer, minimumEnd: Int = 0, scratch: LiteralScratch,
                     into hits: inout LiteralHits) {
        guard let base = data.baseAddress, data.count > 0 else { return }
        scratch.prepare(for: self)
        hits.minimumEnd = UInt64(minimumEnd)
        withUnsafeMutablePointer(to: &hits) { context in
            _ = hs_scan(database, base.assumingMemoryBound(to: CChar.self), UInt32(clamping: data.count), 0,
                        scratch.scratch, literalHit, context)
        }
    }
}

/// Collected literal ids of one or more scans; reused across packets.
public struct LiteralHits {
    public private(set) var ids: UnsafeMutablePointer<UInt32>
    public private(set) var count = 0
    public private(set) var capacity: Int
    var minimumEnd: UInt64 = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 16)
        ids = .allocate(capacity: self.capacity)
    }

    /// Grows to hold `capacity` ids (a database with more literals was installed).
    public mutating func reserve(_ capacity: Int) {
        guard capacity > self.capacity else { return }
        let bigger = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        bigger.update(from: ids, count: count)
        ids.deallocate()
        ids = bigger
        self.capacity = capacity
    }

    public mutating func removeAll() { count = 0 }

    public func deallocate() { ids.deallocate() }

    @inline(__always)
    mutating func append(_ id: UInt32) {
        // SINGLEMATCH reports a literal once per scan, so a scan adds at most
        // `capacity` (= literal count) ids; several scans may repeat ids.
        if count == capacity { reserve(capacity * 2) }
        ids[count] = id
        count += 1
    }
}

private func literalHit(_ id: UInt32, _ from: UInt64, _ to: UInt64, _ flags: UInt32,
                        _ context: UnsafeMutableRawPointer?) -> Int32 {
    let hits = context!.assumingMemoryBound(to: LiteralHits.self)
    if to > hits.pointee.minimumEnd { hits.pointee.append(id) }
    return 0
}

/// Hyperscan scratch space: one per thread, grown for every database it scans.
public final class LiteralScratch {
    var scratch: OpaquePointer? = nil
    /// Databases this scratch was sized for (by serial).
    private var preparedFor: Set<UInt64> = []

    public init() {}

    deinit { if let scratch { hs_free_scratch(scratch) } }

    @inline(__always)
    func prepare(for db: LiteralDatabase) {
        if preparedFor.contains(db.serial) { return }
        prepareSlow(db)
    }

    @inline(never)
    private func prepareSlow(_ db: LiteralDatabase) {
        // hs_alloc_scratch grows an existing scratch to also fit `db`.
        let rc = hs_alloc_scratch(db.database, &scratch)
        precondition(rc == HS_SUCCESS, "hs_alloc_scratch failed: \(rc)")
        if preparedFor.count > 64 { preparedFor.removeAll() }
        preparedFor.insert(db.serial)
    }
}
