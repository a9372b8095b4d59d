/// Connection-tracking settings (`conntrack:` in socfwd.yaml). Timeouts
/// default to Linux's (net/netfilter/nf_conntrack_proto_*.c).
public struct ConntrackConfig: Equatable, Sendable {
    /// Connections tracked in total; each queue worker gets an equal share.
    public var maxConnections: Int = 262_144
    /// Connections one source address may have open per worker (0 = unlimited).
    public var perSourceLimit: Int = 0
    /// Pick up connections mid-stream (established before socfwd started),
    /// like `nf_conntrack_tcp_loose`.
    public var tcpLoose: Bool = true
    /// Verdict for packets the tracker finds INVALID.
    public var invalidAction: RuleAction = .drop
    public var timeouts = ConntrackTimeouts()
    /// Flow bypass: once both directions are inspected this deep, the rest of
    /// the flow stays in the kernel (ct mark BYPASS).
    public var bypass = BypassConfig()

    public init() {}
}

public struct BypassConfig: Equatable, Sendable {
    public var enabled: Bool = false
    /// Inspection depth per direction: bypass when each direction has passed
    /// `packets` packets or `bytes` bytes (whichever comes first).
    public var packets: Int = 64
    public var bytes: Int = 65_536
    public init() {}
}

/// Seconds.
public struct ConntrackTimeouts: Equatable, Sendable {
    public var tcpSynSent = 120
    public var tcpSynReceived = 60
    public var tcpEstablished = 432_000
    public var tcpFinWait = 120
    public var tcpCloseWait = 60
    public var tcpLastAck = 30
    public var tcpTimeWait = 120
    public var tcpClose = 10
    /// UDP flows that have not seen a reply, or saw one packet each way.
    public var udp = 30
    /// UDP flows with traffic both ways ("stream").
    public var udpStream = 120
    public var icmp = 30
    /// Other protocols.
    public var generic = 600

    public init() {}

    static var keys: [(String, WritableKeyPath<ConntrackTimeouts, Int>)] { [
        ("tcp_syn_sent", \.tcpSynSent), ("tcp_syn_recv", \.tcpSynReceived), ("tcp_established", \.tcpEstablished),
        ("tcp_fin_wait", \.tcpFinWait), ("tcp_close_wait", \.tcpCloseWait), ("tcp_last_ack", \.tcpLastAck),
        ("tcp_time_wait", \.tcpTimeWait), ("tcp_close", \.tcpClose), ("udp", \.udp), ("udp_stream", \.udpStream),
        ("icmp", \.icmp), ("generic", \.generic),
    ] }

    public func seconds(for state: TCPConnectionState) -> Int {
        switch state {
        case .closed: return tcpClose
        case .synSent: return tcpSynSent
        case .synReceived: return tcpSynReceived
        case .established: return tcpEstablished
        case .finWait1, .finWait2, .closing: return tcpFinWait
        case .closeWait: return tcpCloseWait
        case .lastAck: return tcpLastAck
        case .timeWait: return tcpTimeWait
        }
    }
}

extension ConntrackConfig {
    static func parse(_ node: YAMLNode) throws(ConfigError) -> ConntrackConfig {
        var c = ConntrackConfig()
        let m = try node.mapping(allowed: [
            "max_connections", "per_source_limit", "tcp_loose", "invalid_action", "timeouts", "bypass",
        ])
        if let v = m["max_connections"] { c.maxConnections = try v.integer(in: 1024...16_777_216) }
        if let v = m["per_source_limit"] { c.perSourceLimit = try v.integer(in: 0...16_777_216) }
        if let v = m["tcp_loose"] { c.tcpLoose = try v.bool() }
        if let v = m["invalid_action"] {
            c.invalidAction = try v.oneOf(RuleAction.self, what: "action")
            guard c.invalidAction.isPlainVerdict else { throw v.error("invalid_action must be ALLOW, DROP or REJECT") }
        }
        if let t = m["timeouts"] {
            let tm = try t.mapping(allowed: ConntrackTimeouts.keys.map(\.0))
            for (name, path) in ConntrackTimeouts.keys {
                if let v = tm[name] { c.timeouts[keyPath: path] = try v.integer(in: 1...2_592_000) }
            }
        }
        if let b = m["bypass"] {
            let bm = try b.mapping(allowed: ["enabled", "packets", "bytes"])
            if let v = bm["enabled"] { c.bypass.enabled = try v.bool() }
            if let v = bm["packets"] { c.bypass.packets = try v.integer(in: 1...1_000_000_000) }
            if let v = bm["bytes"] { c.bypass.bytes = try v.integer(in: 1...(1 << 50)) }
        }
        return c
    }
}
