import Foundation
import SocfwCore
import SocfwIDS
import SocfwStore
import SocfwWire
import Synchronization

/// The control socket's methods over a running engine (Docs/control-protocol.md).
extension InlineEngine {
    /// The methods this socfwd serves.
    public func controlMethods(startedAt: Date, version: String) -> [ControlMethod] {
        let rate = RateTracker()
        return [
            ControlMethod("status") { [self] r throws(ControlError) in
                try r.allowOnly([])
                return status(startedAt: startedAt, version: version, rate: rate)
            },
            ControlMethod("stats") { [self] r throws(ControlError) in
                try r.allowOnly([])
                return .raw(statsJSON())
            },
            ControlMethod("config.check") { r throws(ControlError) in
                try r.allowOnly(["path"])
                let path = try r.string("path")
                do throws(ConfigError) {
                    let c = try SocfwConfig.load(file: path)
                    let rules = try RulesLoader.load(path: c.rulesPath)
                    return .object([("ok", .bool(true)), ("rules", .int(Int64(rules.count))),
                                    ("enabled", .int(Int64(rules.filter(\.enabled).count))), ("rules_path", .string(c.rulesPath))])
                } catch {
                    throw ControlError(error)
                }
            },
            ControlMethod("reload", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly([])
                // The configuration, rules, then signatures; each keeps what is
                // running on error (a bad configuration stops the reload there).
                let change: ConfigReload
                switch reloadConfig() {
                case let .success(c): change = c
                case let .failure(error): throw ControlError(error)
                }
                guard case .object(var fields) = try reloadReply(reloadRules()) else { return .null }
                fields.append(("config", .object([
                    ("path", .string(config.sourceFile)),
                    ("applied", .array(change.applied.map { .string($0) })),
                    ("restart_required", .array(change.restartRequired.map { .string($0) })),
                ])))
                switch reloadSignatures() {
                case .success(let report):
                    fields.append(("signatures", signatureSummary(report)))
                case .failure(let error):
                    throw ControlError(error)
                case nil:
                    break
                }
                return .object(fields)
            },
            ControlMethod("signatures.stats") { [self] r throws(ControlError) in
                try r.allowOnly(["top"])
                let top = Int(try r.optionalInt("top", in: 0...10_000) ?? 20)
                return try signatureStats(top: top)
            },
            ControlMethod("signatures.list") { [self] r throws(ControlError) in
                try r.allowOnly(["limit", "offset", "sid"])
                let limit = Int(try r.optionalInt("limit", in: 1...100_000) ?? 100)
                let offset = Int(try r.optionalInt("offset", in: 0...Int64(Int32.max)) ?? 0)
                let sid = try r.optionalInt("sid", in: 1...Int64(UInt32.max)).map(Int.init)
                return try signatureList(limit: limit, offset: offset, sid: sid)
            },
            ControlMethod("detectors.stats") { [self] r throws(ControlError) in
                try r.allowOnly([])
                return detectorStats()
            },
            ControlMethod("detectors.unblock", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["address"])
                let text = try r.string("address")
                guard let hub = detectorHub else { throw ControlError(.refused, "detection is disabled (detection.enabled: false)") }
                guard let address = IPAddress(text) else { throw ControlError(.invalidParams, "'\(text)' is not an IPv4 or IPv6 address") }
                guard hub.blockedSources(now: wallClockNanoseconds())[address] != nil else {
                    throw ControlError(.refused, "\(address) is not blocked by a detection (socfwctl detectors lists the blocked sources)")
                }
                hub.unblock(address)
                quarantine?.audit(actor: r.actor, action: "detector-unblock", details: .object([("address", .string("\(address)"))]))
                return .object([("unblocked", .string("\(address)"))])
            },
            ControlMethod("rules.list") { [self] r throws(ControlError) in
                try r.allowOnly([])
                return .object([("rules", .array(try managedRules().map { ruleJSON($0.rule, hits: $0.hits) }))])
            },
            ControlMethod("rules.get") { [self] r throws(ControlError) in
                try r.allowOnly(["name"])
                let name = try r.string("name")
                guard let found = try managedRules().first(where: { $0.rule.spec.name == name }) else {
                    throw ControlError(.refused, "no rule named '\(name)'")
                }
                return ruleJSON(found.rule, hits: found.hits)
            },
            ControlMethod("rules.add", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["rule"])
                let spec = try ruleSpec(r)
                return try reloadReply(changeRules { m throws(ConfigError) in try m.add(spec) })
            },
            ControlMethod("rules.update", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["name", "rule"])
                let name = try r.string("name")
                let spec = try ruleSpec(r)
                return try reloadReply(changeRules { m throws(ConfigError) in try m.update(name: name, to: spec) })
            },
            ControlMethod("rules.delete", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["name"])
                let name = try r.string("name")
                return try reloadReply(changeRules { m throws(ConfigError) in try m.delete(name: name) })
            },
            ControlMethod("rules.enable", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["name"])
                let name = try r.string("name")
                return try reloadReply(changeRules { m throws(ConfigError) in try m.setEnabled(name: name, true) })
            },
            ControlMethod("rules.disable", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["name"])
                let name = try r.string("name")
                return try reloadReply(changeRules { m throws(ConfigError) in try m.setEnabled(name: name, false) })
            },
            ControlMethod("rules.check") { r throws(ControlError) in
                try r.allowOnly(["text", "file"])
                let text = try r.string("text")
                let file = try r.optionalString("file") ?? "<rules.check>"
                do throws(ConfigError) {
                    let rules = try RulesLoader.parse(yaml: text, file: file)
                    return .object([("ok", .bool(true)), ("rules", .int(Int64(rules.count))),
                                    ("enabled", .int(Int64(rules.filter(\.enabled).count)))])
                } catch {
                    throw ControlError(error)
                }
            },
            ControlMethod("alerts.list") { [self] r throws(ControlError) in
                let query = try Self.alertQuery(r)
                // Read before the alerts: a page rendered now shows at least this generation.
                let generation = alerts.generation
                let page: AlertPageCache.Page
                if let kept = alertPages.page(for: query, generation: generation) {
                    page = kept
                } else {
                    page = try renderAlertPage(query)
                    alertPages.store(page, for: query, generation: generation)
                }
                let next: JSONValue = page.count == query.limit ? page.lastID.map { .string(String($0)) } ?? .null : .null
                // The page's members first, the alerts last: a client that looks
                // for next_cursor finds it without reading 100 alerts.
                return .object([("next_cursor", next), ("persisted", .bool(store != nil)),
                                ("alerts", .rawBytes(page.text))])
            },
            ControlMethod("alerts.ack", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["id"])
                guard let id = try r.optionalInt("id", in: 1...Int64.max) else {
                    throw ControlError(.invalidParams, "params.id is required (an alert id from alerts.list)")
                }
                switch alerts.acknowledge(id: id, by: r.actor, at: wallClockNanoseconds()) {
                case let .success(e): return Self.alertJSON(e)
                case .failure(.unknown):
                    throw ControlError(.refused, store == nil
                        ? "no alert \(id) (without a database only the newest \(alerts.capacity) are kept)" : "no alert \(id)")
                case let .failure(.alreadyAcknowledged(e)):
                    throw ControlError(.refused, "alert \(id) was already acknowledged by \(e.acknowledgedBy ?? "?")")
                case let .failure(.store(message)):
                    throw ControlError(.refused, "alerts: \(message)")
                }
            },
            ControlMethod("tokens.create", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["name", "scopes"])
                let name = try Self.tokenName(r)
                guard case let .array(items) = r.params["scopes"] ?? .null, !items.isEmpty else {
                    throw ControlError(.invalidParams, "params.scopes is required: a list of read, operate, admin")
                }
                var scopes: [String] = []
                for (i, item) in items.enumerated() {
                    guard let scope = item.stringValue, APIToken.scopes.contains(scope) else {
                        throw ControlError(.invalidParams, "params.scopes[\(i)]: expected read, operate or admin")
                    }
                    if !scopes.contains(scope) { scopes.append(scope) }
                }
                let token = APIToken.generate()
                let record = APITokenRecord(name: name, sha256: APIToken.sha256(token), scopes: scopes,
                                            created: wallClockNanoseconds(), createdBy: r.actor)
                let tokens = try tokenStore()
                let stored: APITokenRecord?
                do throws(StoreError) { stored = try tokens.insertToken(record) } catch {
                    throw ControlError(.refused, "tokens: \(error)")
                }
                guard let stored else {
                    throw ControlError(.refused, "a token named '\(name)' exists; revoke it first (tokens.revoke) or pick another name")
                }
                onTokenChange?("created", stored)
                return .object(Self.tokenFields(stored, hashes: false) + [("token", .string(token))])
            },
            ControlMethod("tokens.revoke", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["name"])
                let name = try Self.tokenName(r)
                let tokens = try tokenStore()
                let revoked: APITokenRecord?
                do throws(StoreError) { revoked = try tokens.revokeToken(name: name, by: r.actor, at: wallClockNanoseconds()) } catch {
                    throw ControlError(.refused, "tokens: \(error)")
                }
                guard let revoked else { throw ControlError(.refused, "no live token named '\(name)'") }
                onTokenChange?("revoked", revoked)
                return .object(Self.tokenFields(revoked, hashes: false))
            },
            ControlMethod("tokens.list") { [self] r throws(ControlError) in
                try r.allowOnly(["include_hashes", "include_revoked"])
                let hashes = try r.optionalBool("include_hashes") ?? false
                if hashes && !r.callerCanWrite {
                    throw ControlError(.permissionDenied, "permission denied: include_hashes is for peers that may change socfwd (root or the admin group)")
                }
                let tokens = try tokenStore()
                let includeRevoked = try r.optionalBool("include_revoked") ?? false
                let all: [APITokenRecord]
                do throws(StoreError) { all = try tokens.tokens(includeRevoked: includeRevoked) } catch {
                    throw ControlError(.refused, "tokens: \(error)")
                }
                return .object([("tokens", .array(all.map { .object(Self.tokenFields($0, hashes: hashes)) }))])
            },
            ControlMethod("quarantine.add", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["target", "targets", "duration", "reason", "description"])
                let manager = try quarantineManager()
                let reason = try r.optionalString("reason") ?? "operator"
                if let list = r.params["targets"] {
                    guard case let .array(items) = list, !items.isEmpty, items.count <= 5000,
                          r.params["target"] == nil else {
                        throw ControlError(.invalidParams, "params.targets: a list of 1 to 5,000 addresses or prefixes (instead of target)")
                    }
                    var targets: [String] = []
                    for (i, item) in items.enumerated() {
                        guard let t = item.stringValue else { throw ControlError(.invalidParams, "params.targets[\(i)]: expected a string") }
                        targets.append(t)
                    }
                    let duration = try r.optionalDuration("duration")
                    switch manager.quarantineMany(targets, duration: duration, reason: reason, source: .api, actor: r.actor) {
                    case let .success((added, refused)):
                        return .object([("added", .int(Int64(added.count))),
                                        ("refused", .array(refused.map { .object([("target", .string($0.0)), ("reason", .string($0.1))]) }))])
                    case let .failure(f):
                        throw ControlError(.refused, f.description)
                    }
                }
                let target = try r.string("target")
                let duration = try r.optionalDuration("duration")
                switch manager.quarantine(target, duration: duration, reason: reason, source: .operator,
                                          description: try r.optionalString("description"), actor: r.actor) {
                case let .success(record): return record.json
                case let .failure(f): throw ControlError(.refused, f.description)
                }
            },
            ControlMethod("quarantine.import", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["path", "duration", "reason"])
                let manager = try quarantineManager()
                let path = try r.string("path")
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ControlError(.refused, "\(path): cannot read (socfwd reads it as root; is the path right?)")
                }
                guard data.count <= 64 << 20 else { throw ControlError(.refused, "\(path): larger than 64 MiB") }
                let targets = QuarantinePolicy.targets(inList: data)
                guard !targets.isEmpty, targets.count <= 1_000_000 else {
                    throw ControlError(.refused, "\(path): expected 1 to 1,000,000 addresses or prefixes, one per line")
                }
                let duration = try r.optionalDuration("duration")
                switch manager.quarantineMany(targets, duration: duration, reason: try r.optionalString("reason") ?? "import \(path)",
                                              source: .api, actor: r.actor) {
                case let .success((added, refused)):
                    return .object([("added", .int(Int64(added.count))), ("refused_count", .int(Int64(refused.count))),
                                    ("refused", .array(refused.prefix(100).map { .object([("target", .string($0.0)), ("reason", .string($0.1))]) }))])
                case let .failure(f):
                    throw ControlError(.refused, f.description)
                }
            },
            ControlMethod("quarantine.remove", mutating: true) { [self] r throws(ControlError) in
                try r.allowOnly(["target"])
                switch try quarantineManager().release(try r.string("target"), actor: r.actor) {
                case let .success(record): return record.json
                case let .failure(f): throw ControlError(.refused, f.description)
                }
            },
            ControlMethod("quarantine.list") { [self] r throws(ControlError) in
                try r.allowOnly([])
                return .object([("quarantined", .array(try quarantineManager().list().map(\.json)))])
            },
            ControlMethod("quarantine.history") { [self] r throws(ControlError) in
                try r.allowOnly(["target", "limit"])
                let limit = Int(try r.optionalInt("limit", in: 1...10000) ?? 50)
                switch try quarantineManager().history(target: try r.optionalString("target"), limit: limit) {
                case let .success(rows): return .object([("history", .array(rows.map(\.json)))])
                case let .failure(f): throw ControlError(.refused, f.description)
                }
            },
            ControlMethod("conns.list") { [self] r throws(ControlError) in
                try r.allowOnly(["address", "port", "state", "protocol", "limit"])
                var filter = ConnectionFilter()
                if let a = try r.optionalString("address") {
                    guard let p = IPPrefix(a) ?? IPAddress(a).map({ IPPrefix(network: $0, length: $0.bitWidth) }) else {
                        throw ControlError(.invalidParams, "params.address: '\(a)' is not an address or prefix")
                    }
                    filter.address = p
                }
                if let port = try r.optionalInt("port", in: 0...65535) { filter.port = UInt16(port) }
                filter.state = try r.optionalString("state")
                if let proto = try r.optionalString("protocol") {
                    let names: [String: UInt8] = ["tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58]
                    guard let n = names[proto.lowercased()] ?? UInt8(proto) else {
                        throw ControlError(.invalidParams, "params.protocol: '\(proto)' is not tcp, udp, icmp, icmpv6 or a number")
                    }
                    filter.protocolNumber = n
                }
                let limit = Int(try r.optionalInt("limit", in: 1...10000) ?? 50)
                let conns = connections(filter: filter, limit: limit)
                return .object([("connections", .array(conns.map(connectionJSON)))])
            },
        ]
    }

    private func quarantineManager() throws(ControlError) -> QuarantineManager {
        guard let q = quarantine else {
            throw ControlError(.refused, "quarantine is unavailable: its database could not be opened (see socfwd's start log)")
        }
        return q
    }

    private func managedRules() throws(ControlError) -> [(rule: ManagedRule, hits: RuleHit)] {
        let listed: [ManagedRule]
        do {
            listed = try ruleManager.list()
        } catch {
            // A single rules file (not a directory): list what runs.
            return ruleStatistics().map {
                (ManagedRule(spec: $0.rule.spec, file: $0.rule.file, origin: $0.rule.origin, managed: false), $0.hits)
            }
        }
        let hits = Dictionary(ruleStatistics().map { ($0.rule.name, $0.hits) }, uniquingKeysWith: { a, _ in a })
        return listed.map { ($0, hits[$0.spec.name] ?? RuleHit()) }
    }

    private func ruleSpec(_ r: ControlRequest) throws(ControlError) -> RuleSpec {
        guard let rule = r.params["rule"], case let .object(members) = rule else {
            throw ControlError(.invalidParams, "params.rule is required: an object with name, action, priority, enabled, conditions")
        }
        // A misspelt key is an error, not a silently missing value.
        let ruleKeys = ["name", "id", "action", "priority", "enabled", "description", "conditions"]
        for (key, _) in members where !ruleKeys.contains(key) {
            throw ControlError(.invalidParams, "params.rule.\(key): unknown key (allowed: \(ruleKeys.joined(separator: ", ")))")
        }
        if case let .array(conditions)? = rule["conditions"] {
            for (i, c) in conditions.enumerated() {
                guard case let .object(fields) = c else {
                    throw ControlError(.invalidParams, "params.rule.conditions[\(i)]: expected an object with field, operator, value")
                }
                for (key, _) in fields where !["field", "operator", "value"].contains(key) {
                    throw ControlError(.invalidParams, "params.rule.conditions[\(i)].\(key): unknown key (allowed: field, operator, value)")
                }
            }
        }
        do {
            return try JSONDecoder().decode(RuleSpec.self, from: Data(rule.serialized.utf8))
        } catch let DecodingError.keyNotFound(key, _) {
            throw ControlError(.invalidParams, "params.rule.\(key.stringValue) is required")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw ControlError(.invalidParams, "params.rule\(path): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw ControlError(.invalidParams, "params.rule\(path): a value is required")
        } catch {
            throw ControlError(.invalidParams, "params.rule: \(error)")
        }
    }

    private func loadedSignatures() throws(ControlError) -> (SignatureSet, [UInt64]) {
        guard let signatures else { throw ControlError(.invalidParams, "signatures are disabled (signatures.enabled: false)") }
        let (set, _) = signatures.load()
        return (set, signatureHits.totals(for: set))
    }

    private func signatureJSON(_ set: SignatureSet, _ i: Int, hits: UInt64) -> JSONValue {
        let info = set.info(i)
        return .object([
            ("sid", .int(Int64(info.sid))), ("gid", .int(Int64(info.gid))), ("rev", .int(Int64(info.rev))),
            ("signature", .string(info.message)), ("action", .string(info.action.rawValue)),
            ("classtype", info.classtype.map { .string($0) } ?? .null), ("severity", .string(info.severity.rawValue)),
            ("context", .string(set.context(i).name)), ("origin", .string(info.origin.description)),
            ("matches", .int(Int64(clamping: hits))),
        ])
    }

    func signatureList(limit: Int, offset: Int, sid: Int?) throws(ControlError) -> JSONValue {
        let (set, hits) = try loadedSignatures()
        var rows: [JSONValue] = []
        var skipped = 0
        for i in 0..<set.count {
            if let sid, set.info(i).sid != UInt32(sid) { continue }
            if skipped < offset { skipped += 1; continue }
            guard rows.count < limit else { break }
            rows.append(signatureJSON(set, i, hits: hits[i]))
        }
        return .object([("total", .int(Int64(set.count))), ("signatures", .array(rows))])
    }

    func signatureStats(top: Int) throws(ControlError) -> JSONValue {
        let (set, hits) = try loadedSignatures()
        let ranked = hits.indices.filter { hits[$0] > 0 }.sorted { hits[$0] > hits[$1] }.prefix(top)
        var fields: [(String, JSONValue)] = [
            ("active", .int(Int64(set.count))),
            ("matches", .int(Int64(clamping: hits.reduce(0, &+)))),
            ("by_context", .object(set.countsByContext.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
            ("top", .array(ranked.map { signatureJSON(set, $0, hits: hits[$0]) })),
        ]
        if let report = signatureLoadReport {
            fields.append(("load", signatureSummary(report)))
            fields.append(("skipped_per_keyword", .object(report.skippedByKeyword.sorted {
                $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
            }.map { ($0.key, .int(Int64($0.value))) })))
        }
        return .object(fields)
    }

    /// Detections by detector, anomaly counters, blocked sources, memory.
    func detectorStats() -> JSONValue {
        guard let hub = detectorHub else { return .object([("enabled", .bool(false))]) }
        let c = hub.counters
        let config = hub.config
        let now = wallClockNanoseconds()
        let anomalies: [JSONValue] = AnomalyID.allCases.map { id in
            .object([("id", .string(id.name)), ("sid", .int(Int64(id.signatureID))),
                     ("action", .string(config.anomalies.disabled.contains(id) ? "off" : config.anomalies.drops(id) ? "drop" : "alert")),
                     ("packets", .int(Int64(clamping: c.anomalies[id] ?? 0))), ("summary", .string(id.summary))])
        }
        let blocked: [JSONValue] = hub.blockedSources(now: now).sorted { $0.key < $1.key }.map { address, until in
            .object([("address", .string("\(address)")), ("until", .string(EveJSON.timestamp(until))),
                     ("seconds_left", .int((until - now) / 1_000_000_000))])
        }
        func response(_ r: DetectorResponse) -> JSONValue {
            .object([("action", .string(r.action.rawValue)), ("seconds", .int(r.seconds))])
        }
        return .object([
            ("enabled", .bool(true)),
            ("detections", .object(DetectorKind.allCases.map { ($0.rawValue, .int(Int64(clamping: c.detections[$0] ?? 0))) })),
            ("anomalies", .array(anomalies)),
            ("blocked_packets", .int(Int64(clamping: c.blockedPackets))),
            ("anomaly_drops", .int(Int64(clamping: c.anomalyDrops))),
            ("blocked", .array(blocked)),
            ("memory_bytes", .int(Int64(hub.memoryBytes))),
            ("evictions", .int(Int64(clamping: hub.evictions))),
            ("detectors", .object([
                ("scan", .object([("enabled", .bool(config.scan.enabled)), ("window_seconds", .int(config.scan.windowSeconds)),
                                  ("ports", .int(Int64(config.scan.ports))), ("hosts", .int(Int64(config.scan.hosts))),
                                  ("slow_window_seconds", .int(config.scan.slowWindowSeconds)),
                                  ("slow_ports", .int(Int64(config.scan.slowPorts))), ("response", response(config.scan.response))])),
                ("syn_flood", .object([("enabled", .bool(config.synFlood.enabled)),
                                       ("window_ms", .int(config.synFlood.windowMilliseconds)),
                                       ("syns", .int(Int64(config.synFlood.syns))),
                                       ("completion_ratio", .double(config.synFlood.completionRatio)),
                                       ("source_syns", .int(Int64(config.synFlood.sourceSyns))),
                                       ("response", response(config.synFlood.response))])),
                ("dos", .object([("enabled", .bool(config.dos.enabled)), ("window_ms", .int(config.dos.windowMilliseconds)),
                                 ("destination_pps", .int(Int64(config.dos.destinationPacketsPerSecond))),
                                 ("source_pps", .int(Int64(config.dos.sourcePacketsPerSecond))),
                                 ("echo_pps", .int(Int64(config.dos.echoPerSecond))),
                                 ("baseline_factor", .double(config.dos.baselineFactor)),
                                 ("response", response(config.dos.response))])),
                ("brute_force", .object([("enabled", .bool(config.bruteForce.enabled)),
                                         ("window_seconds", .int(config.bruteForce.windowSeconds)),
                                         ("connections", .int(Int64(config.bruteForce.connections))),
                                         ("failures", .int(Int64(config.bruteForce.failures))),
                                         ("response", response(config.bruteForce.response))])),
                ("anomalies", .object([("enabled", .bool(config.anomalies.enabled))])),
            ])),
        ])
    }

    func signatureSummary(_ r: SignatureLoad.Report) -> JSONValue {
        .object([
            ("active", .int(Int64(r.active))), ("seed", .int(Int64(r.seedSignatures))),
            ("rules_seen", .int(Int64(r.rules.rulesSeen))), ("rules_loaded", .int(Int64(r.rules.loaded))),
            ("rules_skipped", .int(Int64(r.rules.skipped + r.seedConflicts.count))),
            ("not_compiled", .int(Int64(r.compileSkipped.count))), ("milliseconds", .double(r.milliseconds)),
        ])
    }

    private func reloadReply(_ result: Result<RuleReload, ConfigError>) throws(ControlError) -> JSONValue {
        switch result {
        case let .success(r):
            return .object([("loaded", .int(Int64(r.loadedRules))), ("enabled", .int(Int64(r.enabledRules))),
                            ("parse_ms", .double(r.parseMilliseconds)), ("compile_ms", .double(r.compileMilliseconds)),
                            ("generation", .int(Int64(r.generation)))])
        case let .failure(error):
            throw ControlError(error)
        }
    }

    private func ruleJSON(_ m: ManagedRule, hits: RuleHit) -> JSONValue {
        let s = m.spec
        let conditions: [JSONValue] = s.conditions.map { c in
            let value: JSONValue = switch c.value {
            case let .one(v): .string(v)
            case let .list(vs): .array(vs.map { .string($0) })
            }
            return .object([("field", .string(c.field)), ("operator", .string(c.operator)), ("value", value)])
        }
        return .object([
            ("name", .string(s.name)), ("id", s.id.map { .int(Int64($0)) } ?? .null), ("action", .string(s.action.rawValue)),
            ("priority", .int(Int64(s.priority))), ("enabled", .bool(s.enabled)),
            ("description", s.description.map { .string($0) } ?? .null), ("conditions", .array(conditions)),
            ("file", .string(m.file)), ("origin", .string(m.origin)), ("managed", .bool(m.managed)),
            ("hits", .object([("packets", .int(Int64(clamping: hits.packets))), ("bytes", .int(Int64(clamping: hits.bytes))),
                              ("last_hit_ns", .int(hits.lastHitNanoseconds))])),
        ])
    }

    /// The `alerts` array `query` selects, as text. Written straight to
    /// text, rows read in place: a page of 100 alerts is ~60 KB, and building
    /// records and values for it cost more than the query.
    func renderAlertPage(_ query: AlertQuery) throws(ControlError) -> AlertPageCache.Page {
        var text: [UInt8] = [UInt8(ascii: "[")]
        text.reserveCapacity(query.limit * 700)
        // Through a pointer: the closures run inside the store's read,
        // and a captured variable would be checked on every access.
        let visited = try withUnsafeMutablePointer(to: &text) { (page) throws(ControlError) -> (count: Int, lastID: Int64?) in
            do throws(StoreError) {
                return try alerts.visit(query, record: { record in
                    if page.pointee.count > 1 { page.pointee.append(UInt8(ascii: ",")) }
                    Self.appendAlertJSON(record, to: &page.pointee)
                }, row: { row in
                    if page.pointee.count > 1 { page.pointee.append(UInt8(ascii: ",")) }
                    Self.appendAlertJSON(row, to: &page.pointee)
                })
            } catch {
                throw ControlError(.refused, "alerts: \(error)")
            }
        }
        text.append(UInt8(ascii: "]"))
        return AlertPageCache.Page(text: text, count: visited.count, lastID: visited.lastID)
    }

    /// One alert's JSON text, written without building a value (pages of
    /// `alerts.list` are ~60 KB), from a record or a row read in place: the
    /// same layout for both. `eve` is the EVE line socfwd wrote, inserted as is.
    static func appendAlertJSON(_ a: some AlertJSONSource, to out: inout [UInt8]) {
        func key(_ k: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        }
        func int(_ v: Int64?) { if let v { JSONValue.appendDecimal(v, to: &out) } else { key("null") } }
        key("{\"id\":"); int(a.alertID)
        key(",\"timestamp_ns\":"); int(a.integer(.timestamp))
        key(",\"source\":"); a.appendString(.source, to: &out)
        key(",\"severity\":"); int(a.integer(.severity))
        key(",\"title\":"); a.appendString(.title, to: &out)
        key(",\"message\":"); a.appendString(.message, to: &out)
        key(",\"signature_id\":"); int(a.integer(.signatureID))
        key(",\"src_ip\":"); a.appendString(.srcIP, to: &out)
        key(",\"dst_ip\":"); a.appendString(.dstIP, to: &out)
        key(a.integer(.acknowledged) ?? 0 != 0 ? ",\"acknowledged\":true" : ",\"acknowledged\":false")
        key(",\"acknowledged_by\":"); a.appendString(.acknowledgedBy, to: &out)
        key(",\"acknowledged_at_ns\":"); int(a.integer(.acknowledgedAt))
        key(",\"eve\":"); a.appendRaw(.eve, to: &out)
        key("}")
    }

    /// One alert as the control protocol shows it (`appendAlertJSON`'s text).
    public static func alertJSON(_ a: AlertRecord) -> JSONValue {
        var text: [UInt8] = []
        text.reserveCapacity(768)
        appendAlertJSON(a, to: &text)
        return .raw(String(decoding: text, as: UTF8.self))
    }

    static let alertSources = ["rule", "signature", "detector", "anomaly"]

    static func alertQuery(_ r: ControlRequest) throws(ControlError) -> AlertQuery {
        try r.allowOnly(["limit", "cursor", "open", "since_ns", "until_ns", "severity", "source", "sid", "address"])
        var q = AlertQuery(limit: Int(try r.optionalInt("limit", in: 1...10000) ?? 50))
        if let cursor = try r.optionalString("cursor") {
            guard let id = Int64(cursor), id > 0 else {
                throw ControlError(.invalidParams, "params.cursor: not a cursor from a previous alerts.list (next_cursor)")
            }
            q.beforeID = id
        }
        q.openOnly = try r.optionalBool("open") ?? false
        q.since = try r.optionalInt("since_ns", in: 0...Int64.max)
        q.until = try r.optionalInt("until_ns", in: 0...Int64.max)
        q.severity = try r.optionalInt("severity", in: 1...3).map(Int.init)
        if let source = try r.optionalString("source") {
            guard alertSources.contains(source) else {
                throw ControlError(.invalidParams, "params.source: expected one of \(alertSources.joined(separator: ", "))")
            }
            q.source = source
        }
        q.signatureID = try r.optionalInt("sid", in: 0...Int64(UInt32.max))
        if let text = try r.optionalString("address") {
            guard let address = IPAddress(text) else {
                throw ControlError(.invalidParams, "params.address: '\(text)' is not an IPv4 or IPv6 address")
            }
            q.address = "\(address)"
        }
        return q
    }

    static func tokenName(_ r: ControlRequest) throws(ControlError) -> String {
        let name = try r.string("name")
        guard name.utf8.count <= 64, name.utf8.allSatisfy({ b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x2e || b == 0x5f
        }) else {
            throw ControlError(.invalidParams, "params.name: 1 to 64 letters, digits, '.', '-' or '_'")
        }
        return name
    }

    static func tokenFields(_ t: APITokenRecord, hashes: Bool) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [
            ("name", .string(t.name)), ("scopes", .array(t.scopes.map { .string($0) })),
            ("created_ns", .int(t.created)), ("created_by", .string(t.createdBy)),
            ("revoked_ns", t.revoked.map { .int($0) } ?? .null), ("revoked_by", t.revokedBy.map { .string($0) } ?? .null),
        ]
        if hashes { fields.append(("sha256", .string(t.sha256))) }
        return fields
    }

    private func tokenStore() throws(ControlError) -> SocfwStore {
        guard let store else { throw ControlError(.refused, "API tokens need the database, which is unavailable (see socfwd's start log)") }
        return store
    }

    private func connectionJSON(_ c: ConnectionSummary) -> JSONValue {
        .object([
            ("flow_id", .int(Int64(c.flowID))), ("proto", .string(EveJSON.protoName(c.protocolNumber))),
            ("src_ip", .string("\(c.source)")), ("src_port", .int(Int64(c.sourcePort))),
            ("dest_ip", .string("\(c.destination)")), ("dest_port", .int(Int64(c.destinationPort))),
            ("state", .string(c.state)), ("bypassed", .bool(c.bypassed)),
            ("pkts_toserver", .int(Int64(c.packetsOriginal))), ("pkts_toclient", .int(Int64(c.packetsReply))),
            ("bytes_toserver", .int(Int64(clamping: c.bytesOriginal))), ("bytes_toclient", .int(Int64(clamping: c.bytesReply))),
            ("age_s", .int((c.lastSeenNanoseconds - c.firstSeenNanoseconds) / 1_000_000_000)),
        ])
    }

    private func status(startedAt: Date, version: String, rate: RateTracker) -> JSONValue {
        let stats = workerStats()
        var packets: UInt64 = 0, accepted: UInt64 = 0, dropped: UInt64 = 0, rejected: UInt64 = 0, active: UInt64 = 0
        for v in stats {
            packets += v.packets; accepted += v.accepted; dropped += v.dropped; rejected += v.rejected; active += v.flowsActive
        }
        let (set, generation) = rules.load()
        let pps = rate.rate(packets)
        return .object([
            ("version", .string(version)), ("pid", .int(Int64(getpid()))),
            ("uptime_s", .int(Int64(Date().timeIntervalSince(startedAt)))),
            ("inspecting", .bool(!stats.isEmpty)), ("mode", .string(config.mode.rawValue)),
            ("diversion", runningDiversion.map { .string($0.rawValue) } ?? .null),
            ("queues", .object([("first", .int(Int64(config.queues.first))), ("count", .int(Int64(config.queues.count))),
                                ("fail_open", .bool(config.queues.failOpen)), ("bypass", .bool(config.queues.bypass))])),
            ("rules", .object([("loaded", .int(Int64(set.loadedCount))), ("enabled", .int(Int64(set.rules.count))),
                               ("path", .string(config.rulesPath)), ("generation", .int(Int64(generation))),
                               ("default_action", .string(config.defaultAction.rawValue))])),
            ("packets", .int(Int64(clamping: packets))),
            ("verdicts", .object([("accept", .int(Int64(clamping: accepted))), ("drop", .int(Int64(clamping: dropped))),
                                  ("reject", .int(Int64(clamping: rejected)))])),
            ("pps", .double(pps)), ("flows_active", .int(Int64(clamping: active))),
            ("events_lost", .int(Int64(clamping: events.lostCount))),
            ("database", databaseStatus()),
        ])
    }

    /// The database as `status` reports it: where, and whether the last
    /// write (alerts, quarantine, audit) succeeded; null when unavailable.
    private func databaseStatus() -> JSONValue {
        guard let store else { return .null }
        let writer = alerts.writer
        return .object([("path", .string(store.path)), ("writable", .bool(writer?.lastWriteSucceeded ?? true)),
                        ("write_failures", .int(Int64(writer?.failed ?? 0))),
                        ("writes_dropped", .int(Int64(writer?.dropped ?? 0)))])
    }
}

/// Packets per second between two `status` calls (at least a second apart).
final class RateTracker: Sendable {
    private let last = Mutex<(packets: UInt64, at: Int64, rate: Double)>((0, 0, 0))

    func rate(_ packets: UInt64) -> Double {
        let now = monotonicNanoseconds()
        return last.withLock { l in
            if l.at == 0 {
                l = (packets, now, 0)
            } else if now - l.at >= 1_000_000_000 {
                let r = Double(packets &- l.packets) / (Double(now - l.at) / 1e9)
                l = (packets, now, (r * 10).rounded() / 10)
            }
            return l.rate
        }
    }
}

/// What `appendAlertJSON` reads of an alert, by column: a record, or a row
/// read in place from the database.
protocol AlertJSONSource {
    var alertID: Int64 { get }
    /// An integer column (booleans as 0 or 1); nil for NULL.
    func integer(_ column: AlertRowView.Column) -> Int64?
    /// A text column as a JSON string, or null.
    func appendString(_ column: AlertRowView.Column, to out: inout [UInt8])
    /// A column holding JSON text, inserted as is, or null.
    func appendRaw(_ column: AlertRowView.Column, to out: inout [UInt8])
}

extension AlertRecord: AlertJSONSource {
    var alertID: Int64 { id }

    func integer(_ column: AlertRowView.Column) -> Int64? {
        switch column {
        case .id: id
        case .timestamp: timestamp
        case .severity: Int64(severity)
        case .signatureID: signatureID
        case .acknowledged: acknowledged ? 1 : 0
        case .acknowledgedAt: acknowledgedAt
        default: nil
        }
    }

    private func text(_ column: AlertRowView.Column) -> String? {
        switch column {
        case .source: source
        case .title: title
        case .message: message
        case .srcIP: srcIP
        case .dstIP: dstIP
        case .acknowledgedBy: acknowledgedBy
        case .eve: eve
        default: nil
        }
    }

    func appendString(_ column: AlertRowView.Column, to out: inout [UInt8]) {
        if let s = text(column) { JSONValue.appendString(s, to: &out) } else { out.append(contentsOf: "null".utf8) }
    }

    func appendRaw(_ column: AlertRowView.Column, to out: inout [UInt8]) {
        // Empty is no JSON text at all: null, as for a row.
        if let s = text(column), !s.isEmpty { out.append(contentsOf: s.utf8) } else { out.append(contentsOf: "null".utf8) }
    }
}

extension AlertRowView: AlertJSONSource {
    var alertID: Int64 { id }

    func appendString(_ column: AlertRowView.Column, to out: inout [UInt8]) {
        guard let bytes = text(column) else { return out.append(contentsOf: "null".utf8) }
        out.append(0x22)
        if bytes.allSatisfy({ $0 < 0x80 }) || String(validating: bytes, as: UTF8.self) != nil {
            EveJSON.appendEscaped(utf8: bytes, to: &out)
        } else {
            // Not socfwd's writing (it stores valid UTF-8): repaired, as a String read would be.
            EveJSON.appendEscaped(String(decoding: bytes, as: UTF8.self), to: &out)
        }
        out.append(0x22)
    }

    func appendRaw(_ column: AlertRowView.Column, to out: inout [UInt8]) {
        guard let bytes = text(column), !bytes.isEmpty else { return out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: bytes)
    }
}
