// socfw-bench rules: the cost of the rules per packet as the rule set grows
// (10, 1,000, 10,000 rules of a realistic generated mix), the simple linear
// evaluator on the same rules as the baseline, and the time to load,
// compile and swap in 10,000 rules from YAML.
import Foundation
import SocfwCore
import SocfwWire

/// A realistic mix, as a large rules directory accumulates them: mostly
/// blocklisted hosts and networks (threat lists) anywhere in the address
/// space, published services (host + port) in the site's own /16, port
/// policies, partner networks to a service, IPv6 blocks, a few ICMP and
/// LOG rules.
func makeRealisticRules(count: Int, rng: inout SplitMix64) -> [Rule] {
    func anyV4() -> UInt32 { UInt32(truncatingIfNeeded: rng.next()) }
    func prefix(_ a: UInt32, _ length: Int) -> IPPrefix {
        IPPrefix(network: IPAddress(v4: a).masked(to: length), length: length)
    }
    var rules: [Rule] = []
    let site: UInt32 = 0xc613_0000  // 198.19.0.0/16
    for i in 0..<count {
        var c: [Condition] = []
        var action: RuleAction = [.drop, .drop, .reject, .allow][rng.below(4)]
        switch rng.below(20) {
        case 0...11:  // blocklisted source host or network
            c.append(.address(source: true, prefixes: [prefix(anyV4(), [32, 32, 24, 20][rng.below(4)])], negated: false))
            action = .drop
        case 12...14:  // a published service: a host of the site, one TCP port
            c.append(.protocolNumber(numbers: [6], negated: false))
            c.append(.address(source: false, prefixes: [prefix(site | UInt32(rng.below(1 << 16)), 32)], negated: false))
            let port = [80, 443, 22, 25, 8080, 3306, 5432][rng.below(7)]
            c.append(.port(source: false, ranges: [UInt16(port)...UInt16(port)], negated: false))
            action = .allow
        case 15...16:  // a port policy: one to three ports
            c.append(.protocolNumber(numbers: [rng.below(3) == 0 ? 17 : 6], negated: false))
            let port = UInt16(1 + rng.below(65000))
            var ranges = [port...port]
            if rng.below(2) == 0 { ranges.append((port &+ 10)...(port &+ 12)) }
            c.append(.port(source: false, ranges: ranges, negated: false))
        case 17:  // a partner network to the site's HTTPS
            c.append(.address(source: true, prefixes: [prefix(anyV4(), [16, 20, 24][rng.below(3)])], negated: false))
            c.append(.port(source: false, ranges: [443...443], negated: false))
            action = .allow
        case 18:  // IPv6 blocks
            let net = IPAddress(v6High: 0x2001_0db8_0000_0000 | UInt64(rng.below(1 << 16)) << 16, low: 0)
            c.append(.address(source: true, prefixes: [IPPrefix(network: net, length: 48)], negated: false))
        default:
            if i < 40 {  // ICMP policy: a handful in any rule set
                c.append(.protocolNumber(numbers: [1], negated: false))
                c.append(.numeric(.icmpType, ranges: [UInt32(rng.below(20))...UInt32(rng.below(20) + 20)], negated: false))
            } else {  // LOG a host or a small subnet of the site, outside the well-known ports
                c.append(.address(source: false, prefixes: [prefix(site | UInt32(rng.below(1 << 16)), [30, 32][rng.below(2)])],
                                  negated: false))
                c.append(.port(source: false, ranges: [0...1023], negated: true))
                action = .log
            }
        }
        rules.append(Rule(name: "rule-\(i)", action: action, priority: rng.below(100), conditions: c))
    }
    return rules
}

/// Parsed packets to the site: a fifth from inside the rules' own prefixes
/// (so rules match and candidate lists are not empty), the rest from
/// anywhere; common and random ports, some UDP, ICMP and IPv6.
func makeBenchPackets(_ n: Int, rules: [Rule], rng: inout SplitMix64) -> [PacketSummary] {
    let sources: [IPPrefix] = rules.flatMap { r in
        r.conditions.compactMap { c -> IPPrefix? in
            if case let .address(true, prefixes, false) = c { return prefixes.first }
            return nil
        }
    }
    return (0..<n).map { _ in
        var p = PacketSummary()
        p.ipVersion = 4
        p.l4Parsed = true
        p.l4Protocol = [6, 6, 6, 17, 17, 1][rng.below(6)]
        let host = IPAddress(v6High: rng.next(), low: rng.next())
        if !sources.isEmpty && rng.below(5) == 0 {
            let net = sources[rng.below(sources.count)]
            p.ipVersion = net.network.isV6 ? 6 : 4
            let hostPart = net.network.isV6 ? host : IPAddress(v4: UInt32(truncatingIfNeeded: host.low))
            let inverse = IPAddress(v6High: ~hostPart.masked(to: net.length).high, low: ~hostPart.masked(to: net.length).low)
            p.source = net.network.isV6
                ? IPAddress(v6High: net.network.high | (hostPart.high & inverse.high), low: net.network.low | (hostPart.low & inverse.low))
                : IPAddress(v4: UInt32(truncatingIfNeeded: net.network.low) | (UInt32(truncatingIfNeeded: hostPart.low) & ~UInt32(truncatingIfNeeded: hostPart.masked(to: net.length).low) & (net.length == 0 ? .max : UInt32.max >> UInt32(net.length))))
        } else if rng.below(10) == 0 {
            p.ipVersion = 6
            p.source = IPAddress(v6High: 0x2001_0db8_0000_0000 | UInt64(rng.below(1 << 16)) << 16, low: 1)
        } else {
            p.source = IPAddress(v4: UInt32(truncatingIfNeeded: rng.next()))
        }
        p.destination = p.ipVersion == 6
            ? IPAddress(v6High: 0x2001_0db8_ffff_0000, low: UInt64(rng.below(1 << 16)))
            : IPAddress(v4: 0xc613_0000 | UInt32(rng.below(1 << 16)))
        if p.l4Protocol != 1 {
            p.sourcePort = UInt16(1024 + rng.below(60000))
            p.destinationPort = rng.below(4) == 0 ? UInt16(1 + rng.below(65535)) : [80, 443, 53, 22, 8080][rng.below(5)]
        } else {
            p.icmpType = UInt8(rng.below(40))
        }
        p.ttl = 64
        p.ipLength = 60 + rng.below(1400)
        return p
    }
}

/// Best-of-rounds nanoseconds per packet of `body` over `packets`.
func nanosecondsPerPacket(_ packets: [PacketSummary], rounds: Int, _ body: (PacketSummary) -> Int) -> (Double, Int) {
    var best = Double.infinity
    var checksum = 0
    for _ in 0..<rounds {
        let t0 = monotonicNanoseconds()
        for p in packets { checksum &+= body(p) }
        best = min(best, Double(monotonicNanoseconds() - t0) / Double(packets.count))
    }
    return (best, checksum)
}

/// Renders rules as a rules file in the seed's YAML format.
func rulesYAML(_ rules: [Rule]) -> String {
    var out = "rules:\n"
    for r in rules {
        out += "  - name: \(r.name)\n    action: \(r.action.rawValue)\n    priority: \(r.priority)\n    conditions:\n"
        for c in r.conditions {
            switch c {
            case let .address(source, prefixes, negated):
                let field = source ? "src_ip" : "dst_ip"
                let value = prefixes.map { "\"\($0)\"" }.joined(separator: ", ")
                if negated {
                    out += "      - { field: \(field), operator: ne, value: \"\(prefixes[0].network)\" }\n"
                } else {
                    out += "      - { field: \(field), operator: cidr, value: [\(value)] }\n"
                }
            case let .port(source, ranges, negated):
                let field = source ? "src_port" : "dst_port"
                if negated {  // only `not 0-N` is generated: `gt N`
                    out += "      - { field: \(field), operator: gt, value: \(ranges[0].upperBound) }\n"
                } else {
                    let value = ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\"\($0.lowerBound)-\($0.upperBound)\"" }
                    out += "      - { field: \(field), operator: in, value: [\(value.joined(separator: ", "))] }\n"
                }
            case let .protocolNumber(numbers, _):
                out += "      - { field: protocol, operator: in, value: [\(numbers.map(String.init).joined(separator: ", "))] }\n"
            case let .numeric(_, ranges, _):
                out += "      - { field: icmp_type, operator: in, value: [\"\(ranges[0].lowerBound)-\(ranges[0].upperBound)\"] }\n"
            default:
                break
            }
        }
    }
    return out
}

func benchRules() throws {
    let packetCount = argument("--packets", default: 200_000)
    let rounds = argument("--rounds", default: 5)
    print("rules: \(packetCount) packets, best of \(rounds) rounds, one thread")
    var results: [String: Double] = [:]
    var linear10000 = 0.0
    for count in [10, 1000, 10000] {
        var ruleRNG = SplitMix64(seed: UInt64(count))
        let rules = makeRealisticRules(count: count, rng: &ruleRNG)
        let set = RuleSet(rules: rules, defaultAction: .allow)
        var packetRNG = SplitMix64(seed: 5)
        let packets = makeBenchPackets(packetCount, rules: rules, rng: &packetRNG)
        let scratch = RuleScratch()
        let input = MatchInput()
        let (ns, sum) = nanosecondsPerPacket(packets, rounds: rounds) { p in
            set.evaluate(p, input: input, scratch: scratch).ruleIndex
        }
        let candidates = Double(scratch.candidatesTried) / Double(rounds * packets.count)
        results["candidates_\(count)"] = candidates
        // Baseline: the same compiled conditions tried rule after rule.
        let linearPackets = count >= 1000 ? Array(packets.prefix(count >= 10000 ? 2000 : 20000)) : packets
        let (linear, linearSum) = nanosecondsPerPacket(linearPackets, rounds: argument("--linear-rounds", default: rounds)) { p in
            set.evaluateLinear(p, input: input, scratch: scratch).ruleIndex
        }
        _ = linearSum
        let s = set.indexStatistics
        print("\(count) rules: compiled \(String(format: "%.1f", ns)) ns/packet, linear \(String(format: "%.1f", linear)) ns/packet "
            + "(indexed: \(s.byDestinationAddress) dst addr, \(s.bySourceAddress) src addr, \(s.byDestinationPort) dst port, "
            + "\(s.unindexed) unindexed; \(String(format: "%.2f", candidates)) candidates tried per packet; checksum \(sum))")
        results["ns_\(count)"] = ns
        results["linear_ns_\(count)"] = linear
        if count == 10000 { linear10000 = linear }
    }
    // Reload: 10,000 rules from YAML, parsed, validated, compiled and swapped.
    var reloadRNG = SplitMix64(seed: 10000)
    let dir = NSTemporaryDirectory() + "socfw-bench-rules-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try rulesYAML(makeRealisticRules(count: 10000, rng: &reloadRNG)).write(toFile: dir + "/50-bench.yaml", atomically: true,
                                                                         encoding: .utf8)
    let snapshot = RuleSnapshot(RuleSet(rules: [], defaultAction: .allow))
    var best: RuleReload?
    for _ in 0..<3 {
        switch RuleReload.perform(path: dir, defaultAction: .allow, into: snapshot) {
        case let .success(r):
            if best == nil || r.parseMilliseconds + r.compileMilliseconds < best!.parseMilliseconds + best!.compileMilliseconds {
                best = r
            }
        case let .failure(error):
            throw error
        }
    }
    let reload = best!
    let reloadMs = reload.parseMilliseconds + reload.compileMilliseconds
    print("reload of \(reload.enabledRules) rules from YAML: \(String(format: "%.1f", reloadMs)) ms (parse and validate \(reload.parseMilliseconds) ms, "
        + "compile and swap \(reload.compileMilliseconds) ms)")
    let f = { (v: Double) in v.isFinite ? String(format: "%.1f", v) : "null" }
    let ratio = results["ns_10000"]! / results["ns_10"]!
    print("{\"ns_10\":\(f(results["ns_10"]!)),\"ns_1000\":\(f(results["ns_1000"]!)),\"ns_10000\":\(f(results["ns_10000"]!))"
        + ",\"ratio_10000_vs_10\":\(String(format: "%.2f", ratio)),\"target_ratio\":2"
        + ",\"linear_ns_10\":\(f(results["linear_ns_10"]!)),\"linear_ns_1000\":\(f(results["linear_ns_1000"]!))"
        + ",\"linear_ns_10000\":\(f(linear10000))"
        + ",\"speedup_vs_linear_10000\":\(f(linear10000 / results["ns_10000"]!))"
        + ",\"reload_ms\":\(f(reloadMs)),\"reload_parse_ms\":\(f(reload.parseMilliseconds))"
        + ",\"reload_compile_ms\":\(f(reload.compileMilliseconds)),\"target_reload_ms\":500,\"packets\":\(packetCount)}")
}
