import Synchronization
import SocfwWire

/// Rate entry roles (the `tag` of their keys).
enum RateRole {
    /// Packets to an address; SYN / SYN-ACK / completion counts of a server.
    static let destination: UInt16 = 1
    /// Packets from an address; its SYNs.
    static let source: UInt16 = 2
    /// SYNs and completions to one destination port.
    static let destinationPort: UInt16 = 3
}

/// The hub's state for one rate key.
struct RateEntry: Sendable {
    var windowStart: Int64 = 0
    var packets: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var bytes: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var echo: UInt64 = 0
    var syn: UInt64 = 0
    var synAck: UInt64 = 0
    var completed: UInt64 = 0
    /// Exponentially weighted packets per window, by protocol class.
    var baseline: (Double, Double, Double) = (0, 0, 0)
    var windows: UInt32 = 0
}

/// Scan, brute-force and suppression state.
struct ScanEntry: Sendable {
    var distinct = DistinctWindow()
}

struct SlowScanEntry: Sendable {
    var distinct = WideDistinctWindow()
}

struct AuthEntry: Sendable {
    var connections = SlidingCount()
    var failures = SlidingCount()
}

/// One lock's share of the shared tables.
struct HubStripe: Sendable {
    var scans: BoundedTable<ScanEntry>
    var slowScans: BoundedTable<SlowScanEntry>
    var auth: BoundedTable<AuthEntry>
    var rates: BoundedTable<RateEntry>
    /// Until when a detection key stays quiet (one alert per period).
    var suppressed: BoundedTable<Int64>

    init(entries: Int) {
        scans = BoundedTable(capacity: entries, empty: ScanEntry())
        slowScans = BoundedTable(capacity: max(entries / 4, 64), empty: SlowScanEntry())
        auth = BoundedTable(capacity: max(entries / 4, 64), empty: AuthEntry())
        rates = BoundedTable(capacity: entries, empty: RateEntry())
        suppressed = BoundedTable(capacity: max(entries / 4, 64), empty: 0)
    }

    var memoryBytes: Int {
        scans.memoryBytes + slowScans.memoryBytes + auth.memoryBytes + rates.memoryBytes + suppressed.memoryBytes
    }
    var evictions: UInt64 {
        scans.evictions &+ slowScans.evictions &+ auth.evictions &+ rates.evictions &+ suppressed.evictions
    }
}

/// One stripe's lock (a class: `Mutex` cannot sit in an array).
final class HubStripeLock: Sendable {
    let state: Mutex<HubStripe>
    init(entries: Int) { state = Mutex(HubStripe(entries: entries)) }
    @inline(__always)
    func withLock<R>(_ body: (inout HubStripe) -> R) -> R {
        state.withLock { s in body(&s) }
    }
}

/// The detectors' shared state: every worker (queue) feeds it, so a scan or
/// flood spread over queues is seen whole. Striped: a key's stripe is chosen
/// by its hash and has its own lock, so workers rarely meet. Workers call it
/// only for sparse events (probes, new connections to authentication
/// services, failed logins) and to flush the per-packet rate counts they
/// accumulate locally (every 100 ms, see `DetectorProbe`). Memory is fixed at
/// init (`memoryBytes`).
public final class DetectorHub: Sendable {
    public let config: DetectionConfig
    private let stripes: [HubStripeLock]
    private let stripeMask: Int
    /// Sources dropped by a detection, until a time (ns).
    private let blocked = Mutex<[IPAddress: Int64]>([:])
    private let blockGenerationValue = Atomic<UInt64>(0)
    private let counts = Mutex<DetectionCounters>(DetectionCounters())
    /// Workers (probes) feeding this hub.
    private let workerCount = Atomic<Int>(0)

    public init(config: DetectionConfig, stripes: Int = 16) {
        self.config = config
        var n = 1
        while n < stripes { n <<= 1 }
        let perStripe = max(config.tableEntries / n, 256)
        self.stripes = (0..<n).map { _ in HubStripeLock(entries: perStripe) }
        stripeMask = n - 1
    }

    /// Bytes of the shared tables: the configured bound, fixed at init.
    public var memoryBytes: Int { stripes.reduce(0) { $0 + $1.withLock { $0.memoryBytes } } }
    /// Entries replaced to make room (a flood of distinct keys).
    public var evictions: UInt64 { stripes.reduce(0) { $0 &+ $1.withLock { $0.evictions } } }

    @inline(__always)
    private func stripe(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash) & stripeMask }

    /// A worker's probe registers when it is made (see `mergeFloor`).
    func addWorker() { workerCount.add(1, ordering: .relaxed) }

    /// Workers feeding this hub.
    public var workers: Int { workerCount.load(ordering: .relaxed) }

    /// The fewest packets (or handshake events) a worker's local rate entry
    /// must hold to be merged into the hub at a flush or when displaced;
    /// smaller ones are dropped.
    /// Most keys outside established connections are a client's one SYN or
    /// datagram, and merging them is most of the rates' cost. Dropping them
    /// loses nothing a threshold could see: the floor is at most a quarter
    /// of the smallest enabled rate threshold's share per worker and flush
    /// interval (defaults: source SYNs, 500/s: 12 per 100 ms on one worker),
    /// capped at 8 and at least 1 — with 16 workers every count is merged.
    public var mergeFloor: UInt32 {
        var perSecond = Double.infinity
        if config.synFlood.enabled {
            let windowSeconds = Double(max(config.synFlood.windowMilliseconds, 1)) / 1000
            perSecond = min(perSecond, Double(config.synFlood.sourceSyns), Double(config.synFlood.syns) / windowSeconds)
        }
        if config.dos.enabled {
            perSecond = min(perSecond, Double(config.dos.echoPerSecond), Double(config.dos.sourcePacketsPerSecond),
                            Double(config.dos.destinationPacketsPerSecond))
        }
        guard perSecond.isFinite else { return 8 }
        let perInterval = perSecond * Double(DetectorProbe.flushInterval) / 1e9 / Double(4 * max(workers, 1))
        return UInt32(max(1, min(8, perInterval.rounded(.down))))
    }

    // MARK: Suppression and blocking

    /// True when `key` has not alerted within the suppression period (and
    /// marks it as having alerted now).
    func claim(_ key: DetectorKey, now: Int64) -> Bool {
        let h = key.mixed
        let period = config.suppressSeconds * 1_000_000_000
        return stripes[stripe(h)].withLock { s in
            s.suppressed.update(key, hash: h, now: now) { until in
                guard until <= now else { return false }
                until = now + period
                return true
            }
        }
    }

    /// Applies a detection's response to its source (not for exempt sources
    /// or detections whose source is not the offender) and counts it.
    func fired(_ d: inout Detection, now: Int64, blocksSource: Bool = true) {
        counts.withLock { $0.detections[d.kind, default: 0] &+= 1 }
        guard blocksSource, d.response.action != .alert, !config.isExempt(d.source) else {
            if d.response.action != .alert { d.response.action = .alert }
            return
        }
        let until = now + d.response.seconds * 1_000_000_000
        blocked.withLock { b in
            b[d.source] = max(b[d.source] ?? 0, until)
            // Bounded: expired entries go when it grows.
            if b.count > 4096 { b = b.filter { $0.value > now } }
        }
        blockGenerationValue.add(1, ordering: .releasing)
    }

    /// Changes whenever the blocked sources do.
    public var blockGeneration: UInt64 { blockGenerationValue.load(ordering: .acquiring) }

    /// Sources currently dropped, with their end (ns).
    public func blockedSources(now: Int64) -> [IPAddress: Int64] {
        blocked.withLock { $0.filter { $0.value > now } }
    }

    /// Lifts a detection block early (operator release).
    public func unblock(_ address: IPAddress) {
        _ = blocked.withLock { $0.removeValue(forKey: address) }
        blockGenerationValue.add(1, ordering: .releasing)
    }

    /// Detections so far, and anomaly counts flushed by the workers.
    public var counters: DetectionCounters { counts.withLock { $0 } }

    func addCounters(anomalies: UnsafeMutableBufferPointer<UInt64>, blockedPackets: UInt64, anomalyDrops: UInt64) {
        counts.withLock { c in
            for (i, n) in anomalies.enumerated() where n != 0 {
                if let id = AnomalyID(rawValue: UInt16(i)) { c.anomalies[id, default: 0] &+= n }
                anomalies[i] = 0
            }
            c.blockedPackets &+= blockedPackets
            c.anomalyDrops &+= anomalyDrops
        }
    }

    // MARK: Scans

    /// A probe from `source` to `target:port` of kind `type`.
    func scanProbe(source: IPAddress, target: IPAddress, port: UInt16, type: ScanType, now: Int64) -> Detection? {
        let c = config.scan
        guard c.enabled, !config.isExempt(source) else { return nil }
        let t = UInt16(type.rawValue) << 4
        let half = c.windowSeconds * 500_000_000
        // The three sketches of one source live in the stripe of the source:
        // one lock per probe.
        let vk = DetectorKey(source, target, tag: 0x100 | t | 1)
        let hk = DetectorKey(source, port: port, tag: 0x100 | t | 2)
        let sk = DetectorKey(source, tag: 0x100 | t | 3)
        let vh = vk.mixed, hh = hk.mixed, sh = sk.mixed
        let slowHalf = c.slowWindowSeconds * 500_000_000
        let portHash = DetectorKey.mix(UInt64(port))
        let hostHash = DetectorKey.mix(target.high ^ target.low)
        let pairHash = DetectorKey.mix(target.high ^ target.low ^ UInt64(port) << 40)
        let (ports, hosts, pairs) = stripes[stripe(sh)].withLock { s -> (Int, Int, Int) in
            // Vertical: distinct ports of one host.
            let ports = s.scans.update(vk, hash: vh, now: now) { $0.distinct.add(portHash, now: now, halfWindow: half) }
            // Horizontal: distinct hosts on one port.
            let hosts = s.scans.update(hk, hash: hh, now: now) { $0.distinct.add(hostHash, now: now, halfWindow: half) }
            // Slow: distinct host:port pairs over the long window.
            let pairs = s.slowScans.update(sk, hash: sh, now: now) {
                $0.distinct.add(pairHash, now: now, halfWindow: slowHalf)
            }
            return (ports, hosts, pairs)
        }
        let crossed: (ScanScope, Int)? = ports >= c.ports ? (.vertical, ports) : hosts >= c.hosts ? (.horizontal, hosts)
            : pairs >= c.slowPorts ? (.slow, pairs) : nil
        guard let (scope, count) = crossed,
              claim(DetectorKey(source, tag: 0x200 | t), now: now) else { return nil }
        let window = scope == .slow ? c.slowWindowSeconds : c.windowSeconds
        var d = Detection(
            kind: .scan, signatureID: Detection.scanSID(type, scope),
            title: "SOCFW SCAN \(scope.name) \(type.title) scan", category: "Detection of a Network Scan", severity: 2,
            source: source, target: scope == .horizontal || scope == .slow ? nil : target,
            port: scope == .horizontal ? port : nil,
            labels: [("type", type.name), ("scope", scope.name)],
            figures: [(scope == .vertical ? "ports" : scope == .horizontal ? "hosts" : "pairs", Int64(count)),
                      ("window_seconds", window)],
            response: c.response)
        fired(&d, now: now)
        return d
    }

    // MARK: Brute force

    /// A new connection (or an HTTP login request) from `source` to an
    /// authentication service.
    func authAttempt(source: IPAddress, target: IPAddress, port: UInt16, service: AuthService, now: Int64) -> Detection? {
        auth(source: source, target: target, port: port, service: service, failure: false, now: now)
    }

    /// The server refused a login (FTP 530, SMTP 535, POP3 -ERR, IMAP NO, HTTP 401/403).
    func authFailure(client: IPAddress, server: IPAddress, port: UInt16, service: AuthService, now: Int64) -> Detection? {
        auth(source: client, target: server, port: port, service: service, failure: true, now: now)
    }

    private func auth(source: IPAddress, target: IPAddress, port: UInt16, service: AuthService, failure: Bool,
                      now: Int64) -> Detection? {
        let c = config.bruteForce
        guard c.enabled, !config.isExempt(source) else { return nil }
        let key = DetectorKey(source, target, port: port, tag: 0x300)
        let h = key.mixed
        let half = c.windowSeconds * 500_000_000
        let (attempts, failures) = stripes[stripe(h)].withLock { s in
            s.auth.update(key, hash: h, now: now) { e -> (Int, Int) in
                if failure {
                    e.connections.roll(now: now, halfWindow: half)
                    return (Int(e.connections.current) + Int(e.connections.previous), e.failures.add(1, now: now, halfWindow: half))
                }
                e.failures.roll(now: now, halfWindow: half)
                return (e.connections.add(1, now: now, halfWindow: half), Int(e.failures.current) + Int(e.failures.previous))
            }
        }
        guard attempts >= c.connections || failures >= c.failures,
              claim(DetectorKey(source, target, port: port, tag: 0x400), now: now) else { return nil }
        var d = Detection(
            kind: .bruteForce, signatureID: Detection.bruteForceSID(service),
            title: "SOCFW BRUTE FORCE \(service.rawValue) login guessing", category: "Attempted User Privilege Gain",
            severity: 1, source: source, target: target, port: port,
            labels: [("service", service.rawValue)],
            figures: [("attempts", Int64(attempts)), ("failures", Int64(failures)), ("window_seconds", c.windowSeconds)],
            response: c.response)
        fired(&d, now: now)
        return d
    }

    // MARK: Rates (SYN flood, DoS)

    /// Merges one worker's counts for a key; returns what they trigger.
    func merge(_ delta: LocalRate, lastSource: IPAddress, now: Int64, into out: inout [Detection]) {
        let key = delta.key
        let h = key.mixed
        let synWindow = config.synFlood.windowMilliseconds * 1_000_000
        let dosWindow = config.dos.windowMilliseconds * 1_000_000
        let window = key.tag == RateRole.destinationPort ? synWindow : min(synWindow, dosWindow)
        let dos = config.dos
        var snapshot: RateEntry? = nil
        stripes[stripe(h)].withLock { s in
            s.rates.update(key, hash: h, now: now) { e in
                if now &- e.windowStart >= window {
                    // The window closed: learn its rates (not while alarming).
                    if e.windows > 0 {
                        let w = dos.baselineWeight
                        let scale = 1_000_000_000 / Double(window)
                        let rates = (Double(e.packets.0) * scale, Double(e.packets.1) * scale, Double(e.packets.2) * scale)
                        // An attack must not teach the baseline: a window's
                        // rate counts at most up to the alarm level.
                        func learn(_ b: Double, _ r: Double) -> Double {
                            if e.windows == 1 { return min(r, Double(dos.baselineMinimumPacketsPerSecond)) }
                            let cap = max(b * dos.baselineFactor, Double(dos.baselineMinimumPacketsPerSecond))
                            return b + w * (min(r, cap) - b)
                        }
                        e.baseline = (learn(e.baseline.0, rates.0), learn(e.baseline.1, rates.1), learn(e.baseline.2, rates.2))
                    }
                    // A new window: the counts start again, the baseline stays.
                    e = RateEntry(windowStart: now, baseline: e.baseline, windows: e.windows &+ 1)
                }
                e.packets.0 &+= UInt64(delta.packets.0)
                e.packets.1 &+= UInt64(delta.packets.1)
                e.packets.2 &+= UInt64(delta.packets.2)
                e.bytes.0 &+= UInt64(delta.bytes.0)
                e.bytes.1 &+= UInt64(delta.bytes.1)
                e.bytes.2 &+= UInt64(delta.bytes.2)
                e.echo &+= UInt64(delta.echo)
                e.syn &+= UInt64(delta.syn)
                e.synAck &+= UInt64(delta.synAck)
                e.completed &+= UInt64(delta.completed)
                snapshot = e
            }
        }
        guard let e = snapshot else { return }
        let windowSeconds = Double(window) / 1e9
        let subject = key.a
        // SYN flood against a destination (or one of its ports).
        let sf = config.synFlood
        if sf.enabled, key.tag != RateRole.source, Double(e.syn) >= Double(sf.syns) * Double(window) / Double(synWindow),
           Double(e.completed) <= sf.completionRatio * Double(e.syn),
           claim(DetectorKey(subject, tag: 0x500), now: now) {
            var d = Detection(
                kind: .synFlood, signatureID: Detection.synFloodDestinationSID,
                title: "SOCFW DOS SYN flood against \(subject)\(key.port != 0 ? " port \(key.port)" : "")",
                category: "Attempted Denial of Service", severity: 1,
                source: lastSource, target: subject, port: key.port != 0 ? key.port : nil,
                labels: [("scope", "destination")],
                figures: [("syns", Int64(e.syn)), ("syn_acks", Int64(e.synAck)), ("completed", Int64(e.completed)),
                          ("window_ms", Int64(window / 1_000_000))],
                response: sf.response)
            // The sources of a flood are spoofed: nothing to block.
            fired(&d, now: now, blocksSource: false)
            out.append(d)
        }
        if sf.enabled, key.tag == RateRole.source, e.syn >= UInt64(sf.sourceSyns), !config.isExempt(subject),
           claim(DetectorKey(subject, tag: 0x501), now: now) {
            var d = Detection(
                kind: .synFlood, signatureID: Detection.synFloodSourceSID,
                title: "SOCFW DOS SYN flood from \(subject)", category: "Attempted Denial of Service", severity: 1,
                source: subject, target: nil, labels: [("scope", "source")],
                figures: [("syns", Int64(e.syn)), ("window_ms", Int64(window / 1_000_000))], response: sf.response)
            fired(&d, now: now)
            out.append(d)
        }
        guard dos.enabled, key.tag != RateRole.destinationPort else { return }
        let isDestination = key.tag == RateRole.destination
        if isDestination, e.echo >= UInt64(Double(dos.echoPerSecond) * windowSeconds),
           claim(DetectorKey(subject, tag: 0x600), now: now) {
            var d = Detection(
                kind: .dos, signatureID: Detection.dosSID(destination: true, proto: 1, echo: true),
                title: "SOCFW DOS ICMP echo flood against \(subject)", category: "Attempted Denial of Service",
                severity: 2, source: lastSource, target: subject,
                labels: [("scope", "destination"), ("protocol", "icmp"), ("reason", "echo_rate")],
                figures: [("echo_requests", Int64(e.echo)), ("window_ms", Int64(window / 1_000_000))],
                response: dos.response)
            fired(&d, now: now, blocksSource: false)
            out.append(d)
        }
        if !isDestination, config.isExempt(subject) { return }
        let ppsLimit = Double(isDestination ? dos.destinationPacketsPerSecond : dos.sourcePacketsPerSecond) * windowSeconds
        let bitsLimit = Double(isDestination ? dos.destinationBitsPerSecond : dos.sourceBitsPerSecond) * windowSeconds
        let classes: [(UInt8, UInt64, UInt64, Double)] = [
            (IPProtocolNumber.tcp, e.packets.0, e.bytes.0, e.baseline.0),
            (IPProtocolNumber.udp, e.packets.1, e.bytes.1, e.baseline.1),
            (IPProtocolNumber.icmp, e.packets.2, e.bytes.2, e.baseline.2),
        ]
        for (proto, packets, bytes, baseline) in classes where packets > 0 {
            let rate = Double(packets) / windowSeconds
            var reason: String? = nil
            if Double(packets) >= ppsLimit {
                reason = "packet_rate"
            } else if Double(bytes) * 8 >= bitsLimit {
                reason = "bit_rate"
            } else if e.windows > 3, rate >= Double(dos.baselineMinimumPacketsPerSecond),
                      rate >= baseline * dos.baselineFactor {
                reason = "baseline"
            }
            guard let reason, claim(DetectorKey(subject, port: UInt16(proto), tag: isDestination ? 0x601 : 0x602), now: now)
            else { continue }
            let protoName = proto == IPProtocolNumber.tcp ? "tcp" : proto == IPProtocolNumber.udp ? "udp" : "icmp"
            var d = Detection(
                kind: .dos, signatureID: Detection.dosSID(destination: isDestination, proto: proto),
                title: "SOCFW DOS \(protoName.uppercased()) flood \(isDestination ? "against" : "from") \(subject)",
                category: "Attempted Denial of Service", severity: 2,
                source: isDestination ? lastSource : subject, target: isDestination ? subject : nil,
                labels: [("scope", isDestination ? "destination" : "source"), ("protocol", protoName), ("reason", reason)],
                figures: [("packets", Int64(packets)), ("bytes", Int64(bytes)), ("window_ms", Int64(window / 1_000_000)),
                          ("baseline_pps", Int64(baseline))],
                response: dos.response)
            fired(&d, now: now, blocksSource: !isDestination)
            out.append(d)
        }
    }
}
