import CSocfwNetlink
import Glibc
import Logging
import SocfwWire
import Synchronization

// Pushing prefixes into socfwd's nftables interval sets (quarantine,
// blocklist) over netlink, through the C layer in socfw_nftset.c. This file
// decides what is sent: prefixes merged into ranges, the v4/v6 set split,
// what each kernel answer means for the caller.

/// One element of an interval set as `NftSetClient.list` returns it: a range
/// the kernel holds is returned as the fewest prefixes that cover it exactly,
/// each with the range's timeout.
public struct NftSetElement: Sendable, Hashable, CustomStringConvertible {
    public var prefix: IPPrefix
    /// The element's timeout as it was set; nil for a permanent element.
    public var timeoutMilliseconds: UInt64?
    /// Time left before the kernel removes it; nil for a permanent element.
    public var expiresInMilliseconds: UInt64?

    public init(prefix: IPPrefix, timeoutMilliseconds: UInt64?, expiresInMilliseconds: UInt64?) {
        self.prefix = prefix
        self.timeoutMilliseconds = timeoutMilliseconds
        self.expiresInMilliseconds = expiresInMilliseconds
    }

    public var description: String {
        guard let timeout = timeoutMilliseconds else { return prefix.description }
        return "\(prefix) timeout \(timeout)ms expires \(expiresInMilliseconds ?? 0)ms"
    }
}

/// Why the kernel refused a range, by the errno it answered.
public enum NftSetErrorKind: String, Sendable, CaseIterable {
    /// EEXIST: the range overlaps one already in the set (an identical range
    /// is not an error: the kernel takes it and replaces its timeout).
    case overlap = "overlap"
    /// ENOENT: deleting a range that is not in the set (released or expired
    /// already). Not a failure for a delete.
    case notFound = "not_found"
    /// ENFILE / ENOSPC: the set reached its `size`.
    case setFull = "set_full"
    /// Anything else (EINVAL for a key of the wrong family, ERANGE for a
    /// timeout the kernel cannot represent, EPERM, ...).
    case other = "other"

    init(errno code: Int32) {
        switch code {
        case EEXIST: self = .overlap
        case ENOENT: self = .notFound
        case ENFILE, ENOSPC: self = .setFull
        default: self = .other
        }
    }
}

/// A range the kernel refused (or a whole call that failed), with the input
/// prefixes it came from.
public struct NftSetFailure: Sendable, CustomStringConvertible {
    /// The caller's prefixes that this range covers (several when they were
    /// merged into one range).
    public var prefixes: [IPPrefix]
    /// The set the range was for, with its family suffix (`quarantine4`).
    public var set: String
    public var errno: Int32
    public var kind: NftSetErrorKind
    /// For people: what happened and what it means.
    public var reason: String

    public var description: String {
        "\(prefixes.map(\.description).joined(separator: ",")) in \(set): \(reason)"
    }
}

/// Kernel answers by kind, one count per refused range.
public struct NftSetErrorCounters: Sendable, Equatable {
    public var overlap = 0
    public var notFound = 0
    public var setFull = 0
    public var other = 0

    public init() {}

    mutating func count(_ kind: NftSetErrorKind) {
        switch kind {
        case .overlap: overlap += 1
        case .notFound: notFound += 1
        case .setFull: setFull += 1
        case .other: other += 1
        }
    }
}

/// What one add or delete did. Counts are in the caller's prefixes; a range
/// is what went to the kernel after merging.
public struct NftSetResult: Sendable {
    /// Prefixes the caller passed.
    public var requested = 0
    /// Ranges sent to the kernel after merging (add) or coalescing (delete;
    /// with the covering ranges removed and re-added in its second pass).
    public var ranges = 0
    /// Prefixes now in the set (add).
    public var added = 0
    /// Prefixes removed from the set (delete).
    public var deleted = 0
    /// Prefixes a delete found already gone (ENOENT): not failures.
    public var absent = 0
    /// Refused ranges, and every range of a call that failed as a whole.
    public var failures: [NftSetFailure] = []
    /// Kernel answers by kind (including the ENOENT of absent prefixes).
    public var counters = NftSetErrorCounters()
    /// Netlink transactions and set-element messages sent, and messages the
    /// kernel refused that were retried range by range.
    public var batches = 0
    public var messages = 0
    public var retriedMessages = 0
    /// Set when a call failed as a whole (socket, missing set, refused
    /// transaction); its ranges are in `failures` too.
    public var error: NftablesError?

    public init() {}

    /// Nothing refused and no call failed.
    public var succeeded: Bool { failures.isEmpty && error == nil }
}

/// Adds, deletes, lists and flushes the elements of socfwd's interval sets
/// over netlink (libnftnl on libmnl): no `nft` process, one transaction per
/// call in the common case.
///
/// Set names: every method takes the BASE name (`quarantine`, `blocklist`);
/// IPv4 prefixes go to `<base>4` and IPv6 ones to `<base>6`, the pairs the
/// ruleset declares (`nftables/socfw-router.nft`, `socfw-bridge.nft`; both
/// modes use `table inet socfw`). A call touches only the family sets it has
/// prefixes for.
///
/// Thread safety: the netlink socket is behind a lock; calls from several
/// threads are serialised.
public final class NftSetClient: Sendable {
    public let table: String
    /// NFPROTO_* of the table (1: inet).
    public let family: UInt32
    // The C handle is used only inside `lock`, which makes the class safe to
    // share; the pointer itself never changes after init.
    private nonisolated(unsafe) let handle: OpaquePointer
    private let lock = Mutex<Void>(())
    private let logger: Logger?

    /// Opens the netlink socket. Needs CAP_NET_ADMIN (as every change to
    /// nftables does).
    public init(table: String = "socfw", family: UInt32 = 1, logger: Logger? = nil) throws(NftablesError) {
        var message = [CChar](repeating: 0, count: 512)
        guard let h = socfw_nftset_open(&message, message.count) else {
            throw NftablesError(description: String(cMessage: message))
        }
        self.table = table
        self.family = family
        self.handle = h
        self.logger = logger
    }

    deinit {
        socfw_nftset_close(handle)
    }

    /// The set a prefix of this family goes to: `quarantine` → `quarantine4`.
    public static func setName(_ base: String, v6: Bool) -> String { base + (v6 ? "6" : "4") }

    // MARK: add

    /// Adds prefixes to `<set>4` / `<set>6`, each with its timeout in
    /// milliseconds (nil or 0: permanent; the kernel expires timed ones even
    /// when socfwd is down).
    ///
    /// Prefixes of one call are merged first, because an interval set
    /// cannot hold overlapping ranges: a prefix inside another is dropped and
    /// the container keeps the longer of the two timeouts (permanent being
    /// the longest); adjacent prefixes with the same timeout become one range.
    /// Overlap with what the set already holds is refused by the kernel
    /// (EEXIST, in `failures`); an identical range is accepted and its timeout
    /// REPLACED by the new one (measured on 6.18: longer, shorter, or none).
    public func add(_ entries: [(IPPrefix, timeoutMilliseconds: UInt64?)], to set: String) -> NftSetResult {
        var result = NftSetResult()
        result.requested = entries.count
        for v6 in [false, true] {
            let indices = entries.indices.filter { entries[$0].0.network.isV6 == v6 }
            if indices.isEmpty { continue }
            let merged = AddressRange.merge(indices.map { (entries[$0].0, entries[$0].timeoutMilliseconds ?? 0) })
            let name = NftSetClient.setName(set, v6: v6)
            var ranges = merged.ranges.map { $0.cRange(op: UInt8(SOCFW_NFTSET_ADD)) }
            result.ranges += ranges.count
            let outcome = apply(&ranges, to: name)
            result.absorb(outcome)
            for (r, range) in ranges.enumerated() {
                let sources = merged.sources[r].map { entries[indices[$0]].0 }
                let code = outcome.error == nil ? -range.result : outcome.errno
                if code == 0 {
                    result.added += sources.count
                } else {
                    let kind = NftSetErrorKind(errno: code)
                    result.counters.count(kind)
                    result.failures.append(NftSetFailure(prefixes: sources, set: name, errno: code, kind: kind,
                                                         reason: NftSetClient.reason(code, adding: true)))
                }
            }
        }
        log(result, verb: "add to", set: set)
        return result
    }

    // MARK: delete

    /// Removes prefixes from `<set>4` / `<set>6`.
    ///
    /// The kernel deletes exact ranges only, so a prefix is first deleted as
    /// its own range (the common case: it was added alone). Where the kernel
    /// answers ENOENT, the set is listed and any range that covers part of
    /// the prefix (say it was merged with a neighbour when added) is removed
    /// and its remainder re-added with its remaining timeout, in ONE
    /// transaction, so the rest never passes. A prefix nothing covers is
    /// counted in `absent` (released or expired already), not a failure.
    public func delete(_ prefixes: [IPPrefix], from set: String) -> NftSetResult {
        var result = NftSetResult()
        result.requested = prefixes.count
        for v6 in [false, true] {
            let indices = prefixes.indices.filter { prefixes[$0].network.isV6 == v6 }
            if indices.isEmpty { continue }
            deleteFamily(indices.map { prefixes[$0] }, v6: v6, base: set, into: &result)
        }
        log(result, verb: "delete from", set: set)
        return result
    }

    private func deleteFamily(_ prefixes: [IPPrefix], v6: Bool, base: String, into result: inout NftSetResult) {
        let name = NftSetClient.setName(base, v6: v6)
        // Only overlapping prefixes are coalesced: adjacent ones may well be
        // separate ranges in the kernel, and each deletes exactly.
        let merged = AddressRange.merge(prefixes.map { ($0, 0) }, joinAdjacent: false)
        var ranges = merged.ranges.map { $0.cRange(op: UInt8(SOCFW_NFTSET_DELETE)) }
        result.ranges += ranges.count
        let outcome = apply(&ranges, to: name)
        result.absorb(outcome)
        var missing: [Int] = []  // ranges the kernel does not hold exactly
        for (r, range) in ranges.enumerated() {
            let code = outcome.error == nil ? -range.result : outcome.errno
            let sources = merged.sources[r].map { prefixes[$0] }
            switch code {
            case 0: result.deleted += sources.count
            case ENOENT where outcome.error == nil: missing.append(r)
            default:
                let kind = NftSetErrorKind(errno: code)
                result.counters.count(kind)
                result.failures.append(NftSetFailure(prefixes: sources, set: name, errno: code, kind: kind,
                                                     reason: NftSetClient.reason(code, adding: false)))
            }
        }
        if missing.isEmpty { return }

        // Second pass: what in the set covers the missing ranges?
        let held: [AddressRange]
        do {
            held = try listRanges(name, v6: v6)
        } catch {
            for r in missing {
                result.counters.count(.other)
                result.failures.append(NftSetFailure(prefixes: merged.sources[r].map { prefixes[$0] }, set: name,
                                                     errno: EIO, kind: .other,
                                                     reason: "not in the set as its own range, and listing the set failed: \(error)"))
            }
            return
        }
        let targets = missing.map { merged.ranges[$0] }
        // The ranges covering each target, and each covering range once.
        var touchingByTarget: [[Int]] = []
        var coveringTargets: [Int: [Int]] = [:]  // index in `held` -> indices in `targets`
        for (t, target) in targets.enumerated() {
            let touching = AddressRange.overlapping(target, in: held)
            touchingByTarget.append(touching)
            if touching.isEmpty {
                result.absent += merged.sources[missing[t]].count
                result.counters.count(.notFound)
            }
            for h in touching { coveringTargets[h, default: []].append(t) }
        }
        if coveringTargets.isEmpty { return }
        // One transaction: every covering range out, then what of it lies
        // outside the targets back in.
        let order = coveringTargets.keys.sorted()
        var ops: [socfw_nftset_range] = []
        var opOwner: [Int] = []  // index in `held` of the covering range an op is for
        for h in order {
            ops.append(held[h].cRange(op: UInt8(SOCFW_NFTSET_DELETE)))
            opOwner.append(h)
        }
        let allTargets = AddressRange.union(targets)
        for h in order {
            let cover = held[h]
            // A timed range about to expire is not re-added; the rest of a
            // timed range keeps its remaining lifetime, not the full timeout.
            if cover.timeoutMilliseconds > 0 && cover.expiresMilliseconds == 0 { continue }
            for var rest in cover.subtracting(allTargets) {
                rest.timeoutMilliseconds = cover.timeoutMilliseconds > 0 ? cover.expiresMilliseconds : 0
                ops.append(rest.cRange(op: UInt8(SOCFW_NFTSET_ADD)))
                opOwner.append(h)
            }
        }
        let second = apply(&ops, to: name)
        result.absorb(second)
        result.ranges += ops.count
        var failedCover = Set<Int>()
        for (i, op) in ops.enumerated() {
            let code = second.error == nil ? -op.result : second.errno
            let isDelete = op.op == UInt8(SOCFW_NFTSET_DELETE)
            // A covering range that expired in between is gone anyway.
            if code == 0 || (isDelete && code == ENOENT) { continue }
            let h = opOwner[i]
            if !failedCover.insert(h).inserted { continue }
            let kind = NftSetErrorKind(errno: code)
            result.counters.count(kind)
            let what = isDelete
                ? "removing the range \(held[h]) that covers it failed: \(NftSetClient.reason(code, adding: false))"
                : "removed the range \(held[h]) that covers it, but re-adding the rest \(AddressRange(op)) failed, so those addresses are no longer in the set: \(NftSetClient.reason(code, adding: true))"
            let sources = coveringTargets[h, default: []].flatMap { merged.sources[missing[$0]] }.map { prefixes[$0] }
            result.failures.append(NftSetFailure(prefixes: sources, set: name, errno: code, kind: kind, reason: what))
        }
        // A target is deleted when every range that covered part of it went.
        for (t, touching) in touchingByTarget.enumerated() where !touching.isEmpty {
            if touching.allSatisfy({ !failedCover.contains($0) }) {
                result.deleted += merged.sources[missing[t]].count
            }
        }
    }

    // MARK: list, flush

    /// The elements of `<set>4` and `<set>6`, v4 first, each sorted by
    /// address. Throws when either set is missing or the dump fails.
    public func list(_ set: String) throws(NftablesError) -> [NftSetElement] {
        var out: [NftSetElement] = []
        for v6 in [false, true] {
            for range in try listRanges(NftSetClient.setName(set, v6: v6), v6: v6) {
                let timeout = range.timeoutMilliseconds > 0 ? range.timeoutMilliseconds : nil
                let expires = range.timeoutMilliseconds > 0 ? range.expiresMilliseconds : nil
                for prefix in range.prefixes {
                    out.append(NftSetElement(prefix: prefix, timeoutMilliseconds: timeout, expiresInMilliseconds: expires))
                }
            }
        }
        return out
    }

    /// Empties `<set>4` and `<set>6`, each in one transaction.
    public func flush(_ set: String) throws(NftablesError) {
        for v6 in [false, true] {
            let name = NftSetClient.setName(set, v6: v6)
            var message = [CChar](repeating: 0, count: 512)
            let rc = lock.withLock { _ in socfw_nftset_flush(handle, family, table, name, &message, message.count) }
            if rc != 0 { throw NftablesError(description: String(cMessage: message)) }
        }
    }

    func listRanges(_ name: String, v6: Bool) throws(NftablesError) -> [AddressRange] {
        var message = [CChar](repeating: 0, count: 512)
        var pointer: UnsafeMutablePointer<socfw_nftset_range>? = nil
        var count = 0
        let rc = lock.withLock { _ in
            socfw_nftset_list(handle, family, table, name, &pointer, &count, &message, message.count)
        }
        if rc != 0 { throw NftablesError(description: String(cMessage: message)) }
        defer { socfw_nftset_free(pointer) }
        guard let pointer else { return [] }
        return UnsafeBufferPointer(start: pointer, count: count).compactMap { AddressRange($0) }
            .filter { $0.v6 == v6 }
    }

    // MARK: plumbing

    private func apply(_ ranges: inout [socfw_nftset_range], to name: String) -> ApplyOutcome {
        var outcome = ApplyOutcome()
        var message = [CChar](repeating: 0, count: 512)
        let count = ranges.count
        let rc = ranges.withUnsafeMutableBufferPointer { buffer in
            lock.withLock { _ in
                socfw_nftset_apply(handle, family, table, name, buffer.baseAddress, count, &outcome.stats, &message,
                                   message.count)
            }
        }
        if rc != 0 {
            outcome.error = NftablesError(description: String(cMessage: message))
            outcome.errno = -rc
        }
        return outcome
    }

    static func reason(_ code: Int32, adding: Bool) -> String {
        let text = String(cString: strerror(code))
        switch code {
        case EEXIST: return "overlaps a range already in the set (EEXIST)"
        case ENOENT: return adding ? "the set or table does not exist (ENOENT)" : "not in the set: released or expired already (ENOENT)"
        case ENFILE, ENOSPC: return "the set is full: it reached its size limit (\(code == ENFILE ? "ENFILE" : "ENOSPC"))"
        case EAGAIN: return "the kernel kept refusing the batch while it changed underneath (EAGAIN); retry"
        case EINVAL: return "the kernel refused the element as invalid, e.g. a key of the wrong family for this set (EINVAL: \(text))"
        default: return "\(text) (errno \(code))"
        }
    }

    private func log(_ result: NftSetResult, verb: String, set: String) {
        guard let logger, !result.failures.isEmpty || result.error != nil else { return }
        // One line per failure kind, with the first few prefixes: a refused
        // batch of 100,000 elements must not write 100,000 lines.
        var byKind: [NftSetErrorKind: [NftSetFailure]] = [:]
        for f in result.failures { byKind[f.kind, default: []].append(f) }
        for (kind, failures) in byKind.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let sample = failures.prefix(5).map(\.description).joined(separator: "; ")
            logger.warning("nft set \(verb) \(set): \(failures.count) range(s) refused (\(kind.rawValue)): \(sample)\(failures.count > 5 ? "; ..." : "")")
        }
    }
}


/// What one socfw_nftset_apply call reported.
private struct ApplyOutcome {
    var stats = socfw_nftset_stats()
    /// The call failed as a whole: every range has `errno`.
    var error: NftablesError?
    var errno: Int32 = 0
}

extension NftSetResult {
    fileprivate mutating func absorb(_ outcome: ApplyOutcome) {
        batches += Int(outcome.stats.batches)
        messages += Int(outcome.stats.messages)
        retriedMessages += Int(outcome.stats.split_messages)
        if error == nil, let e = outcome.error { error = e }
    }
}

// MARK: - address ranges

/// An inclusive range of addresses of one family, the unit an interval set
/// holds: [first, last]. The kernel's end element is `last + 1`; a range
/// ending at the last address of the space has no end element.
struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    var first: UInt128
    var last: UInt128
    var v6: Bool
    /// 0: permanent.
    var timeoutMilliseconds: UInt64 = 0
    /// Time left, as the kernel listed it (0 for permanent ones).
    var expiresMilliseconds: UInt64 = 0

    init(first: UInt128, last: UInt128, v6: Bool, timeoutMilliseconds: UInt64 = 0) {
        self.first = first
        self.last = last
        self.v6 = v6
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    init(_ prefix: IPPrefix, timeoutMilliseconds: UInt64 = 0) {
        let v6 = prefix.network.isV6
        let value = AddressRange.value(of: prefix.network)
        let hostBits = (v6 ? 128 : 32) - prefix.length
        self.init(first: value, last: value | AddressRange.mask(bits: hostBits), v6: v6,
                  timeoutMilliseconds: timeoutMilliseconds)
    }

    /// A range as the C layer lists it (or as it was sent).
    init(_ c: socfw_nftset_range) {
        var c = c
        let v6 = c.key_len == 16
        let first = AddressRange.read(&c.start, v6: v6)
        let last: UInt128
        if c.open_end != 0 {
            last = AddressRange.maxValue(v6: v6)
        } else {
            let end = AddressRange.read(&c.end, v6: v6)
            last = end == 0 ? first : end - 1
        }
        self.init(first: first, last: last, v6: v6, timeoutMilliseconds: c.timeout_ms)
        expiresMilliseconds = c.expires_ms
    }

    static func maxValue(v6: Bool) -> UInt128 { v6 ? .max : UInt128(UInt32.max) }

    /// The low `bits` bits set.
    static func mask(bits: Int) -> UInt128 {
        bits <= 0 ? 0 : bits >= 128 ? .max : (UInt128(1) << UInt128(bits)) - 1
    }

    static func value(of address: IPAddress) -> UInt128 {
        address.isV6 ? UInt128(address.high) << 64 | UInt128(address.low) : UInt128(address.v4)
    }

    static func address(_ value: UInt128, v6: Bool) -> IPAddress {
        v6 ? IPAddress(v6High: UInt64(truncatingIfNeeded: value >> 64), low: UInt64(truncatingIfNeeded: value))
            : IPAddress(v4: UInt32(truncatingIfNeeded: value))
    }

    /// Big-endian key bytes (4 or 16) into a C key field.
    static func write(_ value: UInt128, v6: Bool, into key: inout (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                                                    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                                                    UInt8, UInt8)) {
        let n = v6 ? 16 : 4
        withUnsafeMutableBytes(of: &key) { bytes in
            for i in 0..<n { bytes[i] = UInt8(truncatingIfNeeded: value >> UInt128(8 * (n - 1 - i))) }
        }
    }

    static func read(_ key: inout (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                   UInt8, UInt8, UInt8, UInt8, UInt8), v6: Bool) -> UInt128 {
        let n = v6 ? 16 : 4
        return withUnsafeBytes(of: &key) { bytes in
            var v: UInt128 = 0
            for i in 0..<n { v = v << 8 | UInt128(bytes[i]) }
            return v
        }
    }

    /// The C layer's form: start, end = last + 1 (or open to the end), timeout.
    func cRange(op: UInt8) -> socfw_nftset_range {
        var c = socfw_nftset_range()
        c.key_len = v6 ? 16 : 4
        c.op = op
        AddressRange.write(first, v6: v6, into: &c.start)
        if last == AddressRange.maxValue(v6: v6) {
            c.open_end = 1
        } else {
            AddressRange.write(last + 1, v6: v6, into: &c.end)
        }
        c.timeout_ms = timeoutMilliseconds
        return c
    }

    /// The fewest prefixes that cover exactly this range, in order.
    var prefixes: [IPPrefix] {
        let width = v6 ? 128 : 32
        var out: [IPPrefix] = []
        var start = first
        while true {
            // The largest aligned block that starts here and stays inside.
            var bits = start == 0 ? width : min(start.trailingZeroBitCount, width)
            while bits > 0 && start | AddressRange.mask(bits: bits) > last { bits -= 1 }
            out.append(IPPrefix(network: AddressRange.address(start, v6: v6), length: width - bits))
            let blockLast = start | AddressRange.mask(bits: bits)
            if blockLast >= last { break }
            start = blockLast + 1
        }
        return out
    }

    /// What is left of this range outside `others` (sorted, disjoint).
    func subtracting(_ others: [AddressRange]) -> [AddressRange] {
        var out: [AddressRange] = []
        var cursor = first
        for other in others where other.last >= first && other.first <= last {
            if other.first > cursor { out.append(AddressRange(first: cursor, last: other.first - 1, v6: v6)) }
            if other.last >= last { return out }
            cursor = max(cursor, other.last + 1)
        }
        if cursor <= last { out.append(AddressRange(first: cursor, last: last, v6: v6)) }
        return out
    }

    var description: String {
        let p = prefixes
        if p.count == 1 { return p[0].description }
        return "\(AddressRange.address(first, v6: v6))-\(AddressRange.address(last, v6: v6))"
    }

    /// Merges prefixes (of one family) with timeouts (0: permanent) into
    /// disjoint ranges sorted by address: a prefix inside another goes, the
    /// container keeping the longer timeout (permanent the longest); with
    /// `joinAdjacent`, neighbours with the same timeout become one range.
    /// `sources[i]` lists the indices of the prefixes behind `ranges[i]`.
    static func merge(_ items: [(IPPrefix, UInt64)], joinAdjacent: Bool = true)
        -> (ranges: [AddressRange], sources: [[Int]]) {
        let bounds = items.map { AddressRange($0.0, timeoutMilliseconds: $0.1) }
        let order = bounds.indices.sorted { a, b in
            bounds[a].first != bounds[b].first ? bounds[a].first < bounds[b].first : bounds[a].last > bounds[b].last
        }
        var ranges: [AddressRange] = []
        var sources: [[Int]] = []
        ranges.reserveCapacity(items.count)
        sources.reserveCapacity(items.count)
        for i in order {
            let next = bounds[i]
            if let current = ranges.last {
                let k = ranges.count - 1
                if next.first <= current.last {
                    ranges[k].last = max(current.last, next.last)
                    ranges[k].timeoutMilliseconds = longer(current.timeoutMilliseconds, next.timeoutMilliseconds)
                    sources[k].append(i)
                    continue
                }
                if joinAdjacent, current.last + 1 == next.first, current.timeoutMilliseconds == next.timeoutMilliseconds {
                    ranges[k].last = next.last
                    sources[k].append(i)
                    continue
                }
            }
            ranges.append(next)
            sources.append([i])
        }
        return (ranges, sources)
    }

    private static func longer(_ a: UInt64, _ b: UInt64) -> UInt64 { a == 0 || b == 0 ? 0 : max(a, b) }

    /// Sorted, disjoint union of ranges (overlapping and adjacent ones joined).
    static func union(_ ranges: [AddressRange]) -> [AddressRange] {
        var out: [AddressRange] = []
        for r in ranges.sorted(by: { $0.first < $1.first }) {
            if let k = out.indices.last, r.first <= out[k].last || r.first == out[k].last + 1 {
                out[k].last = max(out[k].last, r.last)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// Indices of the ranges in `sorted` (disjoint, by address) that share
    /// an address with `target`.
    static func overlapping(_ target: AddressRange, in sorted: [AddressRange]) -> [Int] {
        var low = 0
        var high = sorted.count
        while low < high {  // the first range that ends at or after target.first
            let mid = (low + high) / 2
            if sorted[mid].last < target.first { low = mid + 1 } else { high = mid }
        }
        var out: [Int] = []
        var i = low
        while i < sorted.count && sorted[i].first <= target.last {
            out.append(i)
            i += 1
        }
        return out
    }
}
