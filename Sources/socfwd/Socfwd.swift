import ArgumentParser
import Dispatch
import Foundation
import Logging
import SocfwCapture
import SocfwCore
import SocfwIDS
import SocfwKernel
import SocfwStore

@main
struct Socfwd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socfwd",
        abstract: "socfw's inline verdict engine: inspects NFQUEUE traffic and answers ACCEPT, DROP or REJECT.",
        discussion: """
            Without --pcap or --check-config, socfwd binds its queues, installs `table inet socfw` \
            and inspects traffic until SIGINT/SIGTERM (SIGHUP reloads the configuration, rules and signatures). \
            SIGUSR1 logs the 50 largest tracked connections. \
            See Docs/configuration.md for the configuration file.
            """,
        version: SocfwVersion.string
    )

    @Option(name: .long, help: "Configuration file.")
    var config: String?

    @Option(name: .long, help: "Rules file or directory (overrides the configuration's `rules`).")
    var rules: String?

    @Flag(name: .long, help: "Validate the configuration and rules, print a summary, and exit (non-zero on error).")
    var checkConfig = false

    @Option(name: .long, help: "Replay a pcap or pcapng capture through the pipeline offline and print a JSON summary.")
    var pcap: String?

    @Option(name: .long, help: "Write EVE JSON events to this file (overrides the configuration's `eve`).")
    var eve: String?

    @Flag(name: .long, help: "Print the nftables table socfwd would install for this configuration, and exit.")
    var printRuleset = false

    @Option(name: .long, help: "Seconds between stats lines in the log (0 disables).")
    var statsInterval: Double = 10

    @Flag(name: .long, help: "Check the audit log's hash chain in the database and exit (0 intact, 1 broken).")
    var verifyAudit = false

    @Option(name: .long, help: "Signature files or directories (.rules Suricata/Snort 3, .yaml seed format); repeatable, replaces the configuration's signatures.paths.")
    var signatures: [String] = []

    @Flag(name: .long, help: "Print the built-in default signatures (seed YAML format) and exit.")
    var defaultSignatures = false

    @Flag(name: .long, help: "With --check-config: print the signature load report as JSON.")
    var json = false

    mutating func run() throws {
        if defaultSignatures {
            print(DefaultSignatures.yaml, terminator: "")
            return
        }
        let configuration: SocfwConfig
        let ruleSet: RuleSet
        let signatureLoad: SignatureLoad?
        switch loadConfiguration() {
        case .success(let loaded):
            (configuration, ruleSet, signatureLoad) = loaded
        case .failure(let error):
            FileHandle.standardError.write(Data("socfwd: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }

        if printRuleset {
            print(NftRuleset(config: configuration).definition, terminator: "")
            return
        }
        if verifyAudit {
            do {
                let store = try SocfwStore(path: configuration.quarantine.database)
                let verdict = try store.verifyAudit()
                print("\(configuration.quarantine.database): audit log \(verdict)")
                if case .broken = verdict { throw ExitCode(1) }
            } catch let error as StoreError {
                FileHandle.standardError.write(Data("socfwd: \(error)\n".utf8))
                throw ExitCode(1)
            }
            return
        }
        if checkConfig && json {
            print(signatureLoad?.report.json ?? "{\"enabled\":false}")
            return
        }
        if checkConfig {
            if let report = signatureLoad?.report { print(report.text, terminator: "") }
            print("configuration OK: \(configuration.sourceFile): mode \(configuration.mode.rawValue), "
                + "\(configuration.queues.count) queue(s) from \(configuration.queues.first), "
                + "\(ruleSet.loadedCount) rule(s) (\(ruleSet.rules.count) enabled) from \(configuration.rulesPath), "
                + "default action \(configuration.defaultAction.rawValue)")
            return
        }
        if let pcap {
            try replay(pcap, configuration: configuration, ruleSet: ruleSet, signatures: signatureLoad)
            return
        }
        try runInline(configuration: configuration, ruleSet: ruleSet, signatures: signatureLoad)
    }

    func loadConfiguration() -> Result<(SocfwConfig, RuleSet, SignatureLoad?), ConfigError> {
        Result { () throws(ConfigError) -> (SocfwConfig, RuleSet, SignatureLoad?) in
            var c: SocfwConfig
            if let path = config {
                c = try SocfwConfig.load(file: path)
            } else if pcap == nil && FileManager.default.fileExists(atPath: SocfwConfig.defaultPath) {
                c = try SocfwConfig.load(file: SocfwConfig.defaultPath)
            } else {
                c = SocfwConfig()
            }
            if let r = rules { c.rulesPath = r }
            if let e = eve { c.evePath = e }
            // With built-in defaults and no rules installed, only the default action applies.
            let implicitRules = rules == nil && config == nil && !FileManager.default.fileExists(atPath: c.rulesPath)
            let loaded = implicitRules ? [] : try RulesLoader.load(path: c.rulesPath)
            if !signatures.isEmpty { c.signatures.paths = signatures }
            let signatureLoad = c.signatures.enabled ? try SignatureLoader.load(c.signatures).get() : nil
            return (c, RuleSet(rules: loaded, defaultAction: c.defaultAction), signatureLoad)
        }
    }

    func replay(_ path: String, configuration: SocfwConfig, ruleSet: RuleSet, signatures: SignatureLoad?) throws {
        do {
            let capture = try CaptureFile(path: path)
            let writer = try configuration.evePath.map { (p) throws(ConfigError) in try EveWriter(path: p) }
            var pipeline = Pipeline(ruleSet: ruleSet, malformedAction: configuration.malformedAction,
                                    conntrack: configuration.conntrack,
                                    connectionCapacity: configuration.conntrack.maxConnections)
            if let signatures {
                pipeline.installSignatures(signatures.set, config: configuration.signatures.inspectionConfig,
                                           flowCapacity: configuration.conntrack.maxConnections)
            }
            if configuration.detection.enabled {
                pipeline.installDetectors(hub: DetectorHub(config: configuration.detection),
                                          flowCapacity: configuration.conntrack.maxConnections)
            }
            let summary = try OfflineReplay.run(capture: capture, name: path, pipeline: &pipeline, eve: writer)
            print(summary.json)
        } catch let error as CaptureError {
            FileHandle.standardError.write(Data("socfwd: \(path): \(error)\n".utf8))
            throw ExitCode(65)  // EX_DATAERR
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("socfwd: \(error)\n".utf8))
            throw ExitCode(73)  // EX_CANTCREAT
        }
    }

    func runInline(configuration: SocfwConfig, ruleSet: RuleSet, signatures: SignatureLoad?) throws {
        let level = Logger.Level(rawValue: configuration.logLevel.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "socfwd")
        let engine = InlineEngine(config: configuration, ruleSet: ruleSet, signatures: signatures, logger: logger)
        if let report = signatures?.report {
            logger.info("signatures \(report.summaryLine)")
            let top = report.skippedByKeyword.sorted { $0.value > $1.value }.prefix(10)
            if !top.isEmpty {
                let list = top.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                logger.info("signatures skipped per keyword (top 10; socfwd --check-config lists all): \(list)")
            }
        } else {
            logger.info("signatures disabled (signatures.enabled: false)")
        }
        // Quarantine: the database is the source of truth, the kernel's sets
        // enforce it; the table is created with the active elements in it.
        var store: SocfwStore? = nil
        do {
            store = try SocfwStore(path: configuration.quarantine.database)
        } catch {
            logger.error("quarantine unavailable: \(error)")
        }
        let initial = store.map { QuarantineManager.initialElements(store: $0, logger: logger) } ?? []
        let diversion: Diversion
        do {
            diversion = try engine.start(statsIntervalSeconds: statsInterval, quarantine: initial)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        var quarantine: QuarantineManager? = nil
        if let store {
            do {
                let sets = try NftSetClient(table: configuration.nftables.table, logger: logger)
                var policy = configuration.quarantine.policy
                policy.allowlist += HostAddresses.protected()
                let manager = QuarantineManager(store: store, sets: sets, policy: policy, logger: logger)
                let (active, added, removed) = try manager.start()
                logger.info("quarantine: \(active) active in \(store.path) (\(initial.count) set elements at install; reconcile added \(added), removed \(removed))")
                engine.quarantine = manager
                try engine.alerts.attach(store: store, writer: StoreWriter(store: store, onError: { error in
                    logger.error("alerts database: \(error)")
                }))
                engine.store = store
                quarantine = manager
            } catch {
                logger.error("quarantine unavailable: \(error)")
            }
        }
        let expiryTimer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        expiryTimer.schedule(deadline: .now() + 1, repeating: 1)
        expiryTimer.setEventHandler { quarantine?.expire() }
        expiryTimer.resume()

        var control: ControlServer? = nil
        if let path = configuration.control.socket {
            let server = ControlServer(path: path, methods: engine.controlMethods(startedAt: Date(), version: SocfwVersion.string),
                                       config: configuration.control, version: SocfwVersion.string, logger: logger,
                                       stats: { .raw(engine.statsJSON()) },
                                       audit: { [quarantine] method, actor, params in
                                           // Quarantine changes are audited by the manager itself, with the row.
                                           guard !method.hasPrefix("quarantine.") else { return }
                                           quarantine?.audit(actor: actor, action: method, details: params)
                                       })
            do {
                try server.start()
                control = server
                logger.info("control socket \(path) (read: root and group \(configuration.control.group); changes: root and group \(configuration.control.adminGroup))")
            } catch {
                // Inspection goes on without it: refusing to start would take the firewall down for a CLI.
                logger.error("no control socket: \(error)")
            }
        }
        let publisher = control
        let auditor = quarantine
        quarantine?.onChange = { what, record in
            publisher?.publish(topic: "quarantine", event: "quarantine", data: .object([("change", .string(what)), ("record", record.json)]))
        }
        engine.onAlert = { entry in
            publisher?.publish(topic: "alerts", event: "alert", data: InlineEngine.alertJSON(entry))
        }
        engine.onTokenChange = { change, token in
            publisher?.publish(topic: "tokens", event: "token", data: .object([
                ("change", .string(change)), ("name", .string(token.name))]))
        }
        engine.onReload = { result in
            if case let .success(r) = result {
                auditor?.audit(actor: "socfwd", action: "rules-reload", details: .object([
                    ("loaded", .int(Int64(r.loadedRules))), ("enabled", .int(Int64(r.enabledRules))),
                    ("generation", .int(Int64(r.generation))), ("path", .string(configuration.rulesPath))]))
            }
            guard let control = publisher else { return }
            switch result {
            case let .success(r):
                control.publish(topic: "reloads", event: "reload", data: .object([
                    ("ok", .bool(true)), ("loaded", .int(Int64(r.loadedRules))), ("enabled", .int(Int64(r.enabledRules))),
                    ("generation", .int(Int64(r.generation)))]))
            case let .failure(error):
                control.publish(topic: "reloads", event: "reload", data: .object([
                    ("ok", .bool(false)), ("error", .string(error.description))]))
            }
        }
        // Last: the lab and the tests wait for this line before they use the control socket.
        let q = configuration.queues
        logger.info("ready mode=\(configuration.mode.rawValue) queues=\(q.count) first_queue=\(q.first) diversion=\(diversion.rawValue) bypass=\(q.bypass) fail_open=\(q.failOpen) gso=\(q.gso) rules=\(ruleSet.rules.count) table=inet \(configuration.nftables.table)")
        if diversion == .xtables {
            logger.info("this kernel has no native nft `queue` expression: diverting with the xtables NFQUEUE target in table inet \(configuration.nftables.table)")
        }

        let done = DispatchSemaphore(value: 0)
        let signalQueue = DispatchQueue(label: "socfwd.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGUSR1] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: signalQueue)
            source.setEventHandler {
                if sig == SIGHUP {
                    engine.reloadConfig()
                    engine.reloadRules()
                    engine.reloadSignatures()
                } else if sig == SIGUSR1 {
                    // Operators' view of the tracked connections (the control
                    // socket will serve the same snapshot).
                    let conns = engine.connections(limit: 50)
                    logger.info("connections: \(conns.count) largest (SIGUSR1)")
                    for c in conns { logger.info("conn \(c.line)") }
                    let hits = engine.ruleStatistics().filter { $0.hits.packets > 0 }
                        .sorted { $0.hits.packets > $1.hits.packets }.prefix(50)
                    logger.info("rules: \(hits.count) most matched (SIGUSR1)")
                    for h in hits {
                        logger.info("rule \(h.rule.name) action=\(h.rule.action.rawValue) packets=\(h.hits.packets) bytes=\(h.hits.bytes) last_hit_ns=\(h.hits.lastHitNanoseconds)")
                    }
                } else {
                    logger.info("signal \(sig): stopping")
                    done.signal()
                }
            }
            source.resume()
            sources.append(source)
        }
        done.wait()
        expiryTimer.cancel()
        control?.stop()
        quarantine?.drain()
        engine.stop()
        engine.alerts.writer?.flush()  // the alerts the output thread wrote last
        _ = sources
    }
}
