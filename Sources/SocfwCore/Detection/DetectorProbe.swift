import SocfwWire

/// One worker's side of the detectors: runs on every packet after the
/// connection tracker. Per packet it costs a few compares (protocol
/// anomalies) and, for packets outside established TCP connections, two
/// updates of a small direct-mapped table of rate counts kept by this worker
/// alone; the shared `DetectorHub` is called only for sparse events (scan
/// probes, connections to authentication services, failed logins) and when
/// the local counts are flushed (every `flushInterval`, or when an entry is
/// displaced). Not thread-safe: one per worker.
public struct DetectorProbe {
    public let hub: DetectorHub
    let config: DetectionConfig
    var anomalies: AnomalyDetector
    private let rates: LocalRateTable
    private let rateMask: Int
    private var nextFlush: Int64 = 0
    /// `hub.mergeFloor`, refreshed at every flush (workers may be added).
    private var mergeFloor: UInt32 = 1
    /// Packets per source hash since the last flush, up to `sourceGateLimit`
    /// (the merge floor): a source gets a rate entry when it reaches it.
    private var sourceGate = [UInt8](repeating: 0, count: 4096)
    private var sourceGateLimit: UInt8 = 1
    /// How often local counts reach the hub: the detection delay of rates.
    public static let flushInterval: Int64 = 100_000_000
    /// Sources blocked by a detection (copy of the hub's, by generation).
    private var blocked: [IPAddress: Int64] = [:]
    private var blockGeneration: UInt64 = .max
    /// Anomaly alerts already raised, by (anomaly, source) hash: until when.
    private var anomalyQuiet: [Int64]
    private var anomalyCounts = [UInt64](repeating: 0, count: 64)
    /// Anomaly alerts left this second, per anomaly (a flood of spoofed
    /// sources must not become a flood of alerts; the counters still count).
    private var anomalyBudget = [UInt8](repeating: 0, count: 64)
    private var anomalyBudgetSecond: Int64 = 0
    static let anomalyAlertsPerSecond: UInt8 = 5
    private var blockedPackets: UInt64 = 0
    private var anomalyDrops: UInt64 = 0
    /// Per flow slot: an HTTP login request was seen (bit 0).
    private var slotFlags: [UInt8]
    private var pendingDetections: [Detection] = []
    /// Detections raised by the last calls, in order, until `takeRaised`.
    /// Collected rather than handed to a closure: a closure argument makes
    /// every call retain what the caller's closure captured (its event
    /// sink), a measurable share of the per-packet cost.
    private var raised: [Detection] = []
    /// `!raised.isEmpty`, readable without touching the array.
    private var hasRaised = false
    /// The packet being inspected was held as a probe (`Outcome.holdProbe`).
    private var heldNow = false
    /// Each source's first probe, held back until it sends a second (4096 entries).
    private var probeSources = [FirstProbe](repeating: FirstProbe(), count: 4096)
    /// Per source (direct-mapped, 8192 entries): its probes waiting for an
    /// answer and its failed ones (see `holdProbe`).
    private var probeStates = [ProbeState](repeating: ProbeState(), count: 8192)
    private let slowWindow: Int64
    /// Probes (source, host, port, type) forwarded recently, by hash (8192 entries).
    /// Pair hash and when, side by side: one cache line a probe.
    private var recentPairs = [(pair: UInt64, time: Int64)](repeating: (0, 0), count: 8192)
    private let scanHalfWindow: Int64
    private let scanEnabled: Bool
    private let ratesEnabled: Bool
    private let authEnabled: Bool
    private let anomaliesEnabled: Bool
    private let loginPaths: [[UInt8]]
    /// Authentication service by port (index into `AuthService.allCases` + 1; 0: none),
    /// behind a bitmap of the ports (8 KiB, stays in L1): no dictionary on the per-packet path.
    private let servicePorts: [UInt8]
    private let servicePortBits: [UInt64]
    /// Second bytes of the login paths (the first is '/'): most requests fail this test.
    private let loginPathStarts: [Bool]

    public init(hub: DetectorHub, flowCapacity: Int) {
        self.hub = hub
        hub.addWorker()
        config = hub.config
        anomalies = AnomalyDetector(config: hub.config.anomalies.limits)
        rates = LocalRateTable(count: 2048)
        rateMask = 1023
        anomalyQuiet = Array(repeating: 0, count: 1024)
        slotFlags = Array(repeating: 0, count: max(flowCapacity, 1))
        scanEnabled = config.scan.enabled
        scanHalfWindow = config.scan.windowSeconds * 500_000_000
        slowWindow = config.scan.slowWindowSeconds * 1_000_000_000
        ratesEnabled = config.synFlood.enabled || config.dos.enabled
        authEnabled = config.bruteForce.enabled
        anomaliesEnabled = config.anomalies.enabled
        loginPaths = config.bruteForce.loginPaths.map { Array($0.utf8) }
        var ports = [UInt8](repeating: 0, count: 65536)
        for (port, service) in config.bruteForce.services {
            ports[Int(port)] = UInt8(AuthService.allCases.firstIndex(of: service)! + 1)
        }
        servicePorts = ports
        var bits = [UInt64](repeating: 0, count: 1024)
        for port in config.bruteForce.services.keys { bits[Int(port) >> 6] |= 1 << (UInt64(port) & 63) }
        servicePortBits = bits
        var starts = [Bool](repeating: false, count: 256)
        for p in loginPaths { starts[Int(p.count > 1 ? p[1] : 0)] = true }
        loginPathStarts = starts
    }

    /// Fixed bytes this worker's detector state holds (whole pages per array).
    public var memoryBytes: Int {
        rates.memoryBytes + pageRounded(anomalyQuiet.count * 8) + pageRounded(slotFlags.count)
            + pageRounded(probeSources.count * MemoryLayout<FirstProbe>.stride) + pageRounded(recentPairs.count * 16)
            + pageRounded(probeStates.count * MemoryLayout<ProbeState>.stride) + pageRounded(sourceGate.count)
            + pageRounded(anomalyCounts.count * 8) + pageRounded(anomalyBudget.count) + pageRounded(servicePorts.count)
            + pageRounded(servicePortBits.count * 8) + pageRounded(loginPathStarts.count) + anomalies.memoryBytes
    }

    // MARK: Per packet

    /// What `inspect` asks of the pipeline.
    public struct Outcome: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Drop the packet: its source is blocked by a detection, or it is
        /// an anomaly whose action is drop.
        public static let drop = Outcome(rawValue: 1)
        /// Detections were collected in `raised` (`takeRaised`).
        public static let raised = Outcome(rawValue: 2)
        /// The packet opened its flow as a possible scan probe, held until
        /// answered: mark the flow (`ConnectionTracker.markProbeHeld`).
        public static let holdProbe = Outcome(rawValue: 4)
    }

    /// Runs the detectors on one parsed packet (see `Outcome`).
    ///
    /// Most packets are segments of established TCP connections that no
    /// detector has work for: those are decided here by a few compares;
    /// everything else (and these, whenever a flush is due or a source is
    /// blocked) goes through the full inspection, out of line.
    @inline(__always)
    public mutating func inspect(_ p: PacketSummary, packet: UnsafeRawBufferPointer, flow: TrackResult?,
                                 now: Int64) -> Outcome {
        if now < nextFlush, blocked.isEmpty, let t = flow, t.state == .established, !t.probeAnswered,
           !t.handshakeCompleted, p.l4Protocol == IPProtocolNumber.tcp, p.tcpFlags.rawValue & 0x02 == 0,
           !anomaliesEnabled || AnomalyDetector.isPlainTCPSegment(p, packet: packet),
           !mayCarryLogin(p, flow: t) {
            return []
        }
        return inspectSlow(p, packet: packet, flow: flow, now: now)
    }

    @inline(never)
    private mutating func inspectSlow(_ p: PacketSummary, packet: UnsafeRawBufferPointer, flow: TrackResult?,
                                      now: Int64) -> Outcome {
        var outcome: Outcome = inspectPacket(p, packet: packet, flow: flow, now: now) ? .drop : []
        if heldNow { heldNow = false; outcome.insert(.holdProbe) }
        if hasRaised { outcome.insert(.raised) }
        return outcome
    }

    @inline(__always)
    private mutating func inspectPacket(_ p: PacketSummary, packet: UnsafeRawBufferPointer, flow: TrackResult?,
                                        now: Int64) -> Bool {
        if now >= nextFlush { flush(now: now) }
        if !blocked.isEmpty, let until = blocked[p.source], until > now {
            blockedPackets &+= 1
            return true
        }
        var drop = false
        if anomaliesEnabled, !AnomalyDetector.isPlainTCPSegment(p, packet: packet),
           let id = anomalies.inspect(p, packet: packet, fromOutside: fromOutside(p), now: now) {
            drop = anomaly(id, p, now: now)
        }
        let isTCP = p.l4Protocol == IPProtocolNumber.tcp
        // The answer to a probe held back (a SYN-ACK or RST, a UDP reply, an
        // ICMP error about it) decides whether it counts.
        if let t = flow, t.probeAnswered { answered(p, packet: packet, flow: t, now: now) }
        // Established TCP connections are congestion controlled and answered:
        // not probes, not floods. Their payload may carry login replies.
        if isTCP, let t = flow, t.state == .established {
            if ratesEnabled {
                if t.handshakeCompleted {
                    completed(p, now: now)
                } else if p.tcpFlags.rawValue & 0x12 == 0x12 {
                    // The server's SYN-ACK: counted for the server (its balance).
                    rates.entries[rateEntry(p.source, port: 0, role: RateRole.destination, now: now)].synAck &+= 1
                }
            }
            if mayCarryLogin(p, flow: t) { authPayload(p, packet: packet, flow: t, now: now) }
            return drop
        }
        if ratesEnabled { count(p, now: now) }
        if scanEnabled, let type = probeType(p, packet: packet, flow: flow) {
            if let t = flow, t.created, t.index >= 0 {
                if !holdProbe(p, type: type, now: now),
                   forwardProbe(source: p.source, target: p.destination, port: p.destinationPort, type: type, now: now,
                                packetSource: p.source) {
                    drop = true
                }
            } else if scanProbe(p, type: type, now: now) {
                drop = true
            }
        }
        if authEnabled, isTCP, let t = flow, t.created, t.index >= 0, let service = service(p.destinationPort) {
            if service == .http {
                // A new flow in this slot has seen no login request yet.
                if Int(t.index) < slotFlags.count { slotFlags[Int(t.index)] = 0 }
            } else if p.tcpFlags.rawValue & 0x12 == 0x02,
                      // A connection attempt is a SYN (not a flow picked up mid-stream).
                      let d = hub.authAttempt(source: p.source, target: p.destination, port: p.destinationPort,
                                              service: service, now: now),
                      raise(d, from: p.source, now: now) {
                drop = true
            }
        }
        return drop
    }

    /// A packet the parser refused: the anomaly it stands for, if any.
    public mutating func malformed(_ error: WireError, _ p: PacketSummary, now: Int64) {
        guard anomaliesEnabled, let id = AnomalyDetector.classify(error, partial: p) else { return }
        _ = anomaly(id, p, now: now)
    }

    @inline(__always)
    private func fromOutside(_ p: PacketSummary) -> Bool {
        guard p.l4Protocol == IPProtocolNumber.icmp || p.l4Protocol == IPProtocolNumber.icmpv6 else { return false }
        return !config.isInternal(p.source)
    }

    /// Counts an anomaly and raises its alert once per (anomaly, source)
    /// and suppression period. Returns true when its action is drop.
    private mutating func anomaly(_ id: AnomalyID, _ p: PacketSummary, now: Int64) -> Bool {
        let c = config.anomalies
        guard !c.disabled.contains(id) else { return false }
        anomalyCounts[Int(id.rawValue) & 63] &+= 1
        let drops = c.drops(id)
        if drops { anomalyDrops &+= 1 }
        let key = DetectorKey(p.source, tag: 0x700 | id.rawValue)
        let h = key.mixed
        let slot = Int(truncatingIfNeeded: h) & 1023
        // Locally quiet: no hub call per anomalous packet of a flood.
        guard anomalyQuiet[slot] <= now else { return drops }
        anomalyQuiet[slot] = now + min(config.suppressSeconds, 60) * 1_000_000_000
        if now / 1_000_000_000 != anomalyBudgetSecond {
            anomalyBudgetSecond = now / 1_000_000_000
            for i in anomalyBudget.indices { anomalyBudget[i] = Self.anomalyAlertsPerSecond }
        }
        let b = Int(id.rawValue) & 63
        guard anomalyBudget[b] > 0 else { return drops }
        anomalyBudget[b] -= 1
        guard hub.claim(key, now: now) else { return drops }
        var d = Detection(
            kind: .anomaly, signatureID: id.signatureID, title: "SOCFW ANOMALY \(id.summary)",
            category: "Potentially Bad Traffic", severity: drops ? 2 : 3, source: p.source, target: p.destination,
            port: p.l4Parsed && (p.l4Protocol == IPProtocolNumber.tcp || p.l4Protocol == IPProtocolNumber.udp)
                ? p.destinationPort : nil,
            labels: [("id", id.name), ("action", drops ? "drop" : "alert")],
            figures: [("ttl", Int64(p.ttl)), ("length", Int64(p.ipLength))],
            response: DetectorResponse(.alert))
        d.blocked = drops
        hub.fired(&d, now: now, blocksSource: false)
        raise(collected: d)
        return drops
    }

    // MARK: Scan probes

    /// The scan type a packet probes with, if it is a probe: a packet that
    /// starts something (a new flow) or pokes outside any flow. Replies —
    /// a victim's RSTs and ICMP errors — are never probes.
    @inline(__always)
    func probeType(_ p: PacketSummary, packet: UnsafeRawBufferPointer, flow: TrackResult?) -> ScanType? {
        switch p.l4Protocol {
        case IPProtocolNumber.tcp:
            let f = p.tcpFlags.rawValue & 0x3f
            if let t = flow, t.index >= 0 {
                // Inside a tracked flow only its first packet can be a probe:
                // a SYN, or (loose pickup starts flows mid-stream) a bare ACK
                // or FIN+ACK without data.
                guard t.created else { return nil }
                switch f {
                case 0x02: return looksLikeStackSyn(p, packet: packet) ? .connect : .syn
                case 0x10 where p.payloadLength == 0: return .ack
                case 0x11 where p.payloadLength == 0: return .maimon
                default: return nil
                }
            }
            // Outside any flow: the stealth scans' flag sets.
            switch f {
            case 0x02: return looksLikeStackSyn(p, packet: packet) ? .connect : .syn
            case 0x01: return .fin
            case 0x00: return .null
            case 0x29, 0x3f: return .xmas
            case 0x10: return .ack
            case 0x11: return .maimon
            default: return nil
            }
        case IPProtocolNumber.udp:
            guard let t = flow, t.created else { return nil }
            return .udp
        default:
            return nil
        }
    }

    /// Hands a probe to the hub once its source has sent a second one to
    /// this worker: most sources open one connection (and a spoofed flood's
    /// sources one each), so most probes never take a lock. A scanner loses
    /// at most its first probe per worker to this filter.
    private mutating func scanProbe(_ p: PacketSummary, type: ScanType, now: Int64) -> Bool {
        if seenRecently(source: p.source, target: p.destination, port: p.destinationPort, type: type, now: now) {
            return false
        }
        let i = Int(truncatingIfNeeded: Self.localHash(p.source, 0x100 | UInt16(type.rawValue)) >> 52)
        var forward = false
        if probeSources[i].source != p.source || probeSources[i].type != type.rawValue {
            probeSources[i] = FirstProbe(source: p.source, target: p.destination, port: p.destinationPort,
                                         type: type.rawValue, forwarded: false)
        } else if !probeSources[i].forwarded {
            let first = probeSources[i]
            probeSources[i].forwarded = true
            forward = true
            if first.target != p.destination || first.port != p.destinationPort,
               let d = hub.scanProbe(source: p.source, target: first.target, port: first.port, type: type, now: now) {
                _ = raise(d, from: p.source, now: now)
            }
        } else {
            forward = true
        }
        guard forward,
              let d = hub.scanProbe(source: p.source, target: p.destination, port: p.destinationPort, type: type, now: now)
        else { return false }
        return raise(d, from: p.source, now: now)
    }

    /// The same source, host, port and type again within half a window
    /// changes no distinct count: a client reconnecting to a server costs
    /// the hub nothing. Records the probe; true when it was seen.
    @inline(__always)
    private mutating func seenRecently(source: IPAddress, target: IPAddress, port: UInt16, type: ScanType,
                                       now: Int64) -> Bool {
        let pair = Self.localHash(source, UInt16(type.rawValue)) ^ DetectorKey.mix(target.low ^ target.high
            ^ UInt64(port) << 48)
        let slot = Int(truncatingIfNeeded: pair >> 51)
        if recentPairs[slot].pair == pair, now &- recentPairs[slot].time < scanHalfWindow { return true }
        recentPairs[slot] = (pair, now)
        return false
    }

    /// A source's probes and their outcomes, for `holdProbe`: 8 bytes, so
    /// the table (64 KiB) stays in cache. A source is known by a 32-bit
    /// hash (two sources sharing one share counts: at worst a probe is held,
    /// or counted, when it would not have been).
    struct ProbeState {
        var tag: UInt32 = 0
        /// When the entry started, in ~4.3 s ticks (2^32 ns), wrapping
        /// (after 18 minutes: longer than the slow window's 10).
        var since: UInt8 = 0
        /// The scan type of the source's last held probe (a refusal names it).
        var type: UInt8 = 0
        /// Held probes not answered yet.
        var unresolved: UInt8 = 0
        /// Probes answered by a refusal (RST, ICMP error).
        var failures: UInt8 = 0
    }

    @inline(__always)
    static func probeTag(_ source: IPAddress) -> UInt32 {
        UInt32(truncatingIfNeeded: localHash(source, 0x301) >> 16) | 1
    }

    /// Probes a source may have held back: from the fifth unanswered or
    /// refused one within the long scan window, its probes count at once.
    static let heldProbes: UInt8 = 4

    @inline(__always)
    func stateIndex(_ source: IPAddress) -> Int {
        Int(truncatingIfNeeded: Self.localHash(source, 0x300) >> 51)
    }

    /// Holds a probe that opened a tracked flow until its answer: a
    /// connection that is answered (SYN-ACK, a UDP reply) was no probe, one
    /// refused (RST, ICMP unreachable) counts then (`answered`). Most new
    /// connections succeed, so most never reach the hub. A source with
    /// `heldProbes` probes unanswered or refused is not held any more (a scan
    /// of addresses where nothing answers counts from its fifth probe).
    /// Returns false when the probe must be counted now.
    private mutating func holdProbe(_ p: PacketSummary, type: ScanType, now: Int64) -> Bool {
        let i = stateIndex(p.source)
        let tag = Self.probeTag(p.source)
        let tick = UInt8(truncatingIfNeeded: now >> 32)
        if probeStates[i].tag != tag || Int64(tick &- probeStates[i].since) << 32 > slowWindow {
            probeStates[i] = ProbeState(tag: tag, since: tick)
        }
        guard Int(probeStates[i].unresolved) + Int(probeStates[i].failures) < Int(Self.heldProbes) else { return false }
        probeStates[i].unresolved &+= 1
        probeStates[i].type = type.rawValue
        // The flow is marked in the tracker (`Outcome.holdProbe`).
        heldNow = true
        return true
    }

    /// A reply in a flow whose first packet was held as a probe: counted if
    /// it refuses (TCP RST, an ICMP error), forgotten if it answers.
    private mutating func answered(_ p: PacketSummary, packet: UnsafeRawBufferPointer, flow t: TrackResult, now: Int64) {
        // The reply travels to the prober, from the probed port.
        var source = p.destination, target = p.source, port = p.sourcePort
        let refused: Bool
        if t.state == .related {
            // An ICMP error names the probe in the packet it quotes (a router
            // may send it: the target is the quoted destination).
            let quoted = UnsafeRawBufferPointer(rebasing: packet[min(p.payloadOffset, packet.count)...])
            guard let q = QuotedPacket(quoted, ipVersion: p.ipVersion) else { return }
            source = q.source
            target = q.destination
            port = q.destinationPort
            refused = true
        } else {
            refused = p.l4Protocol == IPProtocolNumber.tcp && p.tcpFlags.rawValue & 0x04 != 0
        }
        let i = stateIndex(source)
        guard probeStates[i].tag == Self.probeTag(source) else { return }
        if probeStates[i].unresolved > 0 { probeStates[i].unresolved -= 1 }
        guard refused, let type = ScanType(rawValue: probeStates[i].type) else { return }
        if probeStates[i].failures < .max { probeStates[i].failures += 1 }
        _ = forwardProbe(source: source, target: target, port: port, type: type, now: now, packetSource: p.source)
    }

    /// Counts a probe in the hub (unless the same one was counted within
    /// half a window). Returns true when the packet (from `packetSource`)
    /// comes from the source a resulting detection blocks.
    private mutating func forwardProbe(source: IPAddress, target: IPAddress, port: UInt16, type: ScanType, now: Int64,
                                       packetSource: IPAddress) -> Bool {
        guard !seenRecently(source: source, target: target, port: port, type: type, now: now),
              let d = hub.scanProbe(source: source, target: target, port: port, type: type, now: now) else { return false }
        return raise(d, from: packetSource, now: now)
    }

    struct FirstProbe {
        var source = DetectorKey.none
        var target = DetectorKey.none
        var port: UInt16 = 0
        var type: UInt8 = 0xff
        var forwarded = false
    }

    /// A cheap hash for this worker's direct-mapped tables (one multiply).
    @inline(__always)
    static func localHash(_ a: IPAddress, _ tag: UInt16) -> UInt64 {
        (a.low ^ (a.high &* 0x9e37_79b9_7f4a_7c15) ^ UInt64(tag) << 40) &* 0xbf58_476d_1ce4_e5b9
    }

    /// A SYN from an operating system's stack (connect()) rather than
    /// written by a scanner: stacks offer SACK and timestamps, so their SYNs
    /// carry 12 or more bytes of options beyond the MSS; half-open scanners
    /// (nmap -sS, masscan, hping3) send none or the MSS alone.
    @inline(__always)
    func looksLikeStackSyn(_ p: PacketSummary, packet: UnsafeRawBufferPointer) -> Bool {
        let offset = p.l4Offset + 12
        guard offset < packet.count else { return false }
        return Int(packet[offset] >> 4) * 4 >= 32
    }

    // MARK: Brute force

    private mutating func authPayload(_ p: PacketSummary, packet: UnsafeRawBufferPointer, flow t: TrackResult, now: Int64) {
        let toServer = t.direction == .original
        let port = toServer ? p.destinationPort : p.sourcePort
        guard let service = service(port) else { return }
        let start = min(p.payloadOffset, packet.count)
        let end = min(start + p.payloadLength, packet.count)
        guard end - start >= 3 else { return }
        let payload = UnsafeRawBufferPointer(rebasing: packet[start..<end])
        let slot = Int(t.index)
        if toServer {
            // HTTP: a request for a login path is an attempt.
            guard service == .http, slot < slotFlags.count, isLoginRequest(payload) else { return }
            slotFlags[slot] |= 1
            if let d = hub.authAttempt(source: p.source, target: p.destination, port: port, service: .http, now: now) {
                _ = raise(d, from: p.source, now: now)
            }
            return
        }
        let failed: Bool
        switch service {
        case .ftp: failed = payload.starts(with: "530".utf8)
        case .smtp: failed = payload.starts(with: "535".utf8)
        case .pop3: failed = payload.starts(with: "-ERR".utf8)
        case .imap: failed = imapNo(payload)
        case .http:
            // The reply's bytes first (in cache), the flow's flag last.
            failed = payload.count >= 12
                && payload.starts(with: "HTTP/1.".utf8) && payload[8] == 0x20 && payload[9] == UInt8(ascii: "4")
                && payload[10] == UInt8(ascii: "0") && (payload[11] == UInt8(ascii: "1") || payload[11] == UInt8(ascii: "3"))
                && slot < slotFlags.count && slotFlags[slot] & 1 != 0
        default: failed = false
        }
        guard failed else { return }
        if let d = hub.authFailure(client: p.destination, server: p.source, port: port, service: service, now: now) {
            _ = raise(d, from: p.source, now: now)
        }
    }

    /// Payload in a tracked flow whose server port is an authentication
    /// service: only that can be a login or a failed-login reply (most
    /// payload — HTTPS, anything else — is not).
    @inline(__always)
    func mayCarryLogin(_ p: PacketSummary, flow t: TrackResult) -> Bool {
        authEnabled && p.payloadLength > 0 && t.index >= 0
            && isServicePort(t.direction == .original ? p.destinationPort : p.sourcePort)
    }

    @inline(__always)
    func isServicePort(_ port: UInt16) -> Bool {
        servicePortBits[Int(port) >> 6] & (1 << (UInt64(port) & 63)) != 0
    }

    @inline(__always)
    func service(_ port: UInt16) -> AuthService? {
        guard isServicePort(port) else { return nil }
        let i = servicePorts[Int(port)]
        return i == 0 ? nil : AuthService.allCases[Int(i) - 1]
    }

    /// `METHOD /login...`: a request line whose path starts with a login path.
    func isLoginRequest(_ payload: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < payload.count, i < 10, payload[i] >= UInt8(ascii: "A"), payload[i] <= UInt8(ascii: "Z") { i += 1 }
        guard i > 0, i + 2 < payload.count, payload[i] == 0x20, loginPathStarts[Int(payload[i + 2])] else { return false }
        let path = UnsafeRawBufferPointer(rebasing: payload[(i + 1)...])
        for login in loginPaths where path.count >= login.count && path.starts(with: login) {
            // Whole segments only: /login, /login?x, /login/ — not /loginhelp.
            if path.count == login.count { return true }
            let next = path[login.count]
            if next == 0x20 || next == UInt8(ascii: "?") || next == UInt8(ascii: "/") || next == UInt8(ascii: ".") {
                return true
            }
        }
        return false
    }

    /// An IMAP tagged `NO` response: `tag NO ...`.
    func imapNo(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard let space = payload.prefix(64).firstIndex(of: 0x20), space > 0, payload[0] != UInt8(ascii: "*"),
              space + 3 < payload.count else { return false }
        return payload[space + 1] == UInt8(ascii: "N") && payload[space + 2] == UInt8(ascii: "O")
            && payload[space + 3] == 0x20
    }

    // MARK: Rates

    @inline(__always)
    private mutating func count(_ p: PacketSummary, now: Int64) {
        let klass = p.l4Protocol == IPProtocolNumber.tcp ? 0 : p.l4Protocol == IPProtocolNumber.udp ? 1 : 2
        let bytes = UInt32(truncatingIfNeeded: p.ipLength)
        let isSyn = p.l4Protocol == IPProtocolNumber.tcp && p.tcpFlags.rawValue & 0x12 == 0x02
        let isEcho = (p.l4Protocol == IPProtocolNumber.icmp && p.icmpType == 8)
            || (p.l4Protocol == IPProtocolNumber.icmpv6 && p.icmpType == 128)
        let d = rateEntry(p.destination, port: 0, role: RateRole.destination, now: now)
        rates.entries[d].count(klass, bytes: bytes)
        if isSyn { rates.entries[d].syn &+= 1 }
        if isEcho { rates.entries[d].echo &+= 1 }
        rates.lastSources[d] = p.source
        if rates.entries[d].bytesNearLimit { mergeEntry(d, now: now) }
        // Sources: most send one SYN or datagram and never reach the merge
        // floor. A small gate of counts (4 KiB, in cache) keeps them out of
        // the table until they do; then the packets the gate counted are
        // credited to the new entry (as copies of this one).
        let g = Int(truncatingIfNeeded: Self.localHash(p.source, 0x7) >> 52)
        var credit: UInt32 = 0
        var counted = true
        if sourceGate[g] < sourceGateLimit {
            sourceGate[g] &+= 1
            counted = sourceGate[g] == sourceGateLimit
            credit = UInt32(sourceGateLimit) - 1
        }
        if counted {
            let s = rateEntry(p.source, port: 0, role: RateRole.source, now: now)
            rates.entries[s].count(klass, bytes: bytes, packets: 1 &+ credit)
            if isSyn { rates.entries[s].syn &+= 1 &+ credit }
            if rates.entries[s].bytesNearLimit { mergeEntry(s, now: now) }
        }
        if isSyn {
            let dp = rateEntry(p.destination, port: p.destinationPort, role: RateRole.destinationPort, now: now)
            rates.entries[dp].syn &+= 1
            rates.lastSources[dp] = p.source
        }
    }

    /// The client's ACK completed a handshake: counted for the server.
    private mutating func completed(_ p: PacketSummary, now: Int64) {
        rates.entries[rateEntry(p.destination, port: 0, role: RateRole.destination, now: now)].completed &+= 1
        rates.entries[rateEntry(p.destination, port: p.destinationPort, role: RateRole.destinationPort, now: now)]
            .completed &+= 1
    }

    /// The index of the local entry of (`address`, `port`, `role`), taking
    /// the slot over (merging what it held) if another key has it.
    @inline(__always)
    private mutating func rateEntry(_ address: IPAddress, port: UInt16, role tag: UInt16, now: Int64) -> Int {
        // Sources in the upper half, destinations (and destination ports) in
        // the lower: the many short-lived sources of busy servers would
        // otherwise keep displacing the few busy destinations, each
        // displacement a merge into the hub.
        let role = UInt8(truncatingIfNeeded: tag)
        let h = Self.localHash(address, tag) ^ (UInt64(port) &* 0x9e37_79b9_7f4a_7c15)
        let i = Int(truncatingIfNeeded: h >> 54) & rateMask | (tag == RateRole.source ? rateMask + 1 : 0)
        if !rates.entries[i].holds(address, port: port, role: role) {
            // Displaced: a busy entry goes to the hub now; one under the
            // merge floor (a client's one SYN, a spoofed source's packet) is
            // not worth the lock.
            if !rates.entries[i].isEmpty, rates.entries[i].events >= mergeFloor { merge(i, now: now) }
            rates.entries[i] = LocalRate(high: address.high, low: address.low, port: port, role: role,
                                         isV6: address.isV6)
        }
        return i
    }

    /// Merges entry `i` now and clears its counts (keeping its key).
    private mutating func mergeEntry(_ i: Int, now: Int64) {
        merge(i, now: now)
        let e = rates.entries[i]
        rates.entries[i] = LocalRate(high: e.high, low: e.low, port: e.port, role: e.role, isV6: e.isV6)
    }

    /// Merges local rate entry `i` into the hub.
    private mutating func merge(_ i: Int, now: Int64) {
        hub.merge(rates.entries[i], lastSource: rates.lastSources[i], now: now, into: &pendingDetections)
        if !pendingDetections.isEmpty {
            for d in pendingDetections { _ = raise(d, from: nil, now: now) }
            pendingDetections.removeAll(keepingCapacity: true)
        }
    }

    /// Emits a detection; one that drops or quarantines its source takes
    /// effect here at once (other workers pick it up at their next flush).
    /// Returns true when the packet (from `packetSource`) comes from the
    /// source it blocks.
    private mutating func raise(_ detection: Detection, from packetSource: IPAddress?, now: Int64) -> Bool {
        var d = detection
        var drop = false
        if d.response.action != .alert {
            blocked[d.source] = max(blocked[d.source] ?? 0, now + d.response.seconds * 1_000_000_000)
            if packetSource == d.source {
                d.blocked = true
                drop = true
            }
        }
        raise(collected: d)
        return drop
    }

    @inline(__always)
    private mutating func raise(collected d: Detection) {
        raised.append(d)
        hasRaised = true
    }

    /// Hands the collected detections to `body`, in order, and forgets them.
    public mutating func takeRaised(_ body: (Detection) -> Void) {
        guard hasRaised else { return }
        var list: [Detection] = []
        swap(&list, &raised)
        hasRaised = false
        for d in list { body(d) }
    }

    // MARK: Flush

    /// Hands the local counts to the hub and picks up the blocked sources.
    /// Runs from `inspect` every `flushInterval`; workers also call it when idle.
    public mutating func flush(now: Int64) {
        nextFlush = now + Self.flushInterval
        mergeFloor = hub.mergeFloor
        sourceGateLimit = UInt8(min(mergeFloor, 255))
        for i in sourceGate.indices { sourceGate[i] = 0 }
        for i in 0..<rates.count where !rates.entries[i].isEmpty {
            if rates.entries[i].events >= mergeFloor { merge(i, now: now) }
            rates.entries[i] = LocalRate()
        }
        if anomalyCounts.contains(where: { $0 != 0 }) || blockedPackets != 0 || anomalyDrops != 0 {
            let hub = self.hub, blocked = blockedPackets, drops = anomalyDrops
            anomalyCounts.withUnsafeMutableBufferPointer { buffer in
                hub.addCounters(anomalies: buffer, blockedPackets: blocked, anomalyDrops: drops)
            }
            blockedPackets = 0
            anomalyDrops = 0
        }
        let generation = hub.blockGeneration
        if generation != blockGeneration {
            blockGeneration = generation
            blocked = hub.blockedSources(now: now)
        } else if !blocked.isEmpty {
            blocked = blocked.filter { $0.value > now }
        }
    }
}
