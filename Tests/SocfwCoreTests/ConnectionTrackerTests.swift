import Foundation
import Testing
import SocfwCore
import SocfwWire

/// IPv4 or IPv6 + TCP with chosen flags, sequence numbers, window and payload.
func tcpPacket(_ src: String, _ dst: String, sport: UInt16, dport: UInt16, flags: UInt8, seq: UInt32, ack: UInt32,
               window: UInt16 = 64240, payload: Int = 0) -> [UInt8] {
    let s = IPAddress(src)!, d = IPAddress(dst)!
    var tcp = [UInt8](repeating: 0, count: 20 + payload)
    tcp[0] = UInt8(sport >> 8); tcp[1] = UInt8(sport & 0xff); tcp[2] = UInt8(dport >> 8); tcp[3] = UInt8(dport & 0xff)
    for k in 0..<4 {
        tcp[4 + k] = UInt8(truncatingIfNeeded: seq >> (24 - 8 * UInt32(k)))
        tcp[8 + k] = UInt8(truncatingIfNeeded: ack >> (24 - 8 * UInt32(k)))
    }
    tcp[12] = 0x50; tcp[13] = flags; tcp[14] = UInt8(window >> 8); tcp[15] = UInt8(window & 0xff)
    return ipPacket(s, d, proto: 6, l4: tcp)
}

func udpPacket(_ src: String, _ dst: String, sport: UInt16, dport: UInt16, payload: Int = 4) -> [UInt8] {
    var udp = [UInt8](repeating: 0, count: 8 + payload)
    udp[0] = UInt8(sport >> 8); udp[1] = UInt8(sport & 0xff); udp[2] = UInt8(dport >> 8); udp[3] = UInt8(dport & 0xff)
    udp[4] = UInt8((8 + payload) >> 8); udp[5] = UInt8((8 + payload) & 0xff)
    return ipPacket(IPAddress(src)!, IPAddress(dst)!, proto: 17, l4: udp)
}

/// ICMP(v6) message: type, code, 4 bytes of rest-of-header, then `quote`.
func icmpPacket(_ src: String, _ dst: String, type: UInt8, code: UInt8, quote: [UInt8] = [0, 1, 0, 1]) -> [UInt8] {
    let s = IPAddress(src)!
    return ipPacket(s, IPAddress(dst)!, proto: s.isV6 ? 58 : 1, l4: [type, code, 0, 0, 0, 0, 0, 0] + quote)
}

func ipPacket(_ s: IPAddress, _ d: IPAddress, proto: UInt8, l4: [UInt8]) -> [UInt8] {
    func bytes(_ a: IPAddress) -> [UInt8] {
        a.isV6 ? (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? a.high : a.low) >> UInt64(56 - 8 * ($0 % 8))) }
            : (0..<4).map { UInt8(truncatingIfNeeded: a.v4 >> UInt32(24 - 8 * $0)) }
    }
    if s.isV6 {
        var h = [UInt8](repeating: 0, count: 40)
        h[0] = 0x60; h[4] = UInt8(l4.count >> 8); h[5] = UInt8(l4.count & 0xff); h[6] = proto; h[7] = 64
        h.replaceSubrange(8..<24, with: bytes(s)); h.replaceSubrange(24..<40, with: bytes(d))
        return h + l4
    }
    var h = [UInt8](repeating: 0, count: 20)
    let total = 20 + l4.count
    h[0] = 0x45; h[2] = UInt8(total >> 8); h[3] = UInt8(total & 0xff); h[8] = 64; h[9] = proto
    h.replaceSubrange(12..<16, with: bytes(s)); h.replaceSubrange(16..<20, with: bytes(d))
    return h + l4
}

let SYN: UInt8 = 0x02, ACK: UInt8 = 0x10, FIN: UInt8 = 0x01, RST: UInt8 = 0x04, PSH: UInt8 = 0x08

struct TrackedRun {
    var pipeline: Pipeline
    var events: [Event] = []
    var clock: Int64 = 1_764_075_370_000_000_000

    init(rules: String = "rules: []", conntrack: ConntrackConfig = ConntrackConfig(), defaultAction: RuleAction = .allow) {
        let set = RuleSet(rules: try! RulesLoader.parse(yaml: rules, file: "t.yaml"), defaultAction: defaultAction)
        pipeline = Pipeline(ruleSet: set, malformedAction: .drop, conntrack: conntrack, connectionCapacity: 4096)
    }

    mutating func send(_ bytes: [UInt8]) -> PacketResult {
        clock += 1_000_000
        let now = clock
        return bytes.withUnsafeBytes { buffer in
            pipeline.process(buffer, timestampNanoseconds: now) { events.append($0) }
        }
    }

    mutating func advance(seconds: Int64) {
        clock += seconds * 1_000_000_000
        let now = clock
        pipeline.expireFlows(now: now, budget: 100_000) { events.append($0) }
    }
}

@Suite struct ConnectionTrackerTests {
    static let client = "198.18.1.2", server = "198.18.2.2"

    /// A curl-like exchange: handshake, request, response, client closes first.
    static func httpExchange(_ c: String, _ s: String) -> [(bytes: [UInt8], state: ConnectionState, dir: FlowDirection)] {
        let ci: UInt32 = 0xF3A1_0C2E, si: UInt32 = 0x1B2C_3D4E
        return [
            (tcpPacket(c, s, sport: 41000, dport: 80, flags: SYN, seq: ci, ack: 0), .new, .original),
            (tcpPacket(s, c, sport: 80, dport: 41000, flags: SYN | ACK, seq: si, ack: ci &+ 1), .established, .reply),
            (tcpPacket(c, s, sport: 41000, dport: 80, flags: ACK, seq: ci &+ 1, ack: si &+ 1), .established, .original),
            (tcpPacket(c, s, sport: 41000, dport: 80, flags: PSH | ACK, seq: ci &+ 1, ack: si &+ 1, payload: 77),
             .established, .original),
            (tcpPacket(s, c, sport: 80, dport: 41000, flags: PSH | ACK, seq: si &+ 1, ack: ci &+ 78, payload: 900),
             .established, .reply),
            (tcpPacket(c, s, sport: 41000, dport: 80, flags: FIN | ACK, seq: ci &+ 78, ack: si &+ 901), .established, .original),
            (tcpPacket(s, c, sport: 80, dport: 41000, flags: FIN | ACK, seq: si &+ 901, ack: ci &+ 79), .established, .reply),
            (tcpPacket(c, s, sport: 41000, dport: 80, flags: ACK, seq: ci &+ 79, ack: si &+ 902), .established, .original),
        ]
    }

    @Test(arguments: [("198.18.1.2", "198.18.2.2"), ("fd53:6f63:1::2", "fd53:6f63:2::2")])
    func aTCPConnectionIsTrackedThroughItsStatesToAFlowRecord(_ c: String, _ s: String) throws {
        var run = TrackedRun()
        for (i, step) in Self.httpExchange(c, s).enumerated() {
            let r = run.send(step.bytes)
            #expect(r.verdict == .accept, "step \(i)")
            #expect(r.flow?.state == step.state, "step \(i)")
            #expect(r.flow?.direction == step.dir, "step \(i)")
        }
        let tracker = try #require(run.pipeline.tracker)
        #expect(tracker.counters.new == 1 && tracker.counters.active == 1)
        var state: TCPConnectionState?
        tracker.table.forEach { _, conn in state = conn.tcp.state }
        #expect(state == .timeWait)
        run.advance(seconds: 121)  // TIME_WAIT is 120 s
        let flow = try #require(run.events.first { $0.kind == .flow })
        let conn = try #require(flow.connection)
        #expect(conn.packetsOriginal == 5 && conn.packetsReply == 3)
        #expect(conn.originalSource.address == IPAddress(c)! && conn.originalDestination.port == 80)
        #expect(run.pipeline.tracker?.counters.closed == 1 && run.pipeline.tracker?.counters.active == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(EveJSON.line(for: flow).utf8)) as? [String: Any])
        #expect(json["event_type"] as? String == "flow")
        #expect(json["src_ip"] as? String == c && json["dest_port"] as? Int == 80)
        let f = try #require(json["flow"] as? [String: Any])
        #expect(f["pkts_toserver"] as? Int == 5 && f["pkts_toclient"] as? Int == 3)
        #expect(f["state"] as? String == "closed" && f["reason"] as? String == "timeout")
        #expect((json["tcp"] as? [String: Any])?["state"] as? String == "time_wait")
    }

    @Test func aNewSynAfterTimeWaitReusesThePortPairAndEndsTheOldFlow() throws {
        var run = TrackedRun()
        for step in Self.httpExchange(Self.client, Self.server) { _ = run.send(step.bytes) }
        let again = run.send(tcpPacket(Self.client, Self.server, sport: 41000, dport: 80, flags: SYN,
                                       seq: 0xF3A1_0C2E &+ 1_000_000, ack: 0))
        #expect(again.flow?.state == .new && again.flow?.created == true)
        let ended = try #require(run.events.first { $0.kind == .flow })
        #expect(ended.endReason == .reused && ended.connection?.packetsOriginal == 5)
        #expect(run.pipeline.tracker?.counters.active == 1 && run.pipeline.tracker?.counters.closed == 1)
    }

    @Test func aForgedAckIntoNothingIsInvalidWithoutLoosePickup() {
        var strict = ConntrackConfig()
        strict.tcpLoose = false
        var run = TrackedRun(conntrack: strict)
        let r = run.send(tcpPacket(Self.client, Self.server, sport: 40000, dport: 8080, flags: ACK, seq: 1000, ack: 5000))
        #expect(r.verdict == .drop)
        #expect(r.flow?.state == .invalid)
        #expect(run.events.last?.reason == "ct_invalid_tcp_not_syn")
        #expect(run.pipeline.tracker?.counters.invalid == 1 && run.pipeline.tracker?.counters.active == 0)
        // With pickup (Linux's default) the same ACK starts an established flow.
        var loose = TrackedRun()
        let l = loose.send(tcpPacket(Self.client, Self.server, sport: 40000, dport: 8080, flags: ACK, seq: 1000, ack: 5000))
        #expect(l.verdict == .accept && l.flow?.state == .new)
    }

    @Test func outOfWindowDataIsInvalidAndDropped() {
        var run = TrackedRun()
        let steps = Self.httpExchange(Self.client, Self.server)
        for step in steps.prefix(3) { _ = run.send(step.bytes) }
        let far = tcpPacket(Self.client, Self.server, sport: 41000, dport: 80, flags: ACK | PSH,
                            seq: 0xF3A1_0C2E &+ 50_000_000, ack: 0x1B2C_3D4F, payload: 100)
        let r = run.send(far)
        #expect(r.flow?.state == .invalid && r.verdict == .drop)
        // The connection itself is untouched: the next in-window packet passes.
        #expect(run.send(steps[3].bytes).flow?.state == .established)
    }

    @Test func icmpErrorsAboutATrackedFlowAreRelatedAndOthersInvalid() {
        var run = TrackedRun()
        let query = udpPacket(Self.client, Self.server, sport: 53000, dport: 9004)
        #expect(run.send(query).flow?.state == .new)
        // Port unreachable from the server quoting the client's datagram (IP header + 8 bytes).
        let related = run.send(icmpPacket(Self.server, Self.client, type: 3, code: 3, quote: Array(query.prefix(28))))
        #expect(related.flow?.state == .related && related.flow?.direction == .reply && related.verdict == .accept)
        let stray = udpPacket(Self.client, Self.server, sport: 53001, dport: 9999)
        let unknown = run.send(icmpPacket(Self.server, Self.client, type: 3, code: 3, quote: Array(stray.prefix(28))))
        #expect(unknown.flow?.state == .invalid && unknown.flow?.invalidReason == .icmpErrorUnknownFlow)
    }

    @Test("a flow marked as a held probe reports its first answer once: a RST, a reply, or an ICMP error")
    func heldProbeAnswers() throws {
        var tracker = ConnectionTracker(config: ConntrackConfig(), capacity: 1024)
        var now: Int64 = 1_000_000_000
        func track(_ bytes: [UInt8]) throws -> TrackResult {
            var p = PacketSummary()
            now += 1_000_000
            return try bytes.withUnsafeBytes { b in
                try PacketParser.parse(b, wireLength: nil, into: &p)
                return tracker.track(p, packet: b, now: now) { _, _ in }
            }
        }
        // TCP: the SYN is held; the SYN-ACK is its answer, the ACK after it is not.
        let syn = try track(tcpPacket(Self.client, Self.server, sport: 41000, dport: 80, flags: SYN, seq: 100, ack: 0))
        tracker.markProbeHeld(syn)
        #expect(try track(tcpPacket(Self.client, Self.server, sport: 41000, dport: 80, flags: SYN, seq: 100, ack: 0))
            .probeAnswered == false, "a retransmitted SYN is no answer")
        #expect(try track(tcpPacket(Self.server, Self.client, sport: 80, dport: 41000, flags: SYN | ACK, seq: 900, ack: 101))
            .probeAnswered == true)
        #expect(try track(tcpPacket(Self.server, Self.client, sport: 80, dport: 41000, flags: ACK, seq: 901, ack: 101))
            .probeAnswered == false)
        // A RST answers another; a flow not held never reports.
        let syn2 = try track(tcpPacket(Self.client, Self.server, sport: 41001, dport: 81, flags: SYN, seq: 100, ack: 0))
        tracker.markProbeHeld(syn2)
        let rst = try track(tcpPacket(Self.server, Self.client, sport: 81, dport: 41001, flags: RST | ACK, seq: 0, ack: 101))
        #expect(rst.probeAnswered)
        _ = try track(tcpPacket(Self.client, Self.server, sport: 41002, dport: 82, flags: SYN, seq: 100, ack: 0))
        #expect(try track(tcpPacket(Self.server, Self.client, sport: 82, dport: 41002, flags: RST | ACK, seq: 0, ack: 101))
            .probeAnswered == false)
        // UDP: an ICMP error quoting the datagram answers it.
        let query = udpPacket(Self.client, Self.server, sport: 53000, dport: 9004)
        tracker.markProbeHeld(try track(query))
        let error = try track(icmpPacket(Self.server, Self.client, type: 3, code: 3, quote: Array(query.prefix(28))))
        #expect(error.state == .related && error.probeAnswered)
        #expect(try track(udpPacket(Self.server, Self.client, sport: 9004, dport: 53000)).probeAnswered == false)
    }

    @Test func udpAndEchoBecomeEstablishedWithAReplyAndRepliesAloneAreInvalid() {
        var run = TrackedRun()
        #expect(run.send(udpPacket(Self.client, Self.server, sport: 5000, dport: 5300)).flow?.state == .new)
        #expect(run.send(udpPacket(Self.server, Self.client, sport: 5300, dport: 5000)).flow?.state == .established)
        #expect(run.send(udpPacket(Self.client, Self.server, sport: 5000, dport: 5300)).flow?.state == .established)
        #expect(run.send(icmpPacket(Self.client, Self.server, type: 8, code: 0)).flow?.state == .new)
        #expect(run.send(icmpPacket(Self.server, Self.client, type: 0, code: 0)).flow?.state == .established)
        let orphan = run.send(icmpPacket("198.18.2.3", Self.client, type: 0, code: 0))
        #expect(orphan.flow?.invalidReason == .icmpReplyWithoutRequest)
        let v6 = run.send(icmpPacket("fd53:6f63:1::2", "fd53:6f63:2::2", type: 128, code: 0))
        #expect(v6.flow?.state == .new)
    }

    @Test func aFlowWhoseFirstPacketIsDroppedIsNotKept() {
        let rules = "rules:\n  - { name: drop-22, action: DROP, conditions: [ { field: dst_port, operator: eq, value: 22 } ] }\n"
        var run = TrackedRun(rules: rules)
        for port in 1000..<1100 {
            _ = run.send(tcpPacket(Self.client, Self.server, sport: UInt16(port), dport: 22, flags: SYN, seq: 7, ack: 0))
        }
        #expect(run.pipeline.tracker?.counters.active == 0)
        _ = run.send(tcpPacket(Self.client, Self.server, sport: 2000, dport: 80, flags: SYN, seq: 7, ack: 0))
        #expect(run.pipeline.tracker?.counters.active == 1)
    }

    @Test func ctStateRulesSeeTheTrackersAnswer() {
        let rules = """
            rules:
              - { name: allow-est, action: ALLOW, priority: 1, conditions: [ { field: ct_state, operator: in, value: [established, related] } ] }
              - { name: new-to-80, action: ALLOW, priority: 2, conditions: [ { field: ct_state, operator: eq, value: new }, { field: dst_port, operator: eq, value: 80 } ] }
              - { name: log-replies, action: LOG, priority: 0, conditions: [ { field: ct_direction, operator: eq, value: reply } ] }
            """
        var run = TrackedRun(rules: rules, defaultAction: .drop)
        let steps = Self.httpExchange(Self.client, Self.server)
        for step in steps { #expect(run.send(step.bytes).verdict == .accept) }
        #expect(run.events.filter { $0.ruleName == "log-replies" }.count == 3)
        let other = run.send(tcpPacket(Self.client, Self.server, sport: 41001, dport: 23, flags: SYN, seq: 1, ack: 0))
        #expect(other.verdict == .drop)
    }

    @Test func aFlowIsBypassedOnceBothDirectionsReachTheDepth() {
        var config = ConntrackConfig()
        config.bypass.enabled = true
        config.bypass.packets = 3
        var run = TrackedRun(conntrack: config)
        let steps = Self.httpExchange(Self.client, Self.server)
        let bypassAt = steps.prefix(6).map { run.send($0.bytes).bypass }
        // Original reaches 3 packets at step 3 (index 3), reply reaches 3 at index 6: not before.
        #expect(bypassAt == [false, false, false, false, false, false])
        var more = ConntrackConfig()
        more.bypass.enabled = true
        more.bypass.packets = 2
        var run2 = TrackedRun(conntrack: more)
        let flags = steps.prefix(5).map { run2.send($0.bytes).bypass }
        #expect(flags == [false, false, false, false, true])
        #expect(run2.pipeline.counters.bypassVerdicts == 1 && run2.pipeline.tracker?.counters.bypassed == 1)
        // Kernel says the flow ended: it ends in socfwd too.
        let key = FlowKey(source: IPAddress(Self.client)!, sourcePort: 41000, destination: IPAddress(Self.server)!,
                          destinationPort: 80, protocolNumber: 6)
        run2.pipeline.kernelDestroyed(key) { run2.events.append($0) }
        #expect(run2.events.last?.kind == .flow && run2.events.last?.endReason == .bypassEnded)
        #expect(run2.pipeline.tracker?.counters.active == 0)
    }

    @Test func snapshotsFilterAndOrderByBytes() throws {
        var run = TrackedRun()
        for step in Self.httpExchange(Self.client, Self.server).prefix(5) { _ = run.send(step.bytes) }
        _ = run.send(udpPacket(Self.client, Self.server, sport: 5000, dport: 5300))
        _ = run.send(udpPacket("198.18.1.9", Self.server, sport: 5001, dport: 53, payload: 400))
        let tracker = try #require(run.pipeline.tracker)
        let all = tracker.snapshot(limit: 10)
        #expect(all.count == 3)
        #expect(all.map(\.totalBytes) == all.map(\.totalBytes).sorted(by: >))
        #expect(all.first?.state == "ESTABLISHED" && all.first?.destinationPort == 80)
        #expect(all.first?.line.hasPrefix("TCP 198.18.1.2:41000 -> 198.18.2.2:80 ESTABLISHED pkts 3/2") == true)
        #expect(tracker.snapshot(filter: ConnectionFilter(port: 5300), limit: 10).map(\.destinationPort) == [5300])
        #expect(tracker.snapshot(filter: ConnectionFilter(state: "unreplied"), limit: 10).count == 2)
        #expect(tracker.snapshot(filter: ConnectionFilter(address: IPPrefix("198.18.1.9/32")), limit: 10).count == 1)
        #expect(tracker.snapshot(limit: 1).count == 1)
    }

    /// A million of these must fit in 150 MB with the table's index and timer
    /// links (Scripts/bench conntrack): keep the entry at 120 bytes.
    @Test func aConnectionEntryStaysCompact() {
        #expect(MemoryLayout<Connection>.stride <= 120)
    }

    @Test func conntrackSettingsAreReadAndValidated() throws {
        let c = try SocfwConfig.parse(yaml: """
            conntrack:
              max_connections: 1000000
              per_source_limit: 500
              tcp_loose: false
              invalid_action: ALLOW
              timeouts: { tcp_established: 3600, udp: 10 }
              bypass: { enabled: true, packets: 100, bytes: 1048576 }
            """, file: "c.yaml")
        #expect(c.conntrack.maxConnections == 1_000_000 && c.conntrack.perSourceLimit == 500)
        #expect(!c.conntrack.tcpLoose && c.conntrack.invalidAction == .allow)
        #expect(c.conntrack.timeouts.tcpEstablished == 3600 && c.conntrack.timeouts.udp == 10)
        #expect(c.conntrack.timeouts.tcpTimeWait == 120)
        #expect(c.conntrack.bypass == { var b = BypassConfig(); b.enabled = true; b.packets = 100; b.bytes = 1_048_576; return b }())
        do {
            _ = try SocfwConfig.parse(yaml: "conntrack:\n  timeouts: { tcp_establish: 5 }\n", file: "c.yaml")
            Issue.record("accepted a misspelt timeout")
        } catch {
            #expect(error.line == 2 && error.field == "conntrack.timeouts.tcp_establish")
        }
        do {
            _ = try RulesLoader.parse(yaml: "rules:\n  - { name: a, action: DROP, conditions: [ { field: ct_state, operator: eq, value: fresh } ] }\n", file: "r.yaml")
            Issue.record("accepted ct_state fresh")
        } catch {
            #expect(error.description.contains("unknown connection state 'fresh'"))
        }
    }
}
