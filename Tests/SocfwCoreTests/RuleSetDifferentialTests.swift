import Testing
import SocfwCore
import SocfwRegex
import SocfwWire

/// The compiled evaluator (indexes, pools, candidate merge) against the
/// readable one, on random rule sets of every condition kind and random
/// packets; and the soundness of `flowInvariant`, which the per-flow
/// decision cache relies on.
@Suite struct RuleSetDifferentialTests {
    /// Addresses clustered so that random prefixes nest and overlap.
    static let v4Base: [UInt32] = [0x0a00_0000, 0x0a01_0000, 0x0a01_0200, 0xc612_0100, 0xc612_0200]
    static let v6Base: [(UInt64, UInt64)] = [(0x2001_0db8_0000_0000, 0), (0x2001_0db8_0001_0000, 0),
                                              (0xfd53_6f63_0002_0000, 0)]
    static let interfaces: [String?] = ["eth0", "eth1", "veth7", "br0", nil]
    static let patterns = ["eth0", "eth1", "veth*", "br+", "wlan0"]
    static let payloads: [[UInt8]] = [
        Array("GET /admin HTTP/1.1\r\n".utf8), Array("id=1 UNION SELECT pass".utf8), [0, 1, 2, 0xff], [],
        Array("hello".utf8),
    ]
    static let contains = ["admin", "|00 01|", "UNION", "zzz", "|ff|"]
    static let regexes = ["(?i)union\\s+select", "^GET /", "\\x00\\x01", "h.llo$"]

    func address(_ rng: inout SplitMix64, v6: Bool) -> IPAddress {
        if v6 {
            let b = Self.v6Base[rng.below(Self.v6Base.count)]
            return IPAddress(v6High: b.0 | UInt64(rng.below(4)) << 16, low: UInt64(rng.below(8)))
        }
        return IPAddress(v4: Self.v4Base[rng.below(Self.v4Base.count)] | UInt32(rng.below(4)) << 8 | UInt32(rng.below(8)))
    }

    func prefix(_ rng: inout SplitMix64, v6: Bool) -> IPPrefix {
        let a = address(&rng, v6: v6)
        let length = v6 ? [0, 8, 16, 32, 48, 64, 112, 126, 128][rng.below(9)] : [0, 4, 8, 12, 16, 22, 24, 29, 31, 32][rng.below(10)]
        return IPPrefix(network: a.masked(to: length), length: length)
    }

    func condition(_ rng: inout SplitMix64) -> Condition {
        switch rng.below(12) {
        case 0, 1, 2:
            let v6 = rng.below(3) == 0
            let list = (0...rng.below(3)).map { _ in prefix(&rng, v6: rng.below(5) == 0 ? !v6 : v6) }
            return .address(source: rng.below(2) == 0, prefixes: list, negated: rng.below(5) == 0)
        case 3, 4:
            let lo = UInt16(rng.below(100))
            let width = [0, 0, 0, 3, 40, 200][rng.below(6)]
            return .port(source: rng.below(3) == 0, ranges: [lo...(lo + UInt16(width))], negated: rng.below(5) == 0)
        case 5:
            return .protocolNumber(numbers: (0...rng.below(2)).map { _ in [6, 17, 1, 58, 47][rng.below(5)] },
                                   negated: rng.below(4) == 0)
        case 6:
            let field: NumericField = [.tcpFlags, .icmpType, .icmpCode, .ttl, .length, .dscp][rng.below(6)]
            let lo = UInt32(rng.below(70))
            return .numeric(field, ranges: [lo...(lo + UInt32(rng.below(20)))], negated: rng.below(3) == 0)
        case 7:
            return .connectionState(mask: UInt8(1 + rng.below(31)), negated: rng.below(3) == 0)
        case 8:
            return .connectionDirection(rng.below(2) == 0 ? .original : .reply, negated: rng.below(3) == 0)
        case 9:
            let list = (0...rng.below(2)).map { _ in InterfacePattern(Self.patterns[rng.below(Self.patterns.count)])! }
            return .interface(input: rng.below(2) == 0, patterns: list, negated: rng.below(3) == 0)
        case 10:
            return .payloadContains(try! BytePattern.parse(Self.contains[rng.below(Self.contains.count)]).get())
        default:
            return .payloadMatches(PayloadRegex(try! CompiledRegex(Self.regexes[rng.below(Self.regexes.count)])))
        }
    }

    func randomRuleSet(_ rng: inout SplitMix64, count: Int) -> RuleSet {
        var rules: [Rule] = []
        for i in 0..<count {
            let conditions = (0..<rng.below(4)).map { _ in condition(&rng) }
            rules.append(Rule(name: "r\(i)", action: RuleAction.allCases[rng.below(6)], priority: rng.below(5),
                              enabled: rng.below(8) != 0, conditions: conditions))
        }
        return RuleSet(rules: rules, defaultAction: [RuleAction.allow, .drop, .reject][rng.below(3)])
    }

    struct Sample {
        var packet: PacketSummary
        var flow: FlowContext
        var inInterface: String?
        var outInterface: String?
        var payload: [UInt8]
    }

    func randomSample(_ rng: inout SplitMix64) -> Sample {
        let v6 = rng.below(2) == 0
        var p = PacketSummary()
        p.source = address(&rng, v6: v6)
        p.destination = address(&rng, v6: v6)
        p.ipVersion = v6 ? 6 : 4
        p.l4Protocol = [6, 17, 1, 58, 47][rng.below(5)]
        p.l4Parsed = rng.below(10) != 0
        if p.l4Parsed && (p.l4Protocol == 6 || p.l4Protocol == 17) {
            p.sourcePort = UInt16(rng.below(130))
            p.destinationPort = UInt16(rng.below(130))
        }
        randomizeDynamic(&p, &rng)
        return Sample(packet: p,
                      flow: FlowContext(state: ConnectionState.allCases[rng.below(ConnectionState.allCases.count)],
                                        direction: rng.below(2) == 0 ? .original : .reply),
                      inInterface: Self.interfaces[rng.below(Self.interfaces.count)],
                      outInterface: Self.interfaces[rng.below(Self.interfaces.count)],
                      payload: Self.payloads[rng.below(Self.payloads.count)])
    }

    /// Fields that may differ between packets of one flow in one direction.
    func randomizeDynamic(_ p: inout PacketSummary, _ rng: inout SplitMix64) {
        p.ttl = UInt8(rng.below(80)); p.ipLength = rng.below(90); p.dscp = UInt8(rng.below(64))
        p.tcpFlags = TCPFlags(rawValue: UInt8(rng.below(40))); p.icmpType = UInt8(rng.below(80))
        p.icmpCode = UInt8(rng.below(20))
    }

    func compiled(_ set: RuleSet, _ s: Sample, _ scratch: RuleScratch) -> (RuleDecision, [Int]) {
        s.payload.withUnsafeBytes { payload in
            let input = MatchInput(flow: s.flow, inInterfaces: s.inInterface.map(set.interfaceMask(for:)) ?? 0,
                                   outInterfaces: s.outInterface.map(set.interfaceMask(for:)) ?? 0, payload: payload)
            let d = set.evaluate(s.packet, input: input, scratch: scratch)
            return (d, scratch.nonTerminal.map(Int.init))
        }
    }

    func simple(_ set: RuleSet, _ s: Sample, _ regex: RegexScratch) -> (RuleDecision, [Int]) {
        s.payload.withUnsafeBytes { payload in
            var logged: [Int] = []
            let meta = PacketMeta(flow: s.flow, inInterface: s.inInterface, outInterface: s.outInterface, payload: payload)
            let d = set.evaluateSimple(s.packet, meta: meta, regexScratch: regex) { logged.append($0) }
            return (d, logged)
        }
    }

    @Test(arguments: [(1, 400, 40), (2, 60, 400), (3, 6, 3000)])
    func compiledAgreesWithSimple(seed: UInt64, ruleSets: Int, rulesPerSet: Int) {
        var rng = SplitMix64(seed: seed)
        let scratch = RuleScratch()
        let regex = RegexScratch()
        var mismatches = 0
        var invariantChecked = 0
        for _ in 0..<ruleSets {
            let set = randomRuleSet(&rng, count: rng.below(rulesPerSet + 1))
            for _ in 0..<(rulesPerSet > 1000 ? 400 : 60) {
                let s = randomSample(&rng)
                let (fast, fastLogged) = compiled(set, s, scratch)
                let (slow, slowLogged) = simple(set, s, regex)
                if fast.verdict != slow.verdict || fast.ruleIndex != slow.ruleIndex || fastLogged != slowLogged {
                    mismatches += 1
                    if mismatches <= 3 {
                        Issue.record("compiled \(fast) \(fastLogged) vs simple \(slow) \(slowLogged) for \(s.packet) \(s.flow)")
                    }
                }
                // A decision called flow-invariant holds for any other packet
                // of the flow in the same direction.
                guard fast.flowInvariant else { continue }
                invariantChecked += 1
                for _ in 0..<4 {
                    var other = s
                    randomizeDynamic(&other.packet, &rng)
                    other.flow.state = ConnectionState.allCases[rng.below(ConnectionState.allCases.count)]
                    other.payload = Self.payloads[rng.below(Self.payloads.count)]
                    let (again, _) = simple(set, other, regex)
                    #expect(again.ruleIndex == fast.ruleIndex, "flow-invariant decision changed: \(fast) vs \(again)")
                }
            }
        }
        #expect(mismatches == 0)
        #expect(invariantChecked > 50, "too few flow-invariant decisions to check the cache's premise")
    }

    /// Many nested and disjoint prefixes spread over the address space (so
    /// the address indexes build their block tables), probed at the first
    /// and last address of every prefix and just outside it.
    @Test(arguments: [false, true])
    func addressIndexAgreesAtEveryPrefixEdge(v6: Bool) {
        var rng = SplitMix64(seed: v6 ? 11 : 10)
        var rules: [Rule] = []
        var prefixes: [IPPrefix] = []
        for i in 0..<3000 {
            let length = v6 ? [16, 32, 48, 56, 64, 96, 128][rng.below(7)] : [8, 12, 16, 20, 24, 28, 31, 32][rng.below(8)]
            // Half anywhere, half inside an earlier prefix (nesting).
            var a = v6 ? IPAddress(v6High: rng.next(), low: rng.next()) : IPAddress(v4: UInt32(truncatingIfNeeded: rng.next()))
            if let outer = prefixes.randomElement(using: &rng), rng.below(2) == 0, outer.length < length {
                let mask = outer.network.isV6 ? IPAddress(v6High: .max, low: .max).masked(to: outer.length)
                    : IPAddress(v4: .max).masked(to: outer.length)
                a = v6 ? IPAddress(v6High: outer.network.high | (a.high & ~mask.high), low: outer.network.low | (a.low & ~mask.low))
                    : IPAddress(v4: UInt32(truncatingIfNeeded: outer.network.low | (a.low & ~mask.low)))
            }
            let p = IPPrefix(network: a.masked(to: length), length: length)
            prefixes.append(p)
            rules.append(Rule(name: "r\(i)", action: [.drop, .allow, .log][rng.below(3)],
                              conditions: [.address(source: rng.below(2) == 0, prefixes: [p], negated: false)]))
        }
        let set = RuleSet(rules: rules, defaultAction: .reject)
        let scratch = RuleScratch()
        let regex = RegexScratch()
        func probe(_ a: IPAddress) {
            for source in [true, false] {
                var p = PacketSummary()
                p.ipVersion = v6 ? 6 : 4
                p.l4Protocol = 47
                p.l4Parsed = true
                let other = v6 ? IPAddress(v6High: 1, low: 1) : IPAddress(v4: 1)
                p.source = source ? a : other
                p.destination = source ? other : a
                let s = Sample(packet: p, flow: .untracked, inInterface: nil, outInterface: nil, payload: [])
                let (fast, fastLogged) = compiled(set, s, scratch)
                let (slow, slowLogged) = simple(set, s, regex)
                #expect(fast.ruleIndex == slow.ruleIndex && fastLogged == slowLogged, "\(a) source \(source)")
            }
        }
        for p in prefixes.prefix(600) {
            let width = v6 ? 128 : 32
            let hostOnes = width - p.length
            let first = p.network
            let last: IPAddress
            if v6 {
                let hi: UInt64 = hostOnes >= 64 ? first.high | (hostOnes >= 128 ? .max : (UInt64(1) << UInt64(hostOnes - 64)) - 1) : first.high
                let lo: UInt64 = hostOnes >= 64 ? .max : first.low | ((UInt64(1) << UInt64(hostOnes)) &- 1)
                last = IPAddress(v6High: hi, low: lo)
            } else {
                last = IPAddress(v4: UInt32(truncatingIfNeeded: first.low) | UInt32(truncatingIfNeeded: (UInt64(1) << UInt64(hostOnes)) - 1))
            }
            probe(first)
            probe(last)
            if v6 {
                let (lo, borrow) = first.low.subtractingReportingOverflow(1)
                probe(IPAddress(v6High: borrow ? first.high &- 1 : first.high, low: lo))
                let (next, carry) = last.low.addingReportingOverflow(1)
                probe(IPAddress(v6High: carry ? last.high &+ 1 : last.high, low: next))
            } else {
                probe(IPAddress(v4: UInt32(truncatingIfNeeded: first.low) &- 1))
                probe(IPAddress(v4: UInt32(truncatingIfNeeded: last.low) &+ 1))
            }
        }
    }

    @Test func indexesAreUsed() {
        var rng = SplitMix64(seed: 9)
        let set = randomRuleSet(&rng, count: 2000)
        let s = set.indexStatistics
        #expect(s.byDestinationAddress > 100 && s.bySourceAddress > 100 && s.byDestinationPort > 50, "\(s)")
    }
}
