import Foundation
import Testing
import SocfwCapture
import SocfwCore
import SocfwWire

/// IPv4 + TCP/UDP/ICMP bytes with correct lengths and IP checksum.
func ipv4Packet(src: [UInt8], dst: [UInt8], proto: UInt8, sport: UInt16 = 40000, dport: UInt16 = 80,
                payload: [UInt8] = [], tcpFlags: UInt8 = 0x02) -> [UInt8] {
    let l4Header = proto == 6 ? 20 : 8
    let total = 20 + l4Header + payload.count
    var b = [UInt8](repeating: 0, count: total)
    b[0] = 0x45
    b[2] = UInt8(total >> 8); b[3] = UInt8(total & 0xff)
    b[8] = 64; b[9] = proto
    b.replaceSubrange(12..<16, with: src)
    b.replaceSubrange(16..<20, with: dst)
    var sum: UInt32 = 0
    for k in stride(from: 0, to: 20, by: 2) { sum += UInt32(b[k]) << 8 | UInt32(b[k + 1]) }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    b[10] = UInt8(~UInt16(sum) >> 8); b[11] = UInt8(~UInt16(sum) & 0xff)
    switch proto {
    case 6, 17:
        b[20] = UInt8(sport >> 8); b[21] = UInt8(sport & 0xff)
        b[22] = UInt8(dport >> 8); b[23] = UInt8(dport & 0xff)
        if proto == 6 {
            b[32] = 0x50; b[33] = tcpFlags; b[34] = 0xff; b[35] = 0xff
        } else {
            let len = 8 + payload.count
            b[24] = UInt8(len >> 8); b[25] = UInt8(len & 0xff)
        }
    default:
        b[20] = 8  // ICMP echo request
    }
    b.replaceSubrange((20 + l4Header)..., with: payload)
    return b
}

let demoRules = """
    rules:
      - { name: log-http, action: LOG, priority: 10, conditions: [ { field: dst_port, operator: eq, value: 80 } ] }
      - { name: drop-9001, action: DROP, priority: 20, conditions: [ { field: dst_port, operator: eq, value: 9001 } ] }
      - { name: reject-9002, action: REJECT, priority: 20, conditions: [ { field: dst_port, operator: eq, value: 9002 } ] }
      - { name: alert-telnet, action: ALERT, priority: 30, conditions: [ { field: dst_port, operator: eq, value: 23 } ] }
    """

@Suite struct PipelineTests {
    func pipeline() throws -> Pipeline {
        Pipeline(ruleSet: RuleSet(rules: try RulesLoader.parse(yaml: demoRules, file: "demo.yaml"), defaultAction: .allow),
                 malformedAction: .drop)
    }

    @Test func packetsGetTheirRulesVerdictAndEvents() throws {
        var p = try pipeline()
        var events: [Event] = []
        func run(_ bytes: [UInt8]) -> Verdict {
            bytes.withUnsafeBytes { p.process($0, timestampNanoseconds: 1, emit: { events.append($0) }).verdict }
        }
        let c: [UInt8] = [198, 18, 1, 2], s: [UInt8] = [198, 18, 2, 2]
        #expect(run(ipv4Packet(src: c, dst: s, proto: 6, dport: 80)) == .accept)
        #expect(events.map(\.kind) == [.log])
        #expect(run(ipv4Packet(src: c, dst: s, proto: 6, dport: 9001)) == .drop)
        #expect(run(ipv4Packet(src: c, dst: s, proto: 17, dport: 9002)) == .reject)
        #expect(run(ipv4Packet(src: c, dst: s, proto: 6, dport: 23)) == .accept)
        #expect(run(ipv4Packet(src: c, dst: s, proto: 1)) == .accept)
        #expect(events.map(\.kind) == [.log, .drop, .drop, .alert])
        #expect(events[1].ruleName == "drop-9001" && events[1].verdict == .drop)
        #expect(p.counters.packets == 5 && p.counters.accepted == 3 && p.counters.dropped == 1 && p.counters.rejected == 1)
        #expect(p.counters.events == 4)
    }

    @Test func truncatedAndInvalidPacketsGetTheMalformedVerdictAndACounter() throws {
        var p = try pipeline()
        var events: [Event] = []
        let good = ipv4Packet(src: [198, 18, 1, 2], dst: [198, 18, 2, 2], proto: 6, dport: 80)
        let inputs: [[UInt8]] = [
            Array(good.prefix(10)),              // truncated IPv4 header
            Array(good.prefix(30)),              // truncated TCP header
            [0x75] + Array(good.dropFirst()),    // IP version 7
            [],
        ]
        for bytes in inputs {
            let r = bytes.withUnsafeBytes { p.process($0, timestampNanoseconds: 1, emit: { events.append($0) }) }
            #expect(r.verdict == .drop)
            #expect(r.malformed)
        }
        #expect(p.counters.malformed == 4)
        #expect(p.counters.parseErrors.values.reduce(0, +) == 4)
        #expect(events.allSatisfy { $0.kind == .drop && $0.reason != nil })
    }

    @Test func aTruncatedCaptureWithinTheWireLengthIsNotMalformed() throws {
        var p = try pipeline()
        let full = ipv4Packet(src: [198, 18, 1, 2], dst: [198, 18, 2, 2], proto: 6, dport: 9001,
                              payload: [UInt8](repeating: 0x41, count: 200))
        let captured = Array(full.prefix(64))
        let r = captured.withUnsafeBytes { p.process($0, wireLength: full.count, timestampNanoseconds: 1, emit: { _ in }) }
        #expect(!r.malformed)
        #expect(r.verdict == .drop)
    }

    @Test func eveLinesUseSuricataFieldNames() throws {
        var p = try pipeline()
        var events: [Event] = []
        let bytes = ipv4Packet(src: [198, 18, 1, 2], dst: [198, 18, 2, 2], proto: 6, sport: 41000, dport: 9001)
        _ = bytes.withUnsafeBytes { p.process($0, timestampNanoseconds: 1_764_075_370_123_456_789, emit: { events.append($0) }) }
        let line = EveJSON.line(for: try #require(events.first))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["timestamp"] as? String == "2025-11-25T12:56:10.123456+0000")
        #expect(json["event_type"] as? String == "drop")
        #expect(json["src_ip"] as? String == "198.18.1.2")
        #expect(json["src_port"] as? Int == 41000)
        #expect(json["dest_ip"] as? String == "198.18.2.2")
        #expect(json["dest_port"] as? Int == 9001)
        #expect(json["proto"] as? String == "TCP")
        #expect(json["flow_id"] is Int)
        let alert = try #require(json["alert"] as? [String: Any])
        #expect(alert["action"] as? String == "blocked")
        #expect(alert["signature"] as? String == "drop-9001")
        #expect(alert["signature_id"] is Int)
        #expect(alert["category"] is String && alert["severity"] is Int)
        let drop = try #require(json["drop"] as? [String: Any])
        #expect(drop["syn"] as? Bool == true)
    }

    @Test func flowIDIsTheSameInBothDirections() {
        var a = PacketSummary()
        a.source = IPAddress("198.18.1.2")!; a.destination = IPAddress("198.18.2.2")!
        a.sourcePort = 41000; a.destinationPort = 80; a.l4Protocol = 6
        var b = a
        swap(&b.source, &b.destination); swap(&b.sourcePort, &b.destinationPort)
        let ea = Event(kind: .log, timestampNanoseconds: 0, packet: a, verdict: .accept)
        let eb = Event(kind: .log, timestampNanoseconds: 0, packet: b, verdict: .accept)
        #expect(ea.flowID == eb.flowID)
        var c = a
        c.sourcePort = 41001
        #expect(Event(kind: .log, timestampNanoseconds: 0, packet: c, verdict: .accept).flowID != ea.flowID)
    }

    @Test func jsonEscapingHandlesQuotesAndControlCharacters() {
        #expect(EveJSON.escape("a\"b\\c\nd\u{1}") == "a\\\"b\\\\c\\nd\\u0001")
    }

    @Test func offlineReplayRunsACaptureThroughThePipeline() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("socfw-replay-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.pcap").path
        let writer = try PcapWriter(path: path, linkType: .raw)
        let c: [UInt8] = [198, 18, 1, 2], s: [UInt8] = [198, 18, 2, 2]
        let packets = [
            ipv4Packet(src: c, dst: s, proto: 6, dport: 80), ipv4Packet(src: c, dst: s, proto: 6, dport: 9001),
            ipv4Packet(src: c, dst: s, proto: 6, dport: 9002), Array(ipv4Packet(src: c, dst: s, proto: 6).prefix(12)),
        ]
        for (i, p) in packets.enumerated() {
            try p.withUnsafeBytes { try writer.write(timestampNanoseconds: Int64(i) * 1_000_000, frame: $0) }
        }
        try writer.close()
        let evePath = dir.appendingPathComponent("eve.json").path
        let eve = try EveWriter(path: evePath)
        var pipeline = try pipeline()
        let summary = try OfflineReplay.run(capture: try CaptureFile(path: path), name: path, pipeline: &pipeline, eve: eve)
        #expect(summary.counters.packets == 4)
        #expect(summary.counters.accepted == 1 && summary.counters.dropped == 2 && summary.counters.rejected == 1)
        #expect(summary.counters.malformed == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(summary.json.utf8)) as? [String: Any])
        #expect(json["packets"] as? Int == 4)
        #expect((json["verdicts"] as? [String: Int])?["drop"] == 2)
        #expect(json["packets_per_second"] is Int)
        let lines = try String(contentsOfFile: evePath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)  // log, drop, reject (as drop), malformed drop
    }
}
