import Foundation
import SocfwCapture
import SocfwCore
import SocfwIDS
import SocfwWire

/// A capture of HTTP/1.1 connections: handshake, a browser-like request
/// (GET, some POSTs with a form body), the response in MSS-sized segments
/// with the client's ACKs, and the FIN exchange; `concurrent` connections are
/// interleaved so the flow table and reassembly work on many flows at once.
struct HTTPCaptureGenerator {
    var rng = SplitMix64(seed: 7)
    let words = ["account", "api", "assets", "blog", "cart", "catalog", "checkout", "css", "docs", "download",
                 "events", "faq", "help", "images", "index", "js", "login", "news", "orders", "products", "profile",
                 "search", "settings", "shop", "static", "support", "user", "v1", "v2", "video", "wiki"]
    let agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "curl/8.5.0", "python-requests/2.31.0",
    ]

    mutating func word() -> String { words[rng.below(words.count)] }

    mutating func request(host: String) -> [UInt8] {
        var parts: [String] = []
        for _ in 0..<(1 + rng.below(4)) { parts.append(word()) }
        var path = "/" + parts.joined(separator: "/")
        if rng.below(3) == 0 { path += ".html" }
        if rng.below(2) == 0 { path += "?id=\(rng.below(100_000))&q=\(word())+\(word())&page=\(rng.below(20))" }
        let ua = agents[rng.below(agents.count)]
        var head = "Host: \(host)\r\nUser-Agent: \(ua)\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
        if rng.below(2) == 0 { head += "Referer: http://\(host)/\(word())/\(word())\r\n" }
        if rng.below(2) == 0 { head += "Cookie: session=\(String(rng.next(), radix: 16)); prefs=\(word())\r\n" }
        if rng.below(5) == 0 {
            var fields: [String] = []
            for _ in 0..<(5 + rng.below(40)) { fields.append("\(word())=\(word())\(rng.below(1000))") }
            let body = fields.joined(separator: "&")
            return Array("POST \(path) HTTP/1.1\r\n\(head)Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        }
        return Array("GET \(path) HTTP/1.1\r\n\(head)\r\n".utf8)
    }

    mutating func response() -> [UInt8] {
        let size = 500 + rng.below(30_000)
        var body = "<!DOCTYPE html><html><head><title>\(word())</title></head><body>"
        while body.utf8.count < size { body += "<p>\(word()) \(word()) \(word()) \(rng.below(1000))</p>\n" }
        body += "</body></html>"
        return Array(("HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Type: text/html; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nCache-Control: max-age=60\r\n\r\n" + body).utf8)
    }

    /// The packets of one connection (Ethernet frames).
    mutating func connection(_ index: Int) -> [[UInt8]] {
        let client = IPAddress(v4: 0xc612_0000 | UInt32(index % 60_000 + 1))
        let server = IPAddress(v4: 0xc613_0000 | UInt32(index % 200 + 1))
        let cport = UInt16(1024 + index % 60_000)
        var cseq = UInt32(truncatingIfNeeded: rng.next())
        var sseq = UInt32(truncatingIfNeeded: rng.next())
        var out: [[UInt8]] = []
        func c2s(_ flags: UInt8, _ payload: [UInt8] = []) {
            out.append(frame(client, server, cport, 80, flags, cseq, sseq, payload))
            cseq &+= UInt32(payload.count) + (flags & 0x03 != 0 ? 1 : 0)
        }
        func s2c(_ flags: UInt8, _ payload: [UInt8] = []) {
            out.append(frame(server, client, 80, cport, flags, sseq, cseq, payload))
            sseq &+= UInt32(payload.count) + (flags & 0x03 != 0 ? 1 : 0)
        }
        c2s(0x02)
        s2c(0x12)
        c2s(0x10)
        let req = request(host: "www.\(word()).example")
        for chunk in stride(from: 0, to: req.count, by: 1448) { c2s(0x18, Array(req[chunk..<min(req.count, chunk + 1448)])) }
        s2c(0x10)
        let resp = response()
        var segments = 0
        for chunk in stride(from: 0, to: resp.count, by: 1448) {
            s2c(0x18, Array(resp[chunk..<min(resp.count, chunk + 1448)]))
            segments += 1
            if segments % 2 == 0 { c2s(0x10) }
        }
        c2s(0x11)
        s2c(0x11)
        c2s(0x10)
        return out
    }

    func frame(_ s: IPAddress, _ d: IPAddress, _ sport: UInt16, _ dport: UInt16, _ flags: UInt8, _ seq: UInt32,
               _ ack: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let total = 40 + payload.count
        var f = [UInt8](repeating: 0, count: 14 + total)
        f[12] = 0x08
        let ip = 14
        f[ip] = 0x45; f[ip + 2] = UInt8(total >> 8); f[ip + 3] = UInt8(total & 0xff); f[ip + 8] = 64; f[ip + 9] = 6
        for k in 0..<4 {
            f[ip + 12 + k] = UInt8(truncatingIfNeeded: s.v4 >> (24 - 8 * UInt32(k)))
            f[ip + 16 + k] = UInt8(truncatingIfNeeded: d.v4 >> (24 - 8 * UInt32(k)))
        }
        var sum: UInt32 = 0
        for k in stride(from: 0, to: 20, by: 2) { sum += UInt32(f[ip + k]) << 8 | UInt32(f[ip + k + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        f[ip + 10] = UInt8(~UInt16(sum) >> 8); f[ip + 11] = UInt8(~UInt16(sum) & 0xff)
        let t = ip + 20
        f[t] = UInt8(sport >> 8); f[t + 1] = UInt8(sport & 0xff); f[t + 2] = UInt8(dport >> 8); f[t + 3] = UInt8(dport & 0xff)
        for k in 0..<4 {
            f[t + 4 + k] = UInt8(truncatingIfNeeded: seq >> (24 - 8 * UInt32(k)))
            f[t + 8 + k] = UInt8(truncatingIfNeeded: ack >> (24 - 8 * UInt32(k)))
        }
        f[t + 12] = 0x50; f[t + 13] = flags; f[t + 14] = 0xff; f[t + 15] = 0xff
        f.replaceSubrange((t + 20)..., with: payload)
        return f
    }

    /// Writes `connections` connections, `concurrent` at a time interleaved.
    mutating func write(to path: String, connections: Int, concurrent: Int = 32) throws -> (packets: Int, bytes: Int) {
        let writer = try PcapWriter(path: path, linkType: .ethernet)
        var packets = 0
        var bytes = 0
        var time: Int64 = 1_700_000_000_000_000_000
        var next = 0
        while next < connections {
            var group = (next..<min(connections, next + concurrent)).map { connection($0)[...] }
            next += group.count
            while group.contains(where: { !$0.isEmpty }) {
                for i in group.indices where !group[i].isEmpty {
                    let f = group[i].removeFirst()
                    time += 10_000
                    try f.withUnsafeBytes { try writer.write(timestampNanoseconds: time, frame: $0) }
                    packets += 1
                    bytes += f.count - 14
                }
            }
        }
        try writer.close()
        return (packets, bytes)
    }
}

/// `socfw-bench ids`: offline throughput of the pipeline (with connection
/// tracking) on a mixed HTTP capture with no signatures, the default set,
/// and the Emerging Threats Open rules, in the same run.
func benchIDS() throws {
    let connections = argument("--connections", default: 4000)
    let rounds = argument("--rounds", default: 5)
    let etPath = ProcessInfo.processInfo.environment["SOCFW_ET_RULES"] ?? "../shared/data/rulesets/et-open"
    let path = NSTemporaryDirectory() + "socfw-bench-ids-\(getpid()).pcap"
    defer { unlink(path) }
    var generator = HTTPCaptureGenerator()
    let (packets, bytes) = try generator.write(to: path, connections: connections)
    let capture = try CaptureFile(path: path)
    print("ids: \(connections) HTTP connections, \(packets) packets, \(bytes / 1_048_576) MiB of IP, \(rounds) rounds, one thread")

    var base = SignatureConfig()
    base.defaultSet = true
    let defaultLoad = try SignatureLoader.load(base).get()
    var etLoad: SignatureLoad? = nil
    if FileManager.default.fileExists(atPath: etPath) {
        var et = SignatureConfig()
        et.defaultSet = false
        et.paths = [etPath]
        etLoad = try SignatureLoader.load(et).get()
        let r = etLoad!.report
        print("ET Open (\(etPath)): \(r.rules.rulesSeen) rules, \(r.rules.loaded) loaded, \(r.rules.skipped) skipped, "
            + "\(r.compileSkipped.count) not compiled, \(r.active) active, loaded in \(r.milliseconds) ms, "
            + "prefilter \(r.prefilterBytes / 1024) KiB")
        print("  skipped per keyword (top 15): " + r.skippedByKeyword.sorted { $0.value > $1.value }.prefix(15)
            .map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    } else {
        print("ET Open not found at \(etPath) (set SOCFW_ET_RULES): pps_et is null")
    }

    struct Measured { var best = Double.infinity; var last: ReplaySummary? = nil }
    /// One replay of the capture through a fresh pipeline with `set`: the
    /// thread's CPU seconds, as the pipeline benchmark measures (on a shared
    /// VM the wall clock also counts time other guests took).
    func replay(_ name: String, _ set: SignatureSet?, round: Int, into m: inout Measured) throws {
        var pipeline = Pipeline(ruleSet: RuleSet(rules: [], defaultAction: .allow), malformedAction: .drop,
                                conntrack: ConntrackConfig(), connectionCapacity: 65536)
        if let set {
            pipeline.installSignatures(set, config: SignatureConfig().inspectionConfig, flowCapacity: 65536)
        }
        let cpu0 = threadCPUSeconds()
        let s = try OfflineReplay.run(capture: capture, name: path, pipeline: &pipeline, eve: nil)
        let cpu = threadCPUSeconds() - cpu0
        print("  \(name) round \(round): \(Int(Double(packets) / cpu)) packets per CPU second, "
            + "\(String(format: "%.0f", Double(bytes) * 8 / cpu / 1e6)) Mbit/s, alerts \(s.counters.signatureAlerts)"
            + (s.inspector.map { ", candidates \($0.candidates), http requests \($0.httpRequests)" } ?? ""))
        m.best = min(m.best, cpu)
        m.last = s
    }
    func result(_ m: Measured) -> (pps: Double, mbps: Double, summary: ReplaySummary) {
        (Double(packets) / m.best, Double(bytes) * 8 / m.best / 1e6, m.last!)
    }
    // SOCFW_BENCH_ONLY=default|none: just that case (for profiling).
    if let only = ProcessInfo.processInfo.environment["SOCFW_BENCH_ONLY"], only == "default" || only == "none" {
        var m = Measured()
        for round in 1...rounds { try replay(only, only == "default" ? defaultLoad.set : nil, round: round, into: &m) }
        return
    }
    // No signatures and the default set in alternate rounds (which goes
    // first alternates too), so both see the same machine; the best of each.
    var noneRuns = Measured(), defaultRuns = Measured()
    for round in 1...rounds {
        for withSet in round % 2 == 0 ? [true, false] : [false, true] {
            if withSet { try replay("default", defaultLoad.set, round: round, into: &defaultRuns) }
            else { try replay("none", nil, round: round, into: &noneRuns) }
        }
    }
    let none = result(noneRuns), def = result(defaultRuns)
    let et = try etLoad.map { load -> (pps: Double, mbps: Double, summary: ReplaySummary) in
        var m = Measured()
        for round in 1...max(1, rounds / 2) { try replay("et", load.set, round: round, into: &m) }
        return result(m)
    }
    let cost = (1 - def.pps / none.pps) * 100
    func num(_ x: Double?) -> String { x.map { String(format: "%.0f", $0) } ?? "null" }
    print("default set costs \(String(format: "%.1f", cost))% of throughput (target <= 20%); "
        + "ET Open: \(num(et?.mbps)) Mbit/s (target >= 1000)")
    let r = etLoad?.report
    print("{\"pps_none\":\(num(none.pps)),\"pps_default\":\(num(def.pps)),\"pps_et\":\(num(et?.pps))"
        + ",\"mbps_none\":\(num(none.mbps)),\"mbps_default\":\(num(def.mbps)),\"mbps_et\":\(num(et?.mbps))"
        + ",\"default_cost_pct\":\(String(format: "%.1f", cost)),\"packets\":\(packets),\"connections\":\(connections)"
        + ",\"et_rules_seen\":\(r.map { "\($0.rules.rulesSeen)" } ?? "null"),\"et_loaded\":\(r.map { "\($0.active)" } ?? "null")"
        + ",\"et_load_ms\":\(r.map { "\($0.milliseconds)" } ?? "null")"
        + ",\"alerts_default\":\(def.summary.counters.signatureAlerts),\"alerts_et\":\(et.map { "\($0.summary.counters.signatureAlerts)" } ?? "null")"
        + ",\"target_default_cost_pct\":20,\"target_mbps_et\":1000}")
}
