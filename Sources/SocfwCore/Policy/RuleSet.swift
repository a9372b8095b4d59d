import Synchronization
import SocfwRegex
import SocfwWire

/// The outcome of evaluating the rules for one packet.
public struct RuleDecision: Equatable, Sendable {
    public var verdict: Verdict
    /// Index (into `RuleSet.rules`) of the terminal rule that decided, or -1
    /// when the default action applied.
    public var ruleIndex: Int
    /// The decision depends only on flow-invariant conditions (addresses,
    /// ports, protocol, interfaces) and no LOG/ALERT rule matched: every
    /// packet of this flow in this direction gets the same one, so it may
    /// be kept per flow until the rules change.
    public var flowInvariant: Bool

    public init(verdict: Verdict, ruleIndex: Int, flowInvariant: Bool = false) {
        self.verdict = verdict
        self.ruleIndex = ruleIndex
        self.flowInvariant = flowInvariant
    }
}

/// The per-packet context of the compiled evaluator.
public struct MatchInput {
    public var flow: FlowContext
    /// Bits of `RuleSet.interfaceMask(for:)` for the input and output interface.
    public var inInterfaces: UInt64
    public var outInterfaces: UInt64
    public var payload: UnsafeRawBufferPointer

    public init(flow: FlowContext = .untracked, inInterfaces: UInt64 = 0, outInterfaces: UInt64 = 0,
                payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        self.flow = flow
        self.inInterfaces = inInterfaces
        self.outInterfaces = outInterfaces
        self.payload = payload
    }
}

/// Per-thread state of evaluation: the LOG/ALERT rules that matched the
/// last packet, PCRE2 match data, counters. One per worker.
public final class RuleScratch {
    public let regex: RegexScratch
    /// Indices of the non-terminal rules that matched, in rule order.
    public private(set) var nonTerminal: [Int32] = []
    /// `matches` attempts abandoned at the PCRE2 limits (counted as no match).
    public internal(set) var regexLimitHits: UInt64 = 0
    /// Candidate rules whose conditions were tested (the benchmark reports
    /// the average per packet).
    public internal(set) var candidatesTried: UInt64 = 0

    public init(limits: RegexScratch.Limits = .init()) {
        regex = RegexScratch(limits: limits)
        nonTerminal.reserveCapacity(64)
    }

    @inline(__always) func reset() { if !nonTerminal.isEmpty { nonTerminal.removeAll(keepingCapacity: true) } }
    @inline(__always) func append(_ i: Int32) { nonTerminal.append(i) }
}

/// An immutable, compiled rule set, swapped whole on reload.
///
/// Compilation: every enabled rule is filed under the one index where it is
/// most selective: the destination- or source-address index (a prefix with
/// its candidate list, `AddressIndex`), the destination-port table, or, when
/// no condition narrows it, a per-protocol list. A packet collects the
/// lists that can hold its matches (the prefixes containing its addresses,
/// its port's bucket, its protocol's list), all sorted by rule order, and
/// merges them; only those candidates are tested, each with its conditions
/// flattened into contiguous pools (flow-invariant ones first). The first
/// terminal match decides, exactly as the simple evaluator over `rules`.
public final class RuleSet: @unchecked Sendable {
    // @unchecked: the pools below are written once in init, read-only
    // afterwards, and freed in deinit.
    /// Enabled rules, sorted by priority (ties keep load order).
    public let rules: [Rule]
    public let defaultAction: RuleAction
    /// Rules given in the files, including disabled ones.
    public let loadedCount: Int
    /// Unique per rule set in this process: flow caches keyed by it.
    public let generation: UInt64
    /// Interface patterns used by the rules; bit i of an interface mask is pattern i.
    public let interfacePatterns: [InterfacePattern]
    /// Rules filed under each index (for tests and the benchmark's report).
    public let indexStatistics: IndexStatistics

    public struct IndexStatistics: Equatable, Sendable {
        public var byDestinationAddress = 0, bySourceAddress = 0, byDestinationPort = 0, unindexed = 0
    }

    /// Most distinct interface patterns in one rule set (bits of a UInt64;
    /// the top bit is `interfaceKnown`).
    public static let maxInterfacePatterns = 63
    /// Rules naming more destination ports than this are not port-indexed.
    static let maxIndexedPorts = 64
    /// Shorter prefixes are not worth indexing (they hold most addresses).
    static let minIndexedV4Prefix = 8
    static let minIndexedV6Prefix = 16

    private static let generations = Atomic<UInt64>(0)

    // Pools as raw buffers: no reference counting or uniqueness checks on
    // the packet path.
    private let compiledRules: UnsafeBufferPointer<CompiledRule>
    private let conditions: UnsafeBufferPointer<CompiledCondition>
    private let prefixes: UnsafeBufferPointer<CompiledPrefix>
    /// Port and numeric-field ranges of every condition.
    private let valueRanges: UnsafeBufferPointer<ClosedRange<UInt32>>
    private let protocols: UnsafeBufferPointer<UInt8>
    private let masks: UnsafeBufferPointer<UInt64>
    private let bytePatterns: [BytePattern]
    private let regexes: [CompiledRegex]

    /// All candidate lists, each a sorted run of rule indices.
    private let pool: UnsafeBufferPointer<Int32>
    private let dstV4: AddressIndex<UInt32>, srcV4: AddressIndex<UInt32>
    private let dstV6: AddressIndex<UInt128>, srcV6: AddressIndex<UInt128>
    /// Pool offsets by destination port (65,537 entries; empty when no rule is port-indexed).
    private let portBucketStart: UnsafeBufferPointer<Int32>
    /// One bit per port with a non-empty bucket (8 KB, stays in cache: most
    /// ports have none, and the offsets table is then not touched).
    private let portsIndexed: UnsafeBufferPointer<UInt64>
    /// Pool slices of the unindexed rules by protocol class.
    private let unindexed: [ClassSlice]
    private let maxLists: Int

    struct ClassSlice { var start: Int32; var end: Int32 }

    /// tcp, udp, icmp / icmpv6, anything else.
    @inline(__always)
    static func protocolClass(_ proto: UInt8) -> Int {
        switch proto {
        case IPProtocolNumber.tcp: return 0
        case IPProtocolNumber.udp: return 1
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6: return 2
        default: return 3
        }
    }

    struct CompiledRule {
        var firstCondition: Int32
        var conditionCount: Int32
        /// Conditions [first, first + invariantCount) are flow-invariant.
        var invariantCount: Int32
        var terminal: Bool
        var verdict: Verdict
    }

    /// A prefix with its mask precomputed: one AND and compare per word.
    struct CompiledPrefix {
        var high: UInt64
        var low: UInt64
        var maskHigh: UInt64
        var maskLow: UInt64
        var isV6: Bool

        init(_ p: IPPrefix) {
            let ones = IPAddress(v6High: .max, low: .max)
            let mask = p.network.isV6 ? ones.masked(to: p.length) : IPAddress(v4: .max).masked(to: p.length)
            high = p.network.high
            low = p.network.low
            maskHigh = mask.high
            maskLow = mask.low
            isV6 = p.network.isV6
        }

        @inline(__always)
        func contains(_ a: IPAddress) -> Bool {
            a.isV6 == isV6 && (a.high & maskHigh) == high && (a.low & maskLow) == low
        }
    }

    struct CompiledCondition {
        enum Kind: UInt8 {
            case srcAddress, dstAddress, srcPort, dstPort, proto, inInterface, outInterface
            case ctState, ctDirection, numeric, contains, matches
        }
        var kind: Kind
        var negated: Bool
        /// For `.numeric`: which field.
        var field: NumericField = .ttl
        var first: Int32
        var count: Int32
    }

    public init(rules allRules: [Rule], defaultAction: RuleAction) {
        precondition(defaultAction.isPlainVerdict, "default action must be ALLOW, DROP or REJECT")
        let ordered = allRules.enumerated()
            .filter { $0.element.enabled }
            .sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }
            .map(\.element)
        var patterns: [InterfacePattern] = []
        var patternBit: [InterfacePattern: Int] = [:]
        var compiledRules: [CompiledRule] = []
        var conditions: [CompiledCondition] = []
        var prefixes: [CompiledPrefix] = []
        var valueRanges: [ClosedRange<UInt32>] = []
        var protocols: [UInt8] = []
        var masks: [UInt64] = []
        var bytePatterns: [BytePattern] = []
        var regexes: [CompiledRegex] = []
        for rule in ordered {
            let first = Int32(conditions.count)
            // Flow-invariant conditions first, cheapest first: the order of
            // an AND does not change its answer.
            let sortedConditions = rule.conditions.enumerated().sorted {
                (Self.cost($0.element), $0.offset) < (Self.cost($1.element), $1.offset)
            }.map(\.element)
            for c in sortedConditions {
                switch c {
                case let .address(source, list, negated):
                    conditions.append(.init(kind: source ? .srcAddress : .dstAddress, negated: negated,
                                            first: Int32(prefixes.count), count: Int32(list.count)))
                    prefixes += list.map(CompiledPrefix.init)
                case let .port(source, ranges, negated):
                    conditions.append(.init(kind: source ? .srcPort : .dstPort, negated: negated,
                                            first: Int32(valueRanges.count), count: Int32(ranges.count)))
                    valueRanges += ranges.map { UInt32($0.lowerBound)...UInt32($0.upperBound) }
                case let .protocolNumber(numbers, negated):
                    conditions.append(.init(kind: .proto, negated: negated,
                                            first: Int32(protocols.count), count: Int32(numbers.count)))
                    protocols += numbers
                case let .interface(input, list, negated):
                    var mask: UInt64 = 0
                    for p in list {
                        let bit: Int
                        if let b = patternBit[p] {
                            bit = b
                        } else {
                            precondition(patterns.count < Self.maxInterfacePatterns,
                                         "more than \(Self.maxInterfacePatterns) interface patterns (the loader refuses this)")
                            bit = patterns.count
                            patternBit[p] = bit
                            patterns.append(p)
                        }
                        mask |= 1 << UInt64(bit)
                    }
                    conditions.append(.init(kind: input ? .inInterface : .outInterface, negated: negated,
                                            first: Int32(masks.count), count: 1))
                    masks.append(mask)
                case let .connectionState(mask, negated):
                    conditions.append(.init(kind: .ctState, negated: negated, first: Int32(mask), count: 0))
                case let .connectionDirection(direction, negated):
                    conditions.append(.init(kind: .ctDirection, negated: negated, first: Int32(direction.rawValue), count: 0))
                case let .numeric(field, ranges, negated):
                    conditions.append(.init(kind: .numeric, negated: negated, field: field,
                                            first: Int32(valueRanges.count), count: Int32(ranges.count)))
                    valueRanges += ranges
                case let .payloadContains(pattern):
                    conditions.append(.init(kind: .contains, negated: false, first: Int32(bytePatterns.count), count: 1))
                    bytePatterns.append(pattern)
                case let .payloadMatches(r):
                    conditions.append(.init(kind: .matches, negated: false, first: Int32(regexes.count), count: 1))
                    regexes.append(r.regex)
                }
            }
            compiledRules.append(.init(firstCondition: first, conditionCount: Int32(rule.conditions.count),
                                       invariantCount: Int32(rule.conditions.filter(\.isFlowInvariant).count),
                                       terminal: rule.action.isTerminal, verdict: rule.action.verdict))
        }

        // File every rule under one index.
        var pool: [Int32] = []
        var stats = IndexStatistics()
        var dstV4: [IPPrefix: [Int32]] = [:], srcV4: [IPPrefix: [Int32]] = [:]
        var dstV6: [IPPrefix: [Int32]] = [:], srcV6: [IPPrefix: [Int32]] = [:]
        var perPort: [UInt16: [Int32]] = [:]
        var unindexedLists: [[Int32]] = [[], [], [], []]
        for (i, rule) in ordered.enumerated() {
            let index = Int32(i)
            switch Self.bestIndex(rule) {
            case let .address(source, list):
                if source { stats.bySourceAddress += 1 } else { stats.byDestinationAddress += 1 }
                for p in Set(list) {
                    if p.network.isV6 {
                        if source { srcV6[p, default: []].append(index) } else { dstV6[p, default: []].append(index) }
                    } else {
                        if source { srcV4[p, default: []].append(index) } else { dstV4[p, default: []].append(index) }
                    }
                }
            case let .port(ranges):
                stats.byDestinationPort += 1
                for r in ranges {
                    for port in r where perPort[port]?.last != index { perPort[port, default: []].append(index) }
                }
            case let .none(classes):
                stats.unindexed += 1
                for c in 0..<4 where classes & (1 << c) != 0 { unindexedLists[c].append(index) }
            }
        }
        func addressIndex<K: FixedWidthInteger & UnsignedInteger>(_ lists: [IPPrefix: [Int32]],
                                                                   key: (IPAddress) -> K, width: Int) -> AddressIndex<K> {
            var entries: [(first: K, last: K, listStart: Int32, listEnd: Int32)] = []
            for (prefix, list) in lists {
                let start = Int32(pool.count)
                pool += list
                let first = key(prefix.network)
                let hostBits = width - prefix.length
                let last = hostBits >= width ? K.max : first | ((K(1) << K(hostBits)) &- 1)
                entries.append((first, last, start, Int32(pool.count)))
            }
            return AddressIndex(prefixes: entries)
        }
        let v4Key: (IPAddress) -> UInt32 = { UInt32(truncatingIfNeeded: $0.low) }
        let v6Key: (IPAddress) -> UInt128 = { UInt128($0.high) << 64 | UInt128($0.low) }
        self.dstV4 = addressIndex(dstV4, key: v4Key, width: 32)
        self.srcV4 = addressIndex(srcV4, key: v4Key, width: 32)
        self.dstV6 = addressIndex(dstV6, key: v6Key, width: 128)
        self.srcV6 = addressIndex(srcV6, key: v6Key, width: 128)
        var bucketStart: [Int32] = []
        if !perPort.isEmpty {
            bucketStart.reserveCapacity(65537)
            for port in 0...65535 {
                bucketStart.append(Int32(pool.count))
                if let list = perPort[UInt16(port)] { pool += list }
            }
            bucketStart.append(Int32(pool.count))
        }
        var slices: [ClassSlice] = []
        for list in unindexedLists {
            let start = Int32(pool.count)
            pool += list
            slices.append(ClassSlice(start: start, end: Int32(pool.count)))
        }
        self.pool = frozenCopy(pool)
        self.portBucketStart = frozenCopy(bucketStart)
        var bits = [UInt64](repeating: 0, count: 1024)
        for port in perPort.keys { bits[Int(port) >> 6] |= 1 << UInt64(port & 63) }
        self.portsIndexed = frozenCopy(bits)
        self.unindexed = slices
        self.maxLists = max(self.dstV4.maxDepth, self.dstV6.maxDepth) + max(self.srcV4.maxDepth, self.srcV6.maxDepth) + 2
        self.indexStatistics = stats
        self.rules = ordered
        self.loadedCount = allRules.count
        self.defaultAction = defaultAction
        self.generation = Self.generations.add(1, ordering: .relaxed).newValue
        self.interfacePatterns = patterns
        self.compiledRules = frozenCopy(compiledRules)
        self.conditions = frozenCopy(conditions)
        self.prefixes = frozenCopy(prefixes)
        self.valueRanges = frozenCopy(valueRanges)
        self.protocols = frozenCopy(protocols)
        self.masks = frozenCopy(masks)
        self.bytePatterns = bytePatterns
        self.regexes = regexes
    }

    deinit {
        for b in [UnsafeRawPointer(compiledRules.baseAddress), UnsafeRawPointer(conditions.baseAddress),
                  UnsafeRawPointer(prefixes.baseAddress), UnsafeRawPointer(valueRanges.baseAddress),
                  UnsafeRawPointer(protocols.baseAddress), UnsafeRawPointer(masks.baseAddress),
                  UnsafeRawPointer(pool.baseAddress), UnsafeRawPointer(portBucketStart.baseAddress),
                  UnsafeRawPointer(portsIndexed.baseAddress)] {
            b?.deallocate()
        }
    }

    /// Evaluation order inside a rule: flow-invariant before the rest,
    /// cheap before expensive.
    static func cost(_ c: Condition) -> Int {
        switch c {
        case .protocolNumber: return 0
        case .port: return 1
        case .interface: return 2
        case .address: return 3
        case .connectionState, .connectionDirection: return 10
        case .numeric: return 11
        case .payloadContains: return 20
        case .payloadMatches: return 21
        }
    }

    enum IndexChoice {
        case address(source: Bool, [IPPrefix])
        case port([ClosedRange<UInt16>])
        /// Bit c: the rule can match protocol class c.
        case none(classes: Int)
    }

    /// The index where a rule is most selective: the share of the address
    /// (or port) space its condition admits, ports weighted up because
    /// traffic concentrates on few of them.
    static func bestIndex(_ rule: Rule) -> IndexChoice {
        var best = IndexChoice.none(classes: protocolClasses(rule))
        var bestShare = 1.0
        for c in rule.conditions {
            switch c {
            case let .address(source, list, false) where !list.isEmpty && list.count <= 64:
                var share = 0.0
                var indexable = true
                for p in list {
                    let bits = p.network.isV6 ? p.length / 2 : p.length
                    if p.length < (p.network.isV6 ? minIndexedV6Prefix : minIndexedV4Prefix) { indexable = false; break }
                    share += 1.0 / Double(UInt64(1) << UInt64(min(bits, 62)))
                }
                if indexable && share <= bestShare { best = .address(source: source, list); bestShare = share }
            case let .port(false, ranges, false):
                let width = ranges.reduce(0) { $0 + Int($1.upperBound) - Int($1.lowerBound) + 1 }
                guard width <= maxIndexedPorts else { continue }
                let share = Double(width) * 256 / 65536
                if share < bestShare { best = .port(ranges); bestShare = share }
            default:
                continue
            }
        }
        return best
    }

    /// Protocol classes a rule can match, from its protocol, port, TCP-flag
    /// and ICMP conditions (bits: tcp, udp, icmp, other).
    static func protocolClasses(_ rule: Rule) -> Int {
        var classes = 0b1111
        for c in rule.conditions {
            switch c {
            case let .protocolNumber(numbers, false):
                classes &= numbers.reduce(0) { $0 | 1 << protocolClass($1) }
            case .port:
                classes &= 0b0011
            case .numeric(.tcpFlags, _, _):
                classes &= 0b0001
            case .numeric(.icmpType, _, _), .numeric(.icmpCode, _, _):
                classes &= 0b0100
            default:
                break
            }
        }
        return classes
    }

    /// The bits of the interface patterns that `name` matches, with `interfaceKnown`.
    public func interfaceMask(for name: String) -> UInt64 {
        var mask: UInt64 = RuleSet.interfaceKnown
        for (i, p) in interfacePatterns.enumerated() where p.matches(name) { mask |= 1 << UInt64(i) }
        return mask
    }

    /// First-match evaluation over the candidate rules. The LOG/ALERT rules
    /// that matched before the deciding one are left in `scratch.nonTerminal`.
    public func evaluate(_ p: PacketSummary, input: MatchInput, scratch: RuleScratch) -> RuleDecision {
        scratch.reset()
        return withUnsafeTemporaryAllocation(of: ClassSlice.self, capacity: maxLists) { lists in
            var n = 0
            @inline(__always)
            func addChain<K>(_ index: AddressIndex<K>, _ key: K) {
                guard !index.isEmpty else { return }
                var node = index.innermost(key)
                while node >= 0 {
                    let prefix = index.prefixes[Int(node)]
                    lists[n] = ClassSlice(start: prefix.listStart, end: prefix.listEnd)
                    n += 1
                    node = prefix.parent
                }
            }
            if p.source.isV6 {
                addChain(dstV6, UInt128(p.destination.high) << 64 | UInt128(p.destination.low))
                addChain(srcV6, UInt128(p.source.high) << 64 | UInt128(p.source.low))
            } else {
                addChain(dstV4, UInt32(truncatingIfNeeded: p.destination.low))
                addChain(srcV4, UInt32(truncatingIfNeeded: p.source.low))
            }
            let hasPorts = p.l4Parsed && (p.l4Protocol == IPProtocolNumber.tcp || p.l4Protocol == IPProtocolNumber.udp)
            if hasPorts && !portBucketStart.isEmpty
                && portsIndexed[Int(p.destinationPort) >> 6] & (1 << UInt64(p.destinationPort & 63)) != 0 {
                let port = Int(p.destinationPort)
                lists[n] = ClassSlice(start: portBucketStart[port], end: portBucketStart[port + 1])
                n += 1
            }
            lists[n] = unindexed[Self.protocolClass(p.l4Protocol)]
            n += 1
            return merge(p, input: input, scratch: scratch, lists: lists, count: n, hasPorts: hasPorts)
        }
    }

    @inline(__always)
    private func merge(_ p: PacketSummary, input: MatchInput, scratch: RuleScratch,
                       lists: UnsafeMutableBufferPointer<ClassSlice>, count n: Int, hasPorts: Bool) -> RuleDecision {
        do {
            do {
                let rules = compiledRules
                var invariant = true
                var last: Int32 = -1
                while true {
                    // The smallest head among the lists is the next candidate.
                    var best = Int32.max
                    var bestList = -1
                    for j in 0..<n where lists[j].start < lists[j].end {
                        let v = pool[Int(lists[j].start)]
                        if v < best { best = v; bestList = j }
                    }
                    if bestList < 0 { break }
                    lists[bestList].start += 1
                    if best == last { continue }  // filed under two nested prefixes
                    last = best
                    scratch.candidatesTried &+= 1
                    let r = rules[Int(best)]
                    let failed = firstFailing(r, p, input: input, scratch: scratch, hasPorts: hasPorts)
                    if failed >= 0 {
                        if failed >= r.invariantCount { invariant = false }
                        continue
                    }
                    if r.terminal {
                        return RuleDecision(verdict: r.verdict, ruleIndex: Int(best),
                                            flowInvariant: invariant && r.invariantCount == r.conditionCount)
                    }
                    scratch.append(best)
                    invariant = false
                }
                return RuleDecision(verdict: defaultAction.verdict, ruleIndex: -1, flowInvariant: invariant)
            }
        }
    }

    /// Offset (within the rule) of the first condition the packet fails, -1
    /// when all hold.
    @inline(__always)
    private func firstFailing(_ r: CompiledRule, _ p: PacketSummary, input: MatchInput, scratch: RuleScratch,
                              hasPorts: Bool) -> Int32 {
        do {
            do {
                do {
                    let conds = conditions
                    let ranges = valueRanges
                    let first = Int(r.firstCondition)
                    for k in first..<first + Int(r.conditionCount) {
                        let c = conds[k]
                        let lo = Int(c.first)
                        let hi = lo + Int(c.count)
                        var hit = false
                        switch c.kind {
                        case .srcAddress, .dstAddress:
                            let a = c.kind == .srcAddress ? p.source : p.destination
                            for j in lo..<hi where prefixes[j].contains(a) { hit = true; break }
                        case .srcPort, .dstPort:
                            // No ports on this packet: the condition is false, negated or not.
                            guard hasPorts else { return Int32(k - first) }
                            let port = c.kind == .srcPort ? p.sourcePort : p.destinationPort
                            for j in lo..<hi where ranges[j].contains(UInt32(port)) { hit = true; break }
                        case .proto:
                            hit = protocolListContains(lo, hi, p.l4Protocol)
                        case .inInterface, .outInterface:
                            // Unknown interface: false, negated or not.
                            let have = c.kind == .inInterface ? input.inInterfaces : input.outInterfaces
                            if have & RuleSet.interfaceKnown == 0 { return Int32(k - first) }
                            hit = masks[lo] & have != 0
                        case .ctState:
                            hit = c.first & (1 << Int32(input.flow.state.rawValue)) != 0
                        case .ctDirection:
                            hit = c.first == Int32(input.flow.direction.rawValue)
                        case .numeric:
                            guard let v = numericValue(c.field, p) else { return Int32(k - first) }
                            for j in lo..<hi where ranges[j].contains(v) { hit = true; break }
                        case .contains:
                            hit = payloadContains(lo, input.payload)
                        case .matches:
                            hit = payloadMatches(lo, input.payload, scratch)
                        }
                        if hit == c.negated { return Int32(k - first) }
                    }
                    return -1
                }
            }
        }
    }

    /// Set in every mask from `interfaceMask(for:)`: the interface is
    /// known (a name matching no pattern still satisfies a negated condition).
    public static let interfaceKnown: UInt64 = 1 << 63

    @inline(__always)
    private func protocolListContains(_ lo: Int, _ hi: Int, _ proto: UInt8) -> Bool {
        for j in lo..<hi where protocols[j] == proto { return true }
        return false
    }

    /// Kept out of line: numeric conditions are rare, and inlining their
    /// switch into the evaluation loop measurably slowed every packet.
    @inline(never)
    func numericValue(_ field: NumericField, _ p: PacketSummary) -> UInt32? {
        // No such field on this packet: the condition is false, negated or not.
        field.value(in: p)
    }

    @inline(never)
    private func payloadContains(_ index: Int, _ payload: UnsafeRawBufferPointer) -> Bool {
        bytePatterns[index].occurs(in: payload)
    }

    @inline(never)
    private func payloadMatches(_ index: Int, _ payload: UnsafeRawBufferPointer, _ scratch: RuleScratch) -> Bool {
        switch regexes[index].matches(payload, scratch: scratch.regex) {
        case .match: return true
        case .noMatch: return false
        case .limitExceeded:
            scratch.regexLimitHits &+= 1
            return false
        }
    }

    /// The compiled conditions tried rule after rule, without the indexes:
    /// the O(n) baseline of the benchmark, and a second reference for tests.
    public func evaluateLinear(_ p: PacketSummary, input: MatchInput, scratch: RuleScratch) -> RuleDecision {
        scratch.reset()
        let hasPorts = p.l4Parsed && (p.l4Protocol == IPProtocolNumber.tcp || p.l4Protocol == IPProtocolNumber.udp)
        for i in 0..<compiledRules.count {
            let r = compiledRules[i]
            guard firstFailing(r, p, input: input, scratch: scratch, hasPorts: hasPorts) < 0 else { continue }
            if r.terminal { return RuleDecision(verdict: r.verdict, ruleIndex: i) }
            scratch.append(Int32(i))
        }
        return RuleDecision(verdict: defaultAction.verdict, ruleIndex: -1)
    }

    /// Convenience for tests and tools: evaluate with a fresh scratch,
    /// reporting matched LOG/ALERT rules to `onNonTerminal`.
    public func evaluate(_ p: PacketSummary, flow: FlowContext = .untracked,
                         onNonTerminal: (Int) -> Void) -> RuleDecision {
        let scratch = RuleScratch()
        let d = evaluate(p, input: MatchInput(flow: flow), scratch: scratch)
        for i in scratch.nonTerminal { onNonTerminal(Int(i)) }
        return d
    }

    /// Reference evaluator over the readable `Rule` form; the compiled path
    /// must agree with it (checked by a differential test).
    public func evaluateSimple(_ packet: PacketSummary, meta: PacketMeta, regexScratch: RegexScratch,
                               onNonTerminal: (Int) -> Void) -> RuleDecision {
        for (i, rule) in rules.enumerated() where rule.matches(packet, meta: meta, regexScratch: regexScratch) {
            if rule.action.isTerminal { return RuleDecision(verdict: rule.action.verdict, ruleIndex: i) }
            onNonTerminal(i)
        }
        return RuleDecision(verdict: defaultAction.verdict, ruleIndex: -1)
    }

    public func evaluateSimple(_ packet: PacketSummary, flow: FlowContext = .untracked,
                               onNonTerminal: (Int) -> Void) -> RuleDecision {
        evaluateSimple(packet, meta: PacketMeta(flow: flow), regexScratch: RegexScratch(), onNonTerminal: onNonTerminal)
    }
}
