import Testing
import SocfwCore
import SocfwWire

/// Interfaces, payload conditions, per-rule counters, the per-flow decision
/// cache and reloads, through the pipeline as the queues drive it.
@Suite struct RuleFeatureTests {
    static let rules = """
        rules:
          - name: drop-sqli
            action: DROP
            priority: 1
            conditions:
              - { field: protocol, operator: eq, value: tcp }
              - { field: payload, operator: matches, value: "(?i)union\\\\s+select" }
          - name: reject-admin
            action: REJECT
            priority: 2
            conditions:
              - { field: payload, operator: contains, value: "GET |2f|admin" }
          - name: log-binary
            action: LOG
            priority: 3
            conditions:
              - { field: payload, operator: contains, value: "|de ad be ef|" }
          - name: drop-from-wan-to-ssh
            action: DROP
            priority: 4
            conditions:
              - { field: in_interface, operator: eq, value: wan0 }
              - { field: dst_port, operator: eq, value: 22 }
          - name: allow-veth
            action: ALLOW
            priority: 5
            conditions:
              - { field: out_interface, operator: in, value: ["veth*", "lo"] }
          - name: drop-not-lan
            action: DROP
            priority: 6
            conditions:
              - { field: in_interface, operator: ne, value: lan0 }
              - { field: protocol, operator: eq, value: udp }
        """

    static let names: [Int32: String] = [1: "lo", 2: "wan0", 3: "lan0", 4: "veth12"]

    func pipeline(conntrack: Bool = false) throws -> Pipeline {
        let set = RuleSet(rules: try RulesLoader.parse(yaml: Self.rules, file: "f.yaml"), defaultAction: .allow)
        var p = Pipeline(ruleSet: set, malformedAction: .drop, conntrack: conntrack ? ConntrackConfig() : nil)
        p.interfaceName = { Self.names[$0] }
        return p
    }

    func run(_ p: inout Pipeline, _ bytes: [UInt8], in inIf: Int32 = 3, out outIf: Int32 = 2, now: Int64 = 1) -> PacketResult {
        bytes.withUnsafeBytes { p.process($0, timestampNanoseconds: now, inInterface: inIf, outInterface: outIf, emit: { _ in }) }
    }

    let c: [UInt8] = [198, 18, 1, 2], s: [UInt8] = [198, 18, 2, 2]

    @Test func payloadConditionsSeeTheTransportPayload() throws {
        var p = try pipeline()
        let sqli = ipv4Packet(src: c, dst: s, proto: 6, payload: Array("GET /?id=1 UNION   select pw".utf8), tcpFlags: 0x18)
        #expect(run(&p, sqli).verdict == .drop)
        let admin = ipv4Packet(src: c, dst: s, proto: 6, payload: Array("GET /admin HTTP/1.1".utf8), tcpFlags: 0x18)
        #expect(run(&p, admin).verdict == .reject)
        // The pattern is in the payload only: headers never match it.
        let clean = ipv4Packet(src: c, dst: s, proto: 6, payload: Array("GET /index HTTP/1.1".utf8), tcpFlags: 0x18)
        #expect(run(&p, clean).verdict == .accept)
        var events: [Event] = []
        let binary = ipv4Packet(src: c, dst: s, proto: 6, payload: [0, 0xde, 0xad, 0xbe, 0xef, 1], tcpFlags: 0x18)
        _ = binary.withUnsafeBytes { p.process($0, timestampNanoseconds: 1, inInterface: 3, outInterface: 2) { events.append($0) } }
        #expect(events.map(\.ruleName) == ["log-binary"])
    }

    @Test func interfaceConditionsUseNamesAndPrefixes() throws {
        var p = try pipeline()
        #expect(run(&p, ipv4Packet(src: c, dst: s, proto: 6, dport: 22), in: 2).verdict == .drop)
        #expect(run(&p, ipv4Packet(src: c, dst: s, proto: 6, dport: 22), in: 3).verdict == .accept)
        // veth* matches veth12: allowed before drop-not-lan.
        #expect(run(&p, ipv4Packet(src: c, dst: s, proto: 17, dport: 53), in: 2, out: 4).verdict == .accept)
        #expect(run(&p, ipv4Packet(src: c, dst: s, proto: 17, dport: 53), in: 2, out: 2).verdict == .drop)
        #expect(run(&p, ipv4Packet(src: c, dst: s, proto: 17, dport: 53), in: 3, out: 2).verdict == .accept)
        // Unknown interface (offline, or an index without a name): interface
        // conditions are false, negated or not.
        #expect(run(&p, ipv4Packet(src: c, dst: s, proto: 17, dport: 53), in: 0, out: 0).verdict == .accept)
        #expect(run(&p, ipv4Packet(src: c, dst: s, proto: 17, dport: 53), in: 99, out: 0).verdict == .accept)
    }

    @Test func ruleCountersCountPacketsBytesAndLastHit() throws {
        var p = try pipeline()
        let ssh = ipv4Packet(src: c, dst: s, proto: 6, dport: 22)
        _ = run(&p, ssh, in: 2, now: 10)
        _ = run(&p, ssh, in: 2, now: 20)
        let index = p.ruleSet.rules.firstIndex { $0.name == "drop-from-wan-to-ssh" }!
        #expect(p.ruleCounters[index] == RuleHit(packets: 2, bytes: UInt64(2 * ssh.count), lastHitNanoseconds: 20))
        let logIndex = p.ruleSet.rules.firstIndex { $0.name == "log-binary" }!
        #expect(p.ruleCounters[logIndex].packets == 0)
    }

    @Test func flowInvariantDecisionsAreKeptPerFlowUntilTheRulesChange() throws {
        var p = try pipeline(conntrack: true)
        // Under these rules the payload rules are tried first, and a payload
        // can change from packet to packet: nothing is kept for the flow.
        let udp = ipv4Packet(src: c, dst: s, proto: 17, sport: 5000, dport: 5353, payload: [1, 2, 3])
        _ = run(&p, udp, in: 3, out: 4, now: 1)
        #expect(p.counters.ruleCacheHits == 0)
        // A rule set whose decision for this flow depends on invariant conditions only.
        let invariant = RuleSet(rules: try RulesLoader.parse(yaml: """
            rules:
              - { name: allow-dns, action: ALLOW, conditions: [ { field: dst_port, operator: eq, value: 5353 } ] }
              - { name: drop-big, action: DROP, conditions: [ { field: length, operator: gt, value: 1000 } ] }
            """, file: "g.yaml"), defaultAction: .drop)
        let old = p.replaceRuleSet(invariant)
        #expect(old.ruleSet.rules.count == 6)
        for t in 2...5 { #expect(run(&p, udp, in: 3, out: 4, now: Int64(t)).verdict == .accept) }
        #expect(p.counters.ruleCacheHits == 3)
        #expect(p.ruleCounters[0].packets == 4, "cached decisions still count as hits")
        // The reply direction is decided on its own (its destination port is
        // not 5353); drop-big tests the length, which varies: not kept.
        let reply = ipv4Packet(src: s, dst: c, proto: 17, sport: 5353, dport: 5000, payload: [4])
        #expect(run(&p, reply, in: 4, out: 3, now: 6).verdict == .drop)
        #expect(run(&p, reply, in: 4, out: 3, now: 6).verdict == .drop)
        #expect(p.counters.ruleCacheHits == 3)
        // New rules: the kept decisions are forgotten.
        let dropAll = RuleSet(rules: try RulesLoader.parse(yaml: """
            rules:
              - { name: drop-dns, action: DROP, conditions: [ { field: dst_port, operator: eq, value: 5353 } ] }
            """, file: "h.yaml"), defaultAction: .allow)
        p.replaceRuleSet(dropAll)
        #expect(run(&p, udp, in: 3, out: 4, now: 7).verdict == .drop)
    }

    @Test func hitTotalsSurviveReloadsByRuleName() throws {
        let a = RuleSet(rules: try RulesLoader.parse(yaml: """
            rules:
              - { name: keep, action: DROP, conditions: [ { field: dst_port, operator: eq, value: 1 } ] }
              - { name: gone, action: DROP, conditions: [ { field: dst_port, operator: eq, value: 2 } ] }
            """, file: "a.yaml"), defaultAction: .allow)
        let b = RuleSet(rules: try RulesLoader.parse(yaml: """
            rules:
              - { name: new, action: DROP, conditions: [ { field: dst_port, operator: eq, value: 3 } ] }
              - { name: keep, action: DROP, conditions: [ { field: dst_port, operator: eq, value: 1 } ] }
            """, file: "b.yaml"), defaultAction: .allow)
        let totals = RuleHitTotals()
        let w0 = RuleCounters(ruleSet: a), w1 = RuleCounters(ruleSet: a)
        w0.count(0, bytes: 100, now: 5); w0.count(1, bytes: 10, now: 6); w1.count(0, bytes: 50, now: 7)
        totals.publish(worker: 0, w0)
        totals.publish(worker: 1, w1)
        #expect(totals.totals(for: a) == [RuleHit(packets: 2, bytes: 150, lastHitNanoseconds: 7),
                                          RuleHit(packets: 1, bytes: 10, lastHitNanoseconds: 6)])
        // Worker 0 switches to b and counts there; worker 1 has not switched yet.
        w0.count(0, bytes: 1, now: 8)
        totals.retire(worker: 0, w0, next: b)
        let w0b = RuleCounters(ruleSet: b)
        w0b.count(1, bytes: 1000, now: 9)
        totals.publish(worker: 0, w0b)
        #expect(totals.totals(for: b) == [RuleHit(), RuleHit(packets: 4, bytes: 1151, lastHitNanoseconds: 9)])
        totals.retire(worker: 1, w1, next: b)
        #expect(totals.totals(for: b) == [RuleHit(), RuleHit(packets: 4, bytes: 1151, lastHitNanoseconds: 9)])
        // `gone` is forgotten: a rule of that name added later starts from zero.
        #expect(totals.totals(for: a)[1] == RuleHit())
    }
}
