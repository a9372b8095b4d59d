import CSocfwNetlink
import Foundation
import Glibc
import Logging
import SocfwCore
import SocfwIDS
import SocfwStore
import SocfwWire
import Synchronization

/// socfwd's inline mode: binds the queues, installs the nftables table,
/// runs one worker thread per queue, writes events and stats, reloads rules
/// on request and removes exactly what it installed when stopped.
public final class InlineEngine: Sendable {
    /// The configuration in force: as read at start, with the settings a
    /// reload applies (`reloadConfig`).
    public var config: SocfwConfig { configBox.withLock { $0 } }
    private let configBox: Mutex<SocfwConfig>
    public let rules: RuleSnapshot
    public let ruleHits: RuleHitTotals
    /// Lists and edits the managed file of the rules directory.
    public let ruleManager: RuleManager
    /// Alerts with their acknowledgement (control socket), persisted once
    /// `alerts.attach(store:writer:)` is called: the output thread enqueues
    /// rows for the writer thread, never waits; a full queue is counted.
    public let alerts = AlertBook()
    /// Recent `alerts.list` pages, valid until the next alert or acknowledgement.
    let alertPages = AlertPageCache()
    private let quarantineBox = Mutex<QuarantineManager?>(nil)
    private let storeBox = Mutex<SocfwStore?>(nil)

    /// The database (nil: unavailable): alerts, quarantine, audit, API tokens.
    public var store: SocfwStore? {
        get { storeBox.withLock { $0 } }
        set { storeBox.withLock { $0 = newValue } }
    }

    /// Where QUARANTINE rules send their sources (nil: quarantine unavailable).
    public var quarantine: QuarantineManager? {
        get { quarantineBox.withLock { $0 } }
        set { quarantineBox.withLock { $0 = newValue } }
    }
    private let alertObserver = Mutex<(@Sendable (AlertRecord) -> Void)?>(nil)
    private let reloadObserver = Mutex<(@Sendable (Result<RuleReload, ConfigError>) -> Void)?>(nil)
    /// One reload at a time (SIGHUP and the control socket may race).
    private let reloading = Mutex<Void>(())
    public let events: EventQueue
    private let logger: Logger
    private let workers: Mutex<[QueueWorker]> = Mutex([])
    /// Per-queue packet and bit rates over the last second, sampled by the
    /// output thread (so `stats` callers need not poll twice).
    private let rates = Mutex<QueueRates>(QueueRates())

    struct QueueRates {
        var at: UInt64 = 0
        var packets: [Int: UInt64] = [:]
        var bytes: [Int: UInt64] = [:]
        var packetsPerSecond: [Int: Double] = [:]
        var bitsPerSecond: [Int: Double] = [:]
    }
    private let state: Mutex<RuntimeState> = Mutex(RuntimeState())
    private let outputStopping = Atomic<Bool>(false)
    private let outputFinished = Atomic<Bool>(false)

    struct RuntimeState {
        var installer: NftablesInstaller?
        var bridge: BridgeNetfilter?
        var diversion: Diversion?
    }

    /// IDS signatures in force (nil when `signatures.enabled` is false).
    public let signatures: Snapshot<SignatureSet>?
    private let signatureReport = Mutex<SignatureLoad.Report?>(nil)
    /// Matches per signature over the workers (published once a second).
    public let signatureHits = SignatureHitTotals()
    /// The behavioural detectors' shared state (nil when `detection.enabled` is false).
    public let detectorHub: DetectorHub?

    public init(config: SocfwConfig, ruleSet: RuleSet, signatures: SignatureLoad? = nil, logger: Logger) {
        self.configBox = Mutex(config)
        self.rules = RuleSnapshot(ruleSet)
        self.signatures = signatures.map { Snapshot($0.set) }
        self.signatureReport.withLock { $0 = signatures?.report }
        self.ruleHits = RuleHitTotals()
        self.detectorHub = config.detection.enabled ? DetectorHub(config: config.detection) : nil
        self.ruleManager = RuleManager(rulesDirectory: config.rulesPath)
        self.events = EventQueue(capacity: 65536)
        self.logger = logger
    }

    /// Brings everything up. On failure, what was already set up is undone.
    /// `quarantine`: the set elements to create the table with (from the
    /// database), so a restart never lets a quarantined host through.
    public func start(statsIntervalSeconds: Double,
                      quarantine: [(IPPrefix, timeoutMilliseconds: UInt64?)] = []) throws -> Diversion {
        let eve: EveWriter? = try config.evePath.map { (path) throws(ConfigError) in try EveWriter(path: path) }
        var bridge: BridgeNetfilter? = nil
        if config.mode == .bridge {
            var b = BridgeNetfilter()
            try b.enable()
            bridge = b
        }
        let rejecter = config.mode == .bridge ? try BridgeRejecter() : nil
        // Queues are bound before the queue rule exists, so a fail-closed
        // ruleset never has a moment with a rule and nobody to answer it.
        var bound: [QueueWorker] = []
        // The stream memcap is for socfwd as a whole, like max_connections: each worker gets a share.
        var inspection = config.signatures.inspectionConfig
        inspection.stream.memcapBytes = max(1 << 20, inspection.stream.memcapBytes / config.queues.count)
        do {
            for q in config.queues.first..<(config.queues.first + config.queues.count) {
                bound.append(try QueueWorker(queue: q, config: config, rules: rules, ruleHits: ruleHits, events: events,
                                           rejecter: rejecter, signatures: signatures,
                                           inspection: inspection, signatureHits: signatureHits,
                                           detectors: detectorHub))
            }
        } catch {
            bound.forEach { $0.stop() }
            bridge?.restore()
            throw error
        }
        bound.forEach { $0.start() }
        workers.withLock { $0 = bound }
        let installer = NftablesInstaller(config: config, quarantine: quarantine)
        let diversion: Diversion
        do {
            diversion = try installer.install()
        } catch {
            bound.forEach { $0.stop() }
            bridge?.restore()
            throw error
        }
        state.withLock {
            $0.installer = installer
            $0.bridge = bridge
            $0.diversion = diversion
        }
        startOutputThread(eve: eve, statsIntervalSeconds: statsIntervalSeconds)
        if config.conntrack.bypass.enabled { startConntrackEventThread(workers: bound) }
        return diversion
    }

    /// Clean stop: remove the table (traffic no longer diverted), stop the
    /// workers, restore br_netfilter switches, flush outputs.
    public func stop() {
        // The kernel's per-queue rows disappear when the queues are unbound.
        let kernel = kernelCounters()
        let s = state.withLock { $0 }
        if let installer = s.installer {
            do {
                try installer.remove()
            } catch {
                logger.error("\(error)")
            }
        }
        let all = workers.withLock { $0 }
        all.forEach { $0.stop() }
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline && !all.allSatisfy(\.isFinished) { usleep(10_000) }
        s.bridge?.restore()
        outputStopping.store(true, ordering: .relaxed)
        let outDeadline = Date().addingTimeInterval(2)
        while Date() < outDeadline && !outputFinished.load(ordering: .acquiring) { usleep(10_000) }
        logger.info("stopped stats=\(statsJSON(kernel: kernel))")
    }

    /// Re-reads the configuration file (SIGHUP, control socket `reload`):
    /// what socfwd reads as it goes is applied (default action, signature
    /// sources, signature quarantine, quarantine policy); what it built at
    /// start is reported as needing a restart and stays as it is. A file
    /// with an error changes nothing and is returned.
    @discardableResult
    public func reloadConfig() -> Result<ConfigReload, ConfigError> {
        reloading.withLock { _ in
            let running = config
            let new: SocfwConfig
            do throws(ConfigError) { new = try SocfwConfig.load(file: running.sourceFile) } catch {
                logger.error("configuration reload refused, the running configuration stays in force: \(error)")
                return .failure(error)
            }
            let change = ConfigReload(running: running, new: new)
            configBox.withLock { $0 = change.merged }
            if change.applied.contains(where: { $0.hasPrefix("quarantine.") }), let quarantine {
                var policy = change.merged.quarantine.policy
                policy.allowlist += HostAddresses.protected()
                quarantine.updatePolicy(policy)
            }
            if change.applied.isEmpty && change.restartRequired.isEmpty {
                logger.info("configuration \(running.sourceFile) reloaded: unchanged")
            } else {
                let waiting = change.restartRequired.isEmpty
                    ? "" : "; changed but in force only after a restart: [\(change.restartRequired.joined(separator: ", "))]"
                logger.notice("configuration \(running.sourceFile) reloaded: applied [\(change.applied.joined(separator: ", "))]\(waiting)")
            }
            return .success(change)
        }
    }

    /// Reloads the rules from the configured path (SIGHUP, control socket).
    /// Parsing and compiling happen on the caller's thread; the workers pick
    /// the new rules up between batches. A bad file leaves the running rules
    /// in force and is returned (file, line, column, field).
    @discardableResult
    public func reloadRules() -> Result<RuleReload, ConfigError> {
        reloading.withLock { _ in
            ruleHits.foldRetired()
            let result = RuleReload.perform(path: config.rulesPath, defaultAction: config.defaultAction, into: rules)
            logReload(result)
            return result
        }
    }

    /// Reloads the signatures (SIGHUP, control socket `reload`): loaded and
    /// compiled on the caller's thread, swapped in between batches. A seed
    /// file with an error, an unreadable rules file or a prefilter that does
    /// not compile leaves the running set in force; Suricata / Snort rules
    /// with unsupported keywords are skipped and reported.
    @discardableResult
    public func reloadSignatures() -> Result<SignatureLoad.Report, ConfigError>? {
        guard let signatures else { return nil }
        return reloading.withLock { _ in
            switch SignatureLoader.load(config.signatures) {
            case .success(let loaded):
                signatures.replace(loaded.set)
                signatureReport.withLock { $0 = loaded.report }
                logger.info("signatures reloaded \(loaded.report.summaryLine)")
                return .success(loaded.report)
            case .failure(let error):
                logger.error("signatures reload refused, previous signatures stay in force: \(error)")
                return .failure(error)
            }
        }
    }

    /// The load report of the signatures in force.
    public var signatureLoadReport: SignatureLoad.Report? { signatureReport.withLock { $0 } }

    /// Rule management (control socket, API): `change` edits the managed
    /// rules file through `RuleManager` and returns the directory's new rules,
    /// which are compiled and swapped in like a reload. A refused change
    /// leaves the file and the running rules as they were.
    public func changeRules(_ change: (RuleManager) throws(ConfigError) -> [Rule]) -> Result<RuleReload, ConfigError> {
        reloading.withLock { _ in
            ruleHits.foldRetired()
            let t0 = monotonicNanoseconds()
            let result = Result { () throws(ConfigError) -> RuleReload in
                let rules = try change(ruleManager)
                return RuleReload.install(rules, defaultAction: config.defaultAction, into: self.rules,
                                          parseNanoseconds: monotonicNanoseconds() - t0)
            }
            logReload(result)
            return result
        }
    }

    /// Called after every reload or rules change, applied or refused (the
    /// control socket's `reloads` topic).
    public var onReload: (@Sendable (Result<RuleReload, ConfigError>) -> Void)? {
        get { reloadObserver.withLock { $0 } }
        set { reloadObserver.withLock { $0 = newValue } }
    }

    private let tokenObserver = Mutex<(@Sendable (String, APITokenRecord) -> Void)?>(nil)

    /// Called when an API token is created or revoked (the control socket's `tokens` topic).
    public var onTokenChange: (@Sendable (String, APITokenRecord) -> Void)? {
        get { tokenObserver.withLock { $0 } }
        set { tokenObserver.withLock { $0 = newValue } }
    }

    /// Called on the output thread for every alert (the control socket's `alerts` topic).
    public var onAlert: (@Sendable (AlertRecord) -> Void)? {
        get { alertObserver.withLock { $0 } }
        set { alertObserver.withLock { $0 = newValue } }
    }

    private func logReload(_ result: Result<RuleReload, ConfigError>) {
        defer { onReload?(result) }
            switch result {
            case let .success(r):
                logger.info("rules reloaded", metadata: [
                    "rules": "\(r.enabledRules)", "loaded": "\(r.loadedRules)", "path": "\(config.rulesPath)",
                    "parse_ms": "\(r.parseMilliseconds)", "compile_ms": "\(r.compileMilliseconds)",
                ])
            case let .failure(error):
                logger.error("rules reload refused, previous rules stay in force: \(error)")
            }
    }

    /// The rules in force with their hit counters (summed over workers,
    /// kept across reloads by rule name; workers publish once a second).
    public func ruleStatistics() -> [(rule: Rule, hits: RuleHit)] {
        let (set, _) = rules.load()
        return Array(zip(set.rules, ruleHits.totals(for: set))).map { (rule: $0.0, hits: $0.1) }
    }

    /// Connections of every worker matching `filter`, largest first. Each
    /// worker answers between two batches (within its 200 ms idle timeout).
    public func connections(filter: ConnectionFilter = ConnectionFilter(), limit: Int) -> [ConnectionSummary] {
        let all = workers.withLock { $0 }
        all.forEach { $0.requestSnapshot(filter: filter, limit: limit) }
        var results: [[ConnectionSummary]?] = Array(repeating: nil, count: all.count)
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline && results.contains(where: { $0 == nil }) {
            for (i, w) in all.enumerated() where results[i] == nil { results[i] = w.takeSnapshot() }
            if results.contains(where: { $0 == nil }) { usleep(5_000) }
        }
        let merged = results.compactMap { $0 }.flatMap { $0 }
            .sorted(by: ConnectionSummary.largestFirst)
        return Array(merged.prefix(limit))
    }

    /// How traffic reaches the queues, once started.
    public var runningDiversion: Diversion? { state.withLock { $0.diversion } }

    public func workerStats() -> [WorkerStats.Values] { workers.withLock { $0.map { $0.stats.snapshot() } } }

    public func kernelCounters() -> [KernelQueueCounters] {
        let range = config.queues.first..<(config.queues.first + config.queues.count)
        return KernelQueueCounters.parse(readSmallFile("/proc/net/netfilter/nfnetlink_queue") ?? "")
            .filter { range.contains($0.queue) }
    }

    /// One JSON object with per-queue and total counters, engine and kernel.
    public func statsJSON(kernel kernelRows: [KernelQueueCounters]? = nil) -> String {
        let stats = workerStats()
        let kernel = Dictionary((kernelRows ?? kernelCounters()).map { ($0.queue, $0) }, uniquingKeysWith: { a, _ in a })
        var total = WorkerStats.Values()
        for v in stats {
            total.flowsActive += v.flowsActive; total.flowsNew += v.flowsNew; total.flowsClosed += v.flowsClosed
            total.flowsExpired += v.flowsExpired; total.flowsInvalid += v.flowsInvalid
            total.flowsEarlyDropped += v.flowsEarlyDropped; total.flowsBypassed += v.flowsBypassed
            total.bypassVerdicts += v.bypassVerdicts
        }
        var perQueue: [String] = []
        let r = rates.withLock { $0 }
        var totalPPS = 0.0, totalBPS = 0.0
        for v in stats {
            let pps = r.packetsPerSecond[v.queue] ?? 0, bps = r.bitsPerSecond[v.queue] ?? 0
            totalPPS += pps
            totalBPS += bps
            total.packets += v.packets; total.accepted += v.accepted; total.dropped += v.dropped
            total.rejected += v.rejected; total.malformed += v.malformed; total.events += v.events
            total.bytes += v.bytes
            let k = kernel[v.queue]
            perQueue.append("{\"queue\":\(v.queue),\"packets\":\(v.packets),\"accepted\":\(v.accepted),\"dropped\":\(v.dropped)"
                + ",\"rejected\":\(v.rejected),\"malformed\":\(v.malformed),\"batches\":\(v.batches)"
                + ",\"verdict_messages\":\(v.verdictMessages),\"gso\":\(v.gsoPackets),\"netlink_errors\":\(v.netlinkErrors)"
                + ",\"kernel_waiting\":\(k?.waiting ?? 0),\"kernel_queue_dropped\":\(k?.queueDropped ?? 0)"
                + ",\"kernel_user_dropped\":\(k?.userDropped ?? 0)"
                + ",\"packets_per_second\":\(Int(pps.rounded())),\"bits_per_second\":\(Int(bps.rounded()))}")
        }
        return "{\"packets\":\(total.packets),\"bytes\":\(total.bytes),\"accepted\":\(total.accepted),\"dropped\":\(total.dropped)"
            + ",\"rejected\":\(total.rejected),\"malformed\":\(total.malformed),\"events\":\(total.events)"
            + ",\"events_lost\":\(events.lostCount),\"bypass_verdicts\":\(total.bypassVerdicts)"
            + ",\"packets_per_second\":\(Int(totalPPS.rounded())),\"bits_per_second\":\(Int(totalBPS.rounded()))"
            + ",\"flows\":{\"active\":\(total.flowsActive),\"new\":\(total.flowsNew),\"closed\":\(total.flowsClosed)"
            + ",\"expired\":\(total.flowsExpired),\"invalid\":\(total.flowsInvalid),\"early_dropped\":\(total.flowsEarlyDropped)"
            + ",\"bypassed\":\(total.flowsBypassed)}"
            + ",\"queues\":[\(perQueue.joined(separator: ","))]}"
    }

    /// Takes a rate sample when a second has passed since the last one.
    private func sampleRates() {
        let now = DispatchTime.now().uptimeNanoseconds
        guard rates.withLock({ now &- $0.at >= 1_000_000_000 }) else { return }
        let stats = workerStats()
        rates.withLock { r in
            let seconds = Double(now &- r.at) / 1e9
            for v in stats {
                if r.at != 0, let p = r.packets[v.queue], let b = r.bytes[v.queue] {
                    r.packetsPerSecond[v.queue] = Double(v.packets &- p) / seconds
                    r.bitsPerSecond[v.queue] = Double(v.bytes &- b) * 8 / seconds
                }
                r.packets[v.queue] = v.packets
                r.bytes[v.queue] = v.bytes
            }
            r.at = now
        }
    }

    /// Bypassed flows never reach the queues again: the kernel's conntrack
    /// DESTROY events tell socfwd when they end. The owning worker is not
    /// known here (the kernel's queue hash is internal), so each worker gets
    /// the keys and ignores those it does not hold.
    private func startConntrackEventThread(workers: [QueueWorker]) {
        var err = [CChar](repeating: 0, count: 256)
        guard let handle = socfw_ct_events_open(200, &err, err.count) else {
            logger.warning("bypassed flows will end in socfwd by timeout only: \(String(cMessage: err))")
            return
        }
        nonisolated(unsafe) let ct = handle  // used by the event thread only
        let mask = config.marks.mask
        let bypass = config.marks.bypass
        let logger = self.logger
        let thread = Thread { [self] in
            var buffer = [socfw_ct_event](repeating: socfw_ct_event(), count: 64)
            var lost = false
            while !self.outputStopping.load(ordering: .relaxed) {
                let n = socfw_ct_events_receive(ct, &buffer, Int32(buffer.count))
                if n == -ENOBUFS && !lost {
                    lost = true
                    logger.warning("conntrack destroy events were lost (socket buffer full); affected bypassed flows end by timeout")
                }
                guard n > 0 else { continue }
                let keys = buffer.prefix(Int(n)).filter { $0.mark & mask == bypass }.map(FlowKey.init(event:))
                if !keys.isEmpty { workers.forEach { $0.kernelDestroyed(keys) } }
            }
            socfw_ct_events_close(ct)
        }
        thread.name = "socfw-ct-events"
        thread.start()
    }

    private func startOutputThread(eve: EveWriter?, statsIntervalSeconds: Double) {
        let logger = self.logger
        // The writer lives on this thread only.
        nonisolated(unsafe) let eveWriter = eve
        let thread = Thread { [self] in
            var limiter = LogLimiter(perSecond: 20)
            var lastStats = Date()
            while true {
                let stopping = self.outputStopping.load(ordering: .relaxed)
                let batch = self.events.drain()
                let alertObserver = self.onAlert
                let quarantine = self.quarantine
                let signatureQuarantine = self.config.signatures.quarantine
                for e in batch {
                    let line = EveJSON.line(for: e)
                    eveWriter?.write(line: line)
                    if let q = Self.quarantineRequest(for: e, signatures: signatureQuarantine) {
                        if let quarantine {
                            quarantine.request(q.address, reason: q.reason, source: q.source, actor: q.actor, seconds: q.seconds)
                        } else if limiter.allow(Date()) {
                            let own = q.source == .detector ? "; socfwd drops it itself for \(q.seconds ?? 0) s" : ""
                            logger.warning("\(q.actor) asks to quarantine \(q.address), but quarantine is unavailable (see the start log)\(own)")
                        }
                    }
                    if e.kind == .alert {
                        alertObserver?(self.alerts.append(Self.alertRecord(for: e, eve: line)))
                    }
                    if limiter.allow(Date()) {
                        logger.info("\(Self.describe(e))")
                    }
                }
                if let suppressed = limiter.takeSuppressed() {
                    logger.info("\(suppressed) more events not logged (see the EVE file)")
                }
                eveWriter?.flush()
                self.sampleRates()
                if statsIntervalSeconds > 0 && Date().timeIntervalSince(lastStats) >= statsIntervalSeconds {
                    lastStats = Date()
                    logger.info("stats \(self.statsJSON())")
                }
                if stopping { break }
                self.events.wait(milliseconds: 50)
            }
            self.outputFinished.store(true, ordering: .releasing)
        }
        thread.name = "socfw-output"
        thread.start()
    }

    /// What an event asks the quarantine manager for: a QUARANTINE rule's
    /// drop, or a detection whose response is quarantine.
    static func quarantineRequest(for e: Event, signatures: SignatureQuarantine)
        -> (address: IPAddress, reason: String, source: QuarantineSource, actor: String, seconds: Int64?)? {
        if let d = e.detection, d.response.action == .quarantine {
            return (d.source, d.title, .detector, "detector:\(d.kind.rawValue)", d.response.seconds)
        }
        if let hit = e.signature, signatures.isEnabled,
           let attacker = signatures.target(for: hit, packet: e.packet, toServer: e.toServer) {
            return (attacker, "signature \(hit.info.sid): \(hit.info.message)", .rule, "signature:\(hit.info.sid)",
                    signatures.seconds)
        }
        if e.ruleAction == .quarantine, e.kind == .drop {
            let rule = e.ruleName ?? "?"
            return (e.packet.source, "rule \(rule)", .rule, "rule:\(rule)", nil)
        }
        return nil
    }

    /// The alerts-table row of an alert event (`eve`: its EVE line): a
    /// detection, a signature, or an ALERT rule.
    static func alertRecord(for e: Event, eve: String) -> AlertRecord {
        let p = e.packet
        let flow = "\(EveJSON.protoName(p.l4Protocol)) \(p.source):\(p.sourcePort) -> \(p.destination):\(p.destinationPort)"
        if let d = e.detection {
            return AlertRecord(timestamp: e.timestampNanoseconds, source: d.kind == .anomaly ? "anomaly" : "detector",
                               severity: d.severity, title: d.title, message: describe(d),
                               signatureID: Int64(d.signatureID), srcIP: "\(d.source)", dstIP: d.target.map { "\($0)" },
                               eve: eve)
        }
        if let hit = e.signature {
            return AlertRecord(timestamp: e.timestampNanoseconds, source: "signature", severity: hit.info.priority,
                               title: hit.info.message, message: flow + (hit.blocked ? " blocked" : ""),
                               signatureID: Int64(hit.info.sid), srcIP: "\(p.source)", dstIP: "\(p.destination)", eve: eve)
        }
        return AlertRecord(timestamp: e.timestampNanoseconds, source: "rule", severity: 2, title: e.ruleName ?? "alert",
                           message: flow, signatureID: e.ruleID.map(Int64.init), srcIP: "\(p.source)",
                           dstIP: "\(p.destination)", eve: eve)
    }

    /// One line of evidence for a detection (alert message, log).
    static func describe(_ d: Detection) -> String {
        var s = "\(d.kind.rawValue) source=\(d.source)"
        if let t = d.target { s += " target=\(t)" }
        if let p = d.port { s += " port=\(p)" }
        for (k, v) in d.labels { s += " \(k)=\(v)" }
        for (k, v) in d.figures { s += " \(k)=\(v)" }
        if d.response.action != .alert { s += " response=\(d.response.action.rawValue) for \(d.response.seconds) s" }
        return s
    }

    static func describe(_ e: Event) -> String {
        if let d = e.detection { return "event=alert detection=\"\(d.title)\" " + describe(d) }
        let p = e.packet
        var s = "event=\(e.kind.rawValue) verdict=\(e.verdict.name)"
        if let name = e.ruleName { s += " rule=\(name)" }
        if let hit = e.signature {
            s += " sid=\(hit.info.sid) signature=\"\(hit.info.message)\" action=\(hit.blocked ? "blocked" : "allowed")"
        }
        if let reason = e.reason { s += " reason=\(reason)" }
        s += " proto=\(EveJSON.protoName(p.l4Protocol))"
        if p.l4Parsed && (p.l4Protocol == 6 || p.l4Protocol == 17) {
            s += p.ipVersion == 6 ? " src=[\(p.source)]:\(p.sourcePort) dst=[\(p.destination)]:\(p.destinationPort)"
                : " src=\(p.source):\(p.sourcePort) dst=\(p.destination):\(p.destinationPort)"
        } else {
            s += " src=\(p.source) dst=\(p.destination)"
        }
        return s
    }
}

/// Bounds log lines per second; the EVE file still gets every event.
struct LogLimiter {
    let perSecond: Int
    var windowStart = Date()
    var count = 0
    var suppressed = 0

    init(perSecond: Int) { self.perSecond = perSecond }

    mutating func allow(_ now: Date) -> Bool {
        if now.timeIntervalSince(windowStart) >= 1 {
            windowStart = now
            count = 0
        }
        count += 1
        if count <= perSecond { return true }
        suppressed += 1
        return false
    }

    mutating func takeSuppressed() -> Int? {
        guard suppressed > 0, Date().timeIntervalSince(windowStart) >= 1 else { return nil }
        defer { suppressed = 0 }
        return suppressed
    }
}

extension FlowKey {
    init(event e: socfw_ct_event) {
        func address(_ bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                               UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8), v6: Bool) -> IPAddress {
            withUnsafeBytes(of: bytes) { IPAddress(networkOrder: $0, v6: v6) }
        }
        let v6 = e.family == 10
        self.init(source: address(e.source, v6: v6), sourcePort: e.source_port,
                  destination: address(e.destination, v6: v6), destinationPort: e.destination_port,
                  protocolNumber: e.protocol)
    }
}
