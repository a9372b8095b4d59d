import SocfwWire

/// The outcome of evaluating the rules for one packet.
public struct RuleDecision: Equatable, Sendable {
    public var verdict: Verdict
    /// Index (into `RuleSet.rules`) of the terminal rule that decided, or -1
    /// when the default action applied.
    public var ruleIndex: Int

    public init(verdict: Verdict, ruleIndex: Int) {
        self.verdict = verdict
        self.ruleIndex = ruleIndex
    }
}

/// An immutable, compiled rule set: enabled rules in evaluation order, their
/// conditions flattened into contiguous pools so evaluation touches no
/// reference counts and allocates nothing. Swapped whole on reload.
public final class RuleSet: Sendable {
    /// Enabled rules, sorted by priority (ties keep load order).
    public let rules: [Rule]
    public let defaultAction: RuleAction
    /// Rules given in the files, including disabled ones.
    public let loadedCount: Int

    private let compiledRules: [CompiledRule]
    private let conditions: [CompiledCondition]
    private let prefixes: [CompiledPrefix]
    /// Port and numeric-field ranges of every condition.
    private let valueRanges: [ClosedRange<UInt32>]
    private let protocols: [UInt8]
    /// Rules tried for every packet with ports (not indexed by destination port).
    private let anyPortRules: [Int32]
    /// Prefix offsets (65,537 of them) into `portBucketRules`, by destination
    /// port; empty when no rule is indexed.
    private let portBucketStart: [Int32]
    private let portBucketRules: [Int32]
    /// Rules without port conditions: the only candidates for packets without ports.
    private let portlessRules: [Int32]

    /// Rules naming more destination ports than this are not indexed.
    static let maxIndexedPorts = 64

    struct CompiledRule {
        var firstCondition: Int32
        var conditionCount: Int32
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
        enum Kind: UInt8 { case srcAddress, dstAddress, srcPort, dstPort, proto, ctState, ctDirection, numeric }
        var kind: Kind
        var negated: Bool
        /// For `.numeric`: which field.
        var field: NumericField = .ttl
        var first: Int32
        var count: Int32
    }

    public init(rules allRules: [Rule], defaultAction: RuleAction) {
        precondition(defaultAction.isTerminal, "default action must be terminal")
        let ordered = allRules.enumerated()
            .filter { $0.element.enabled }
            .sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }
            .map(\.element)
        var compiledRules: [CompiledRule] = []
        var conditions: [CompiledCondition] = []
        var prefixes: [CompiledPrefix] = []
        var valueRanges: [ClosedRange<UInt32>] = []
        var protocols: [UInt8] = []
        for rule in ordered {
            let first = Int32(conditions.count)
            for c in rule.conditions {
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
                case let .connectionState(mask, negated):
                    conditions.append(.init(kind: .ctState, negated: negated, first: Int32(mask), count: 0))
                case let .connectionDirection(direction, negated):
                    conditions.append(.init(kind: .ctDirection, negated: negated, first: Int32(direction.rawValue), count: 0))
                case let .numeric(field, ranges, negated):
                    conditions.append(.init(kind: .numeric, negated: negated, field: field,
                                            first: Int32(valueRanges.count), count: Int32(ranges.count)))
                    valueRanges += ranges
                }
            }
            compiledRules.append(.init(firstCondition: first, conditionCount: Int32(rule.conditions.count),
                                       terminal: rule.action.isTerminal, verdict: rule.action.verdict))
        }
        // Destination-port index: a rule whose (non-negated) dst_port
        // condition names at most `maxIndexedPorts` ports can only match
        // packets to those ports.
        var anyPort: [Int32] = []
        var portless: [Int32] = []
        var perPort: [UInt16: [Int32]] = [:]
        for (i, rule) in ordered.enumerated() {
            var indexedPorts: [ClosedRange<UInt16>]? = nil
            var hasPortCondition = false
            for c in rule.conditions {
                guard case let .port(source, ranges, negated) = c else { continue }
                hasPortCondition = true
                let width = ranges.reduce(0) { $0 + Int($1.upperBound) - Int($1.lowerBound) + 1 }
                if !source && !negated && width <= RuleSet.maxIndexedPorts && indexedPorts == nil {
                    indexedPorts = ranges
                }
            }
            if !hasPortCondition { portless.append(Int32(i)) }
            if let ranges = indexedPorts {
                for r in ranges {
                    for port in r where perPort[port]?.last != Int32(i) { perPort[port, default: []].append(Int32(i)) }
                }
            } else {
                anyPort.append(Int32(i))
            }
        }
        var bucketStart: [Int32] = []
        var bucketRules: [Int32] = []
        if !perPort.isEmpty {
            bucketStart.reserveCapacity(65537)
            for port in 0...65535 {
                bucketStart.append(Int32(bucketRules.count))
                if let list = perPort[UInt16(port)] { bucketRules += list }
            }
            bucketStart.append(Int32(bucketRules.count))
        }
        self.anyPortRules = anyPort
        self.portlessRules = portless
        self.portBucketStart = bucketStart
        self.portBucketRules = bucketRules
        self.rules = ordered
        self.loadedCount = allRules.count
        self.defaultAction = defaultAction
        self.compiledRules = compiledRules
        self.conditions = conditions
        self.prefixes = prefixes
        self.valueRanges = valueRanges
        self.protocols = protocols
    }

    /// First-match evaluation. `onNonTerminal` is called with the index of
    /// every LOG/ALERT rule that matches before the deciding rule.
    ///
    /// Only candidate rules are tried: for a packet with ports, the rules that
    /// apply to any destination port merged (in rule order) with the rules
    /// indexed under its destination port; for a packet without ports, the
    /// rules that have no port condition.
    public func evaluate(_ p: PacketSummary, flow: FlowContext = .untracked,
                         onNonTerminal: (Int) -> Void) -> RuleDecision {
        compiledRules.withUnsafeBufferPointer { rules in
            conditions.withUnsafeBufferPointer { conds in
                prefixes.withUnsafeBufferPointer { prefixes in
                    valueRanges.withUnsafeBufferPointer { ranges in
                        protocols.withUnsafeBufferPointer { protos in
                            let hasPorts = p.l4Parsed
                                && (p.l4Protocol == IPProtocolNumber.tcp || p.l4Protocol == IPProtocolNumber.udp)

                            @inline(__always)
                            func matches(_ r: CompiledRule) -> Bool {
                                var k = Int(r.firstCondition)
                                let end = k + Int(r.conditionCount)
                                while k < end {
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
                                        guard hasPorts else { return false }
                                        let port = c.kind == .srcPort ? p.sourcePort : p.destinationPort
                                        for j in lo..<hi where ranges[j].contains(UInt32(port)) { hit = true; break }
                                    case .proto:
                                        for j in lo..<hi where protos[j] == p.l4Protocol { hit = true; break }
                                    case .ctState:
                                        hit = c.first & (1 << Int32(flow.state.rawValue)) != 0
                                    case .ctDirection:
                                        hit = c.first == Int32(flow.direction.rawValue)
                                    case .numeric:
                                        guard let v = numericValue(c.field, p) else { return false }
                                        for j in lo..<hi where ranges[j].contains(v) { hit = true; break }
                                    }
                                    if hit == c.negated { return false }
                                    k += 1
                                }
                                return true
                            }

                            if hasPorts {
                                return anyPortRules.withUnsafeBufferPointer { any in
                                    portBucketRules.withUnsafeBufferPointer { bucket in
                                        var a = 0
                                        var b = 0
                                        var bEnd = 0
                                        if !portBucketStart.isEmpty {
                                            b = Int(portBucketStart[Int(p.destinationPort)])
                                            bEnd = Int(portBucketStart[Int(p.destinationPort) + 1])
                                        }
                                        while a < any.count || b < bEnd {
                                            let i: Int
                                            if b >= bEnd || (a < any.count && any[a] < bucket[b]) {
                                                i = Int(any[a]); a += 1
                                            } else {
                                                i = Int(bucket[b]); b += 1
                                            }
                                            let r = rules[i]
                                            guard matches(r) else { continue }
                                            if r.terminal { return RuleDecision(verdict: r.verdict, ruleIndex: i) }
                                            onNonTerminal(i)
                                        }
                                        return RuleDecision(verdict: defaultAction.verdict, ruleIndex: -1)
                                    }
                                }
                            }
                            for index in portlessRules {
                                let i = Int(index)
                                let r = rules[i]
                                guard matches(r) else { continue }
                                if r.terminal { return RuleDecision(verdict: r.verdict, ruleIndex: i) }
                                onNonTerminal(i)
                            }
                            return RuleDecision(verdict: defaultAction.verdict, ruleIndex: -1)
                        }
                    }
                }
            }
        }
    }

    /// Kept out of line: numeric conditions are rare, and inlining their
    /// switch into the evaluation loop measurably slowed every packet.
    @inline(never)
    func numericValue(_ field: NumericField, _ p: PacketSummary) -> UInt32? {
        // No such field on this packet: the condition is false, negated or not.
        field.value(in: p)
    }

    /// Reference evaluator over the readable `Rule` form; the compiled path
    /// must agree with it (checked by a differential test).
    public func evaluateSimple(_ packet: PacketSummary, flow: FlowContext = .untracked,
                               onNonTerminal: (Int) -> Void) -> RuleDecision {
        for (i, rule) in rules.enumerated() where rule.matches(packet, flow: flow) {
            if rule.action.isTerminal { return RuleDecision(verdict: rule.action.verdict, ruleIndex: i) }
            onNonTerminal(i)
        }
        return RuleDecision(verdict: defaultAction.verdict, ruleIndex: -1)
    }
}
