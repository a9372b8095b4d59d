import SocfwWire

/// What a detector does when it fires (per detector, `response:` in the config).
public enum DetectionResponse: String, CaseIterable, Sendable {
    /// An alert; traffic passes.
    case alert
    /// An alert, and socfwd drops the offending source's packets for `block`.
    case drop
    /// An alert, and the source is quarantined (nftables set, kernel drops it)
    /// for `duration`; socfwd drops it meanwhile too.
    case quarantine
}

/// The response of one detector and how long it lasts.
public struct DetectorResponse: Equatable, Sendable {
    public var action: DetectionResponse
    /// Seconds the source is dropped (`drop`) or quarantined (`quarantine`).
    public var seconds: Int64
    public init(_ action: DetectionResponse, seconds: Int64 = 600) {
        self.action = action
        self.seconds = seconds
    }
}

/// `detection.scan`: port scans (Docs/detection.md explains the defaults).
public struct ScanDetectorConfig: Equatable, Sendable {
    public var enabled = true
    /// Distinct ports of one host (vertical) or distinct hosts on one port
    /// (horizontal) probed by one source within `windowSeconds`.
    public var windowSeconds: Int64 = 10
    public var ports = 20
    public var hosts = 20
    /// Slow scans: distinct host:port pairs probed by one source within the long window.
    public var slowWindowSeconds: Int64 = 600
    public var slowPorts = 60
    public var response = DetectorResponse(.alert)
}

/// `detection.syn_flood`.
public struct SynFloodConfig: Equatable, Sendable {
    public var enabled = true
    /// SYNs to one destination (or one destination port) within a window of
    /// `windowMilliseconds` that make a flood when few complete.
    public var windowMilliseconds: Int64 = 1000
    public var syns = 1000
    /// Most completed handshakes per SYN for a flood (a busy server completes nearly all).
    public var completionRatio = 0.25
    /// SYNs from one source within the window.
    public var sourceSyns = 500
    public var response = DetectorResponse(.alert)
}

/// `detection.dos`: packet and byte rates per destination and per source.
public struct DoSConfig: Equatable, Sendable {
    public var enabled = true
    public var windowMilliseconds: Int64 = 1000
    /// Packets per second to one destination / from one source, per protocol
    /// (TCP counts only packets outside established connections).
    public var destinationPacketsPerSecond = 50_000
    public var sourcePacketsPerSecond = 20_000
    /// Bits per second (same counting).
    public var destinationBitsPerSecond: Int64 = 2_000_000_000
    public var sourceBitsPerSecond: Int64 = 1_000_000_000
    /// ICMP echo requests per second to one destination (echo flood).
    public var echoPerSecond = 1000
    /// Learned baseline: a rate above `baselineFactor` × its exponentially
    /// weighted average (weight `baselineWeight` per window) alerts once it
    /// is at least `baselineMinimumPacketsPerSecond`.
    public var baselineFactor = 10.0
    public var baselineWeight = 0.1
    public var baselineMinimumPacketsPerSecond = 5000
    public var response = DetectorResponse(.alert)
}

/// `detection.brute_force`.
public struct BruteForceConfig: Equatable, Sendable {
    public var enabled = true
    public var windowSeconds: Int64 = 60
    /// New connections from one source to one authentication service.
    public var connections = 15
    /// Failed-login replies (clear-text protocols) to one source.
    public var failures = 5
    /// Authentication services by destination port.
    public var services: [UInt16: AuthService] = AuthService.defaultPorts
    /// HTTP paths whose requests count as login attempts (prefix match).
    public var loginPaths = ["/login", "/wp-login.php", "/user/login", "/signin", "/auth", "/admin/login", "/api/login"]
    public var response = DetectorResponse(.alert)
}

/// The services brute-force detection knows, and how each says "no".
public enum AuthService: String, CaseIterable, Sendable {
    case ssh, rdp, ftp, smtp, pop3, imap, http, telnet, vnc, mysql, postgresql

    public static let defaultPorts: [UInt16: AuthService] = [
        22: .ssh, 3389: .rdp, 21: .ftp, 25: .smtp, 587: .smtp, 465: .smtp, 110: .pop3, 995: .pop3,
        143: .imap, 993: .imap, 23: .telnet, 5900: .vnc, 3306: .mysql, 5432: .postgresql,
        // HTTP in clear text only: over TLS neither the path nor the status is visible.
        80: .http, 8080: .http, 8000: .http,
    ]
}

/// `detection.anomalies`.
public struct AnomalyDetectorsConfig: Equatable, Sendable {
    public var enabled = true
    public var limits = AnomalyConfig()
    /// Per-anomaly overrides of the default action (true: drop).
    public var drops: [AnomalyID: Bool] = [:]
    /// Anomalies switched off.
    public var disabled: Set<AnomalyID> = []

    public func drops(_ id: AnomalyID) -> Bool { drops[id] ?? id.defaultDrops }
}

/// `detection:` in the configuration: behavioural detection and protocol
/// anomalies (Docs/detection.md).
public struct DetectionConfig: Equatable, Sendable {
    public var enabled = true
    /// The protected networks: ICMP redirects and the like from elsewhere are anomalies.
    public var internalNetworks: [IPPrefix] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
        .compactMap { IPPrefix($0) }
    /// Sources never reported or blocked by the behavioural detectors
    /// (monitoring hosts that scan, load balancers' health checks).
    public var exempt: [IPPrefix] = []
    /// One alert per detection (source, type) within this period.
    public var suppressSeconds: Int64 = 300
    /// Entries per tracking table (sources, destinations, pairs): the memory bound.
    public var tableEntries = 32768
    public var scan = ScanDetectorConfig()
    public var synFlood = SynFloodConfig()
    public var dos = DoSConfig()
    public var bruteForce = BruteForceConfig()
    public var anomalies = AnomalyDetectorsConfig()

    public init() {}

    public func isExempt(_ a: IPAddress) -> Bool { exempt.contains { $0.contains(a) } }
    public func isInternal(_ a: IPAddress) -> Bool { internalNetworks.contains { $0.contains(a) } }

    static func parse(_ node: YAMLNode) throws(ConfigError) -> DetectionConfig {
        var c = DetectionConfig()
        let m = try node.mapping(allowed: [
            "enabled", "internal_networks", "exempt", "suppress", "table_entries", "scan", "syn_flood", "dos",
            "brute_force", "anomalies",
        ])
        if let v = m["enabled"] { c.enabled = try v.bool() }
        if let v = m["internal_networks"] { c.internalNetworks = try prefixes(v) }
        if let v = m["exempt"] { c.exempt = try prefixes(v) }
        if let v = m["suppress"] { c.suppressSeconds = try seconds(v, in: 1...86400) }
        if let v = m["table_entries"] { c.tableEntries = try v.integer(in: 1024...(1 << 22)) }
        if let n = m["scan"] {
            let s = try n.mapping(allowed: ["enabled", "window", "ports", "hosts", "slow_window", "slow_ports", "response", "block"])
            if let v = s["enabled"] { c.scan.enabled = try v.bool() }
            if let v = s["window"] { c.scan.windowSeconds = try seconds(v, in: 1...3600) }
            if let v = s["ports"] { c.scan.ports = try v.integer(in: 2...10000) }
            if let v = s["hosts"] { c.scan.hosts = try v.integer(in: 2...10000) }
            if let v = s["slow_window"] { c.scan.slowWindowSeconds = try seconds(v, in: 60...86400) }
            if let v = s["slow_ports"] { c.scan.slowPorts = try v.integer(in: 2...10000) }
            c.scan.response = try response(s, c.scan.response)
            if c.scan.slowWindowSeconds <= c.scan.windowSeconds, let v = s["slow_window"] {
                throw v.error("slow_window must be longer than window (\(c.scan.windowSeconds) s)")
            }
        }
        if let n = m["syn_flood"] {
            let s = try n.mapping(allowed: ["enabled", "window", "syns", "completion_ratio", "source_syns", "response", "block"])
            if let v = s["enabled"] { c.synFlood.enabled = try v.bool() }
            if let v = s["window"] { c.synFlood.windowMilliseconds = try milliseconds(v, in: 100...60000) }
            if let v = s["syns"] { c.synFlood.syns = try v.integer(in: 10...100_000_000) }
            if let v = s["completion_ratio"] { c.synFlood.completionRatio = try v.number(in: 0...1) }
            if let v = s["source_syns"] { c.synFlood.sourceSyns = try v.integer(in: 10...100_000_000) }
            c.synFlood.response = try response(s, c.synFlood.response)
        }
        if let n = m["dos"] {
            let s = try n.mapping(allowed: [
                "enabled", "window", "destination_pps", "source_pps", "destination_bps", "source_bps", "echo_pps",
                "baseline_factor", "baseline_weight", "baseline_minimum_pps", "response", "block",
            ])
            if let v = s["enabled"] { c.dos.enabled = try v.bool() }
            if let v = s["window"] { c.dos.windowMilliseconds = try milliseconds(v, in: 100...60000) }
            if let v = s["destination_pps"] { c.dos.destinationPacketsPerSecond = try v.integer(in: 10...1_000_000_000) }
            if let v = s["source_pps"] { c.dos.sourcePacketsPerSecond = try v.integer(in: 10...1_000_000_000) }
            if let v = s["destination_bps"] { c.dos.destinationBitsPerSecond = Int64(try v.integer(in: 1000...Int(Int64.max))) }
            if let v = s["source_bps"] { c.dos.sourceBitsPerSecond = Int64(try v.integer(in: 1000...Int(Int64.max))) }
            if let v = s["echo_pps"] { c.dos.echoPerSecond = try v.integer(in: 1...1_000_000_000) }
            if let v = s["baseline_factor"] { c.dos.baselineFactor = try v.number(in: 1.5...1000) }
            if let v = s["baseline_weight"] { c.dos.baselineWeight = try v.number(in: 0.001...1) }
            if let v = s["baseline_minimum_pps"] { c.dos.baselineMinimumPacketsPerSecond = try v.integer(in: 1...1_000_000_000) }
            c.dos.response = try response(s, c.dos.response)
        }
        if let n = m["brute_force"] {
            let s = try n.mapping(allowed: ["enabled", "window", "connections", "failures", "services", "login_paths", "response", "block"])
            if let v = s["enabled"] { c.bruteForce.enabled = try v.bool() }
            if let v = s["window"] { c.bruteForce.windowSeconds = try seconds(v, in: 1...86400) }
            if let v = s["connections"] { c.bruteForce.connections = try v.integer(in: 2...1_000_000) }
            if let v = s["failures"] { c.bruteForce.failures = try v.integer(in: 1...1_000_000) }
            if let v = s["services"] {
                var services: [UInt16: AuthService] = [:]
                for (name, ports) in try v.mapping(allowed: AuthService.allCases.map(\.rawValue)) {
                    let service = AuthService(rawValue: name)!
                    for p in try ports.sequence() { services[UInt16(try p.integer(in: 1...65535))] = service }
                }
                c.bruteForce.services = services
            }
            if let v = s["login_paths"] {
                var paths: [String] = []
                for item in try v.sequence() {
                    let path = try item.string()
                    guard path.hasPrefix("/"), path.utf8.count <= 256, !path.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else {
                        throw item.error("login path '\(path)' must start with '/' and be at most 256 printable characters without spaces")
                    }
                    paths.append(path)
                }
                c.bruteForce.loginPaths = paths
            }
            c.bruteForce.response = try response(s, c.bruteForce.response)
        }
        if let n = m["anomalies"] {
            let s = try n.mapping(allowed: ["enabled", "actions", "large_echo_bytes", "tiny_fragment_bytes"])
            if let v = s["enabled"] { c.anomalies.enabled = try v.bool() }
            if let v = s["large_echo_bytes"] { c.anomalies.limits.largeEchoPayloadBytes = try v.integer(in: 64...65535) }
            if let v = s["tiny_fragment_bytes"] { c.anomalies.limits.tinyFragmentBytes = try v.integer(in: 8...1500) }
            if let v = s["actions"] {
                for (name, action) in try v.mapping(allowed: nil) {
                    guard let id = AnomalyID(name: name) else {
                        throw v.error("unknown anomaly '\(name)' (known: \(AnomalyID.allCases.map(\.name).joined(separator: ", ")))")
                    }
                    switch try action.string() {
                    case "alert": c.anomalies.drops[id] = false
                    case "drop": c.anomalies.drops[id] = true
                    case "off": c.anomalies.disabled.insert(id)
                    case let other: throw action.error("anomaly action '\(other)' must be alert, drop or off")
                    }
                }
            }
        }
        return c
    }

    static func prefixes(_ node: YAMLNode) throws(ConfigError) -> [IPPrefix] {
        guard !node.isNull else { return [] }
        var out: [IPPrefix] = []
        for item in try node.sequence() {
            let text = try item.string()
            guard let p = IPPrefix(text, strict: true) ?? IPAddress(text).map({ IPPrefix(network: $0, length: $0.bitWidth) }) else {
                throw item.error("'\(text)' is not an address or prefix without host bits (e.g. 192.0.2.0/24)")
            }
            out.append(p)
        }
        return out
    }

    static func response(_ m: YAMLMapping, _ current: DetectorResponse) throws(ConfigError) -> DetectorResponse {
        var r = current
        if let v = m["response"] { r.action = try v.oneOf(DetectionResponse.self, what: "response") }
        if let v = m["block"] {
            guard let s = try QuarantineConfig.duration(v), s > 0 else { throw v.error("block must be a duration such as 10m, not permanent") }
            r.seconds = s
        }
        return r
    }

    static func seconds(_ node: YAMLNode, in range: ClosedRange<Int64>) throws(ConfigError) -> Int64 {
        guard let s = try QuarantineConfig.duration(node), range.contains(s) else {
            throw node.error("duration must be between \(range.lowerBound) s and \(range.upperBound) s")
        }
        return s
    }

    /// `250ms`, `1s`, `2` (seconds).
    static func milliseconds(_ node: YAMLNode, in range: ClosedRange<Int64>) throws(ConfigError) -> Int64 {
        let text = try node.string()
        let ms: Int64?
        if text.hasSuffix("ms") { ms = Int64(text.dropLast(2)) } else { ms = try QuarantineConfig.duration(node).map { $0 * 1000 } }
        guard let ms, range.contains(ms) else {
            throw node.error("window must be between \(range.lowerBound) ms and \(range.upperBound) ms (e.g. 500ms, 1s)")
        }
        return ms
    }
}

extension YAMLNode {
    func number(in range: ClosedRange<Double>) throws(ConfigError) -> Double {
        let text = try scalarString()
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw error("'\(text)' must be a number between \(range.lowerBound) and \(range.upperBound)")
        }
        return v
    }
}
