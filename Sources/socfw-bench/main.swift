// socfw-bench: benchmarks of the pure-Swift core, run with
//   swift run -c release socfw-bench pipeline [--packets N] [--rules N] [--rounds N] [--flood-sources N]
//   swift run -c release socfw-bench rules [--packets N] [--rounds N]
//   swift run -c release socfw-bench conntrack [--flows N]
//   swift run -c release socfw-bench ids [--connections N] [--rounds N]   (SOCFW_ET_RULES: ET Open directory)
// Each benchmark prints human lines, then ONE JSON object as its last line.
import Foundation
import SocfwCapture
import SocfwCore
import SocfwWire

/// An Ethernet + IPv4 + TCP/UDP frame with correct lengths (checksums are not
/// verified by the pipeline, so they are left zero except the IP header's).
func makeFrame(_ rng: inout SplitMix64, payloadBytes: Int) -> [UInt8] {
    let tcp = rng.below(10) < 7
    let l4Length = (tcp ? 20 : 8) + payloadBytes
    let total = 20 + l4Length
    var f = [UInt8](repeating: 0, count: 14 + total)
    f[12] = 0x08; f[13] = 0x00
    let ip = 14
    f[ip] = 0x45
    f[ip + 2] = UInt8(total >> 8); f[ip + 3] = UInt8(total & 0xff)
    f[ip + 8] = 64
    f[ip + 9] = tcp ? 6 : 17
    // Sources in 198.18.0.0/16, destinations in 198.19.0.0/16.
    let src = UInt32(0xc612_0000) | UInt32(rng.below(65536))
    let dst = UInt32(0xc613_0000) | UInt32(rng.below(256))
    for k in 0..<4 {
        f[ip + 12 + k] = UInt8(truncatingIfNeeded: src >> (24 - 8 * UInt32(k)))
        f[ip + 16 + k] = UInt8(truncatingIfNeeded: dst >> (24 - 8 * UInt32(k)))
    }
    var sum: UInt32 = 0
    for k in stride(from: 0, to: 20, by: 2) { sum += UInt32(f[ip + k]) << 8 | UInt32(f[ip + k + 1]) }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    let c = ~UInt16(sum)
    f[ip + 10] = UInt8(c >> 8); f[ip + 11] = UInt8(c & 0xff)
    let l4 = ip + 20
    let sport = UInt16(1024 + rng.below(60000))
    let ports: [UInt16] = [80, 443, 53, 22, 25, 8080, 3306, 123]
    let dport = rng.below(4) == 0 ? UInt16(1 + rng.below(65535)) : ports[rng.below(ports.count)]
    f[l4] = UInt8(sport >> 8); f[l4 + 1] = UInt8(sport & 0xff)
    f[l4 + 2] = UInt8(dport >> 8); f[l4 + 3] = UInt8(dport & 0xff)
    if tcp {
        f[l4 + 12] = 0x50
        f[l4 + 13] = 0x18  // PSH|ACK
        f[l4 + 14] = 0xff; f[l4 + 15] = 0xff
    } else {
        f[l4 + 4] = UInt8(l4Length >> 8); f[l4 + 5] = UInt8(l4Length & 0xff)
    }
    return f
}

/// A realistic mix: host and prefix conditions, port lists and ranges, some
/// LOG rules, mostly non-matching so evaluation walks the whole list.
func makeRules(count: Int, rng: inout SplitMix64) -> [Rule] {
    var rules: [Rule] = []
    for i in 0..<count {
        var conditions: [Condition] = []
        switch i % 4 {
        case 0:
            let net = IPAddress(v4: 0x0a00_0000 | UInt32(rng.below(1 << 16)) << 8)
            conditions.append(.address(source: true, prefixes: [IPPrefix(network: net, length: 24)], negated: false))
            conditions.append(.protocolNumber(numbers: [6], negated: false))
        case 1:
            let port = UInt16(10000 + rng.below(50000))
            conditions.append(.protocolNumber(numbers: [6, 17], negated: false))
            conditions.append(.port(source: false, ranges: [port...port, (port &+ 7)...(port &+ 9)], negated: false))
        case 2:
            let host = IPAddress(v4: 0xac10_0000 | UInt32(rng.below(1 << 16)))
            conditions.append(.address(source: false, prefixes: [IPPrefix(network: host, length: 32)], negated: false))
        default:
            let port = UInt16(20000 + rng.below(40000))
            conditions.append(.port(source: true, ranges: [port...port], negated: false))
        }
        let action: RuleAction = [.drop, .reject, .allow, .log][rng.below(4)]
        rules.append(Rule(name: "bench-\(i)", action: action, priority: i, conditions: conditions))
    }
    return rules
}

func argument(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
    return value
}

func benchPipeline() throws {
    let packets = argument("--packets", default: 1_000_000)
    let ruleCount = argument("--rules", default: 100)
    let rounds = argument("--rounds", default: 5)
    // First, while this process is small: its resident memory then shows
    // what the detectors really hold.
    let flood = try benchDetectorFlood(sources: argument("--flood-sources", default: 1_000_000))
    var rng = SplitMix64(seed: 42)
    let path = NSTemporaryDirectory() + "socfw-bench-\(getpid()).pcap"
    defer { unlink(path) }
    let writer = try PcapWriter(path: path, linkType: .ethernet)
    for i in 0..<packets {
        let frame = makeFrame(&rng, payloadBytes: rng.below(3) == 0 ? 0 : rng.below(200))
        try frame.withUnsafeBytes { try writer.write(timestampNanoseconds: Int64(i) * 1000, frame: $0) }
    }
    try writer.close()
    let capture = try CaptureFile(path: path)
    let ruleSet = RuleSet(rules: makeRules(count: ruleCount, rng: &rng), defaultAction: .allow)
    print("pipeline: \(packets) packets (\(capture.bytes.count / 1_048_576) MiB capture), \(ruleCount) rules, \(rounds) rounds, one thread")
    var best = Double.infinity
    var last: ReplaySummary?
    for round in 1...rounds {
        var pipeline = Pipeline(ruleSet: ruleSet, malformedAction: .drop)
        let summary = try OfflineReplay.run(capture: capture, name: path, pipeline: &pipeline, eve: nil)
        print("round \(round): \(Int(summary.packetsPerSecond)) packets/s "
            + "(accept \(summary.counters.accepted), drop \(summary.counters.dropped), reject \(summary.counters.rejected))")
        best = min(best, summary.seconds)
        last = summary
    }
    let pps = Double(packets) / best
    let ns = best * 1e9 / Double(packets)
    let s = last!
    // The detectors' cost, with connection tracking, detectors off and on,
    // rounds interleaved so both see the same machine: on real connections
    // (handshakes, data both ways, closes; the target), and on the random
    // capture above, where nearly every packet starts a flow (worst case).
    let flowPath = NSTemporaryDirectory() + "socfw-bench-flows-\(getpid()).pcap"
    defer { unlink(flowPath) }
    let flowPackets = try writeFlowCapture(path: flowPath, packets: packets, rng: &rng)
    let flowCapture = try CaptureFile(path: flowPath)
    func detectorRounds(_ capture: CaptureFile, _ name: String, count: Int) throws -> (off: Double, on: Double, detections: UInt64) {
        var bestOff = Double.infinity, bestOn = Double.infinity
        var detections: UInt64 = 0
        // SOCFW_BENCH_ONLY=detectors-on|detectors-off: one side only (for profiling).
        let only = ProcessInfo.processInfo.environment["SOCFW_BENCH_ONLY"]
        let sides = only == "detectors-on" ? [true] : only == "detectors-off" ? [false] : [false, true]
        for round in 1...rounds {
            // Alternate which side goes first: the one after pays for the
            // other's freed memory (page faults, allocator state).
            for on in round % 2 == 0 ? sides.reversed() : sides {
                var pipeline = Pipeline(ruleSet: ruleSet, malformedAction: .drop, conntrack: ConntrackConfig(),
                                        connectionCapacity: 1 << 20)
                if on { pipeline.installDetectors(hub: DetectorHub(config: benchDetectionConfig()), flowCapacity: 1 << 20) }
                // Thread CPU time, not wall time: on a shared VM the wall
                // clock also counts time stolen by other guests (±15 % per run).
                let cpu0 = threadCPUSeconds()
                let summary = try OfflineReplay.run(capture: capture, name: name, pipeline: &pipeline, eve: nil)
                let cpu = threadCPUSeconds() - cpu0
                if on { bestOn = min(bestOn, cpu); detections = summary.counters.detections }
                else { bestOff = min(bestOff, cpu) }
                print("\(name) round \(round), conntrack, detectors \(on ? "on " : "off"): \(Int(Double(count) / cpu)) packets per CPU second")
            }
        }
        return (bestOff * 1e9 / Double(count), bestOn * 1e9 / Double(count), detections)
    }
    // SOCFW_BENCH_ONLY=...-on/-off with SOCFW_BENCH_CAPTURE=connections|random: one capture (profiling).
    let which = ProcessInfo.processInfo.environment["SOCFW_BENCH_CAPTURE"]
    let real = which == "random" ? (1.0, 1.0, UInt64(0)) : try detectorRounds(flowCapture, "connections", count: flowPackets)
    let worst = which == "connections" ? (off: 1.0, on: 1.0, detections: UInt64(0))
        : try detectorRounds(capture, "new-flow-per-packet", count: packets)
    let (nsOff, nsOn, detections) = real
    print("{\"pps\":\(Int(pps)),\"ns_per_packet\":\(String(format: "%.1f", ns)),\"packets\":\(packets),\"rules\":\(ruleCount)"
        + ",\"rounds\":\(rounds),\"accepted\":\(s.counters.accepted),\"dropped\":\(s.counters.dropped)"
        + ",\"rejected\":\(s.counters.rejected),\"target_pps\":2000000"
        + ",\"ns_per_packet_detectors_off\":\(String(format: "%.1f", nsOff))"
        + ",\"ns_per_packet_detectors_on\":\(String(format: "%.1f", nsOn))"
        + ",\"detectors_cost_percent\":\(String(format: "%.1f", (nsOn / nsOff - 1) * 100)),\"detectors_target_percent\":10"
        + ",\"detections\":\(detections)"
        + ",\"worst_case_ns_per_packet_detectors_off\":\(String(format: "%.1f", worst.off))"
        + ",\"worst_case_ns_per_packet_detectors_on\":\(String(format: "%.1f", worst.on))"
        + ",\"worst_case_detectors_cost_percent\":\(String(format: "%.1f", (worst.on / worst.off - 1) * 100))"
        + flood + "}")
}

/// Real-looking traffic: 2,000 concurrent TCP connections at a time (SYN,
/// SYN-ACK, ACK, 2-30 data segments each way with acks, FIN/ACK close) from
/// 5,000 clients to 200 servers on 80/443/8443, and UDP request/response
/// pairs, interleaved, 1 µs apart. Returns the number of packets written.
func writeFlowCapture(path: String, packets: Int, rng: inout SplitMix64) throws -> Int {
    struct Flow {
        var client: UInt32, server: UInt32, sport: UInt16, dport: UInt16
        var step = 0, segments: Int, udp: Bool
        var cseq: UInt32 = 1000, sseq: UInt32 = 9000
    }
    func frame(_ src: UInt32, _ dst: UInt32, _ sport: UInt16, _ dport: UInt16, udp: Bool, flags: UInt8,
               seq: UInt32, ack: UInt32, payload: Int) -> [UInt8] {
        let l4 = (udp ? 8 : 20) + payload
        let total = 20 + l4
        var f = [UInt8](repeating: 0, count: 14 + total)
        f[12] = 0x08
        f[14] = 0x45; f[16] = UInt8(total >> 8); f[17] = UInt8(total & 0xff); f[22] = 64; f[23] = udp ? 17 : 6
        for k in 0..<4 {
            f[26 + k] = UInt8(truncatingIfNeeded: src >> (24 - 8 * UInt32(k)))
            f[30 + k] = UInt8(truncatingIfNeeded: dst >> (24 - 8 * UInt32(k)))
        }
        var sum: UInt32 = 0
        for k in stride(from: 14, to: 34, by: 2) { sum += UInt32(f[k]) << 8 | UInt32(f[k + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        f[24] = UInt8(~UInt16(sum) >> 8); f[25] = UInt8(~UInt16(sum) & 0xff)
        f[34] = UInt8(sport >> 8); f[35] = UInt8(sport & 0xff); f[36] = UInt8(dport >> 8); f[37] = UInt8(dport & 0xff)
        if udp {
            f[38] = UInt8(l4 >> 8); f[39] = UInt8(l4 & 0xff)
        } else {
            for k in 0..<4 {
                f[38 + k] = UInt8(truncatingIfNeeded: seq >> (24 - 8 * UInt32(k)))
                f[42 + k] = UInt8(truncatingIfNeeded: ack >> (24 - 8 * UInt32(k)))
            }
            f[46] = 0x50; f[47] = flags; f[48] = 0xff; f[49] = 0xff
        }
        return f
    }
    let writer = try PcapWriter(path: path, linkType: .ethernet)
    var active: [Flow] = []
    var written = 0
    var nextPort: UInt16 = 1024
    func newFlow() -> Flow {
        nextPort = nextPort >= 65000 ? 1024 : nextPort + 1
        return Flow(client: 0xc612_0000 | UInt32(rng.below(5000)), server: 0xc613_0000 | UInt32(rng.below(200)),
                    sport: nextPort, dport: [80, 443, 8443][rng.below(3)], segments: 2 + rng.below(29),
                    udp: rng.below(5) == 0)
    }
    for _ in 0..<2000 { active.append(newFlow()) }
    while written < packets {
        let i = rng.below(active.count)
        var f = active[i]
        var out: [UInt8]
        var done = false
        if f.udp {
            out = f.step == 0 ? frame(f.client, f.server, f.sport, 53, udp: true, flags: 0, seq: 0, ack: 0, payload: 40)
                : frame(f.server, f.client, 53, f.sport, udp: true, flags: 0, seq: 0, ack: 0, payload: 120)
            done = f.step == 1
        } else {
            let dataSteps = 2 * f.segments
            switch f.step {
            case 0: out = frame(f.client, f.server, f.sport, f.dport, udp: false, flags: 0x02, seq: f.cseq, ack: 0, payload: 0)
            case 1: out = frame(f.server, f.client, f.dport, f.sport, udp: false, flags: 0x12, seq: f.sseq, ack: f.cseq + 1, payload: 0)
                    f.cseq += 1; f.sseq += 1
            case 2: out = frame(f.client, f.server, f.sport, f.dport, udp: false, flags: 0x10, seq: f.cseq, ack: f.sseq, payload: 0)
            case let s where s < 3 + dataSteps:
                // Alternate: a data segment one way, its ack the other.
                let fromClient = (s - 3) % 4 < 2
                let isData = (s - 3) % 2 == 0
                let size = isData ? (fromClient ? 200 : 1200) : 0
                if fromClient == isData {
                    out = frame(f.client, f.server, f.sport, f.dport, udp: false, flags: isData ? 0x18 : 0x10, seq: f.cseq, ack: f.sseq, payload: size)
                    f.cseq &+= UInt32(size)
                } else {
                    out = frame(f.server, f.client, f.dport, f.sport, udp: false, flags: isData ? 0x18 : 0x10, seq: f.sseq, ack: f.cseq, payload: size)
                    f.sseq &+= UInt32(size)
                }
            case 3 + dataSteps: out = frame(f.client, f.server, f.sport, f.dport, udp: false, flags: 0x11, seq: f.cseq, ack: f.sseq, payload: 0)
            case 4 + dataSteps: out = frame(f.server, f.client, f.dport, f.sport, udp: false, flags: 0x11, seq: f.sseq, ack: f.cseq + 1, payload: 0)
            default:
                out = frame(f.client, f.server, f.sport, f.dport, udp: false, flags: 0x10, seq: f.cseq + 1, ack: f.sseq + 1, payload: 0)
                done = true
            }
        }
        f.step += 1
        active[i] = done ? newFlow() : f
        try out.withUnsafeBytes { try writer.write(timestampNanoseconds: Int64(written) * 1000, frame: $0) }
        written += 1
    }
    try writer.close()
    return written
}

/// CPU time this thread has used, in seconds.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// The detectors to measure: all, or those in SOCFW_BENCH_DETECTORS
/// (comma-separated: scan, syn_flood, dos, brute_force, anomalies; `none`
/// measures the call alone) — for finding what costs.
func benchDetectionConfig() -> DetectionConfig {
    var c = DetectionConfig()
    if let n = ProcessInfo.processInfo.environment["SOCFW_BENCH_TABLE_ENTRIES"].flatMap({ Int($0) }) { c.tableEntries = n }
    guard let list = ProcessInfo.processInfo.environment["SOCFW_BENCH_DETECTORS"] else { return c }
    let on = Set(list.split(separator: ",").map(String.init))
    c.scan.enabled = on.contains("scan")
    c.synFlood.enabled = on.contains("syn_flood")
    c.dos.enabled = on.contains("dos")
    c.bruteForce.enabled = on.contains("brute_force")
    c.anomalies.enabled = on.contains("anomalies")
    return c
}

/// A SYN flood from `sources` distinct spoofed addresses (two SYNs each)
/// through the detectors alone: their memory must stay within the configured bound.
/// Measured as the growth of the process's anonymous resident memory (heap
/// and mappings; not the binary's code pages, which the first call of any
/// code brings in) during the flood with detectors, less its growth in the
/// same flood through the same pipeline without them (the baseline, run
/// first in the same process: what the pipeline itself allocates lazily).
func benchDetectorFlood(sources: Int) throws -> String {
    func flood(detectors: Bool) -> (grown: Int, bound: Int, detections: UInt64, seconds: Double, evictions: UInt64) {
        var pipeline = Pipeline(ruleSet: RuleSet(rules: [], defaultAction: .allow), malformedAction: .drop)
        let before = residentAnonymousBytes()
        if detectors { pipeline.installDetectors(hub: DetectorHub(config: DetectionConfig()), flowCapacity: 1) }
        let bound = detectors ? pipeline.detectors!.hub.memoryBytes + pipeline.detectors!.memoryBytes : 0
        var packet = [UInt8](repeating: 0, count: 40)
        packet[0] = 0x45; packet[3] = 40; packet[8] = 64; packet[9] = 6
        packet[16] = 10; packet[17] = 0; packet[18] = 0; packet[19] = 2
        packet[22] = 0; packet[23] = 80; packet[32] = 0x50; packet[33] = 0x02
        var rng = SplitMix64(seed: 99)
        var detections: UInt64 = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<sources {
            let a = UInt32(truncatingIfNeeded: rng.next()) | 0x0100_0000
            packet[12] = UInt8(a >> 24); packet[13] = UInt8((a >> 16) & 0xff)
            packet[14] = UInt8((a >> 8) & 0xff); packet[15] = UInt8(a & 0xff)
            packet[20] = UInt8(truncatingIfNeeded: i >> 8) | 0x80; packet[21] = UInt8(truncatingIfNeeded: i)
            // Two SYNs per source, to two ports: a source's first probe stays
            // in the worker, the second takes every source to the shared tables.
            for k in 0..<2 {
                packet[23] = UInt8(80 + k)
                _ = packet.withUnsafeBytes {
                    pipeline.process($0, timestampNanoseconds: Int64(i) * 2_000 + Int64(k) * 1_000) { _ in detections &+= 1 }
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let grown = max(0, residentAnonymousBytes() - before)
        return (grown, bound, detections, seconds, detectors ? pipeline.detectors!.hub.evictions : 0)
    }
    let baseline = flood(detectors: false)
    let with = flood(detectors: true)
    let grown = max(0, with.grown - baseline.grown)
    let mb = { (b: Int) in String(format: "%.1f", Double(b) / 1_048_576) }
    print("detector flood: \(sources) spoofed sources in \(String(format: "%.2f", with.seconds)) s, "
        + "\(with.detections) alerts, anonymous RSS +\(mb(with.grown)) MiB, without detectors +\(mb(baseline.grown)) MiB: "
        + "detectors +\(mb(grown)) MiB (bound \(mb(with.bound)) MiB, evictions \(with.evictions))")
    return ",\"flood_sources\":\(sources),\"flood_alerts\":\(with.detections),\"detector_rss_mb\":\(mb(grown))"
        + ",\"detector_bound_mb\":\(mb(with.bound)),\"flood_baseline_rss_mb\":\(mb(baseline.grown))"
}

let name = CommandLine.arguments.dropFirst().first ?? ""
switch name {
case "pipeline":
    do { try benchPipeline() } catch {
        FileHandle.standardError.write(Data("socfw-bench: \(error)\n".utf8))
        exit(1)
    }
case "conntrack":
    benchConntrack()
case "ids":
    do { try benchIDS() } catch {
        FileHandle.standardError.write(Data("socfw-bench: \(error)\n".utf8))
        exit(1)
    }
case "rules":
    do { try benchRules() } catch {
        FileHandle.standardError.write(Data("socfw-bench: \(error)\n".utf8))
        exit(1)
    }
default:
    FileHandle.standardError.write(Data("usage: socfw-bench pipeline [--packets N] [--rules N] [--rounds N]\n       socfw-bench conntrack [--flows N]\n       socfw-bench rules [--packets N] [--rounds N]\n       socfw-bench ids [--connections N] [--rounds N]\n".utf8))
    exit(2)
}
