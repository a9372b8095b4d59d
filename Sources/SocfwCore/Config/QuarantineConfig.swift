import SocfwWire

/// `quarantine:` in the configuration (Docs/configuration.md).
public struct QuarantineConfig: Equatable, Sendable {
    /// The SQLite database (quarantine, alerts, audit log).
    public var database = "/var/lib/socfw/socfw.db"
    public var policy = QuarantinePolicy()

    public init() {}

    static func parse(_ node: YAMLNode, resolve: (String) -> String) throws(ConfigError) -> QuarantineConfig {
        var c = QuarantineConfig()
        let m = try node.mapping(allowed: [
            "database", "minimum_prefix_v4", "minimum_prefix_v6", "allowlist", "duration", "escalation",
            "escalation_window", "expiry_jitter",
        ])
        if let v = m["database"] { c.database = resolve(try v.string()) }
        if let v = m["minimum_prefix_v4"] { c.policy.minimumPrefixV4 = try v.integer(in: 1...32) }
        if let v = m["minimum_prefix_v6"] { c.policy.minimumPrefixV6 = try v.integer(in: 1...128) }
        if let list = m["allowlist"], !list.isNull {
            for item in try list.sequence() {
                let text = try item.string()
                guard let p = IPPrefix(text, strict: true) ?? IPAddress(text).map({ IPPrefix(network: $0, length: $0.bitWidth) }) else {
                    throw item.error("'\(text)' is not an address or prefix without host bits (e.g. 192.0.2.0/24)")
                }
                c.policy.allowlist.append(p)
            }
        }
        if let v = m["duration"] { c.policy.defaultDurationSeconds = try duration(v) }
        if let list = m["escalation"], !list.isNull {
            var steps: [Int64?] = []
            for item in try list.sequence() { steps.append(try duration(item)) }
            guard !steps.isEmpty else { throw list.error("escalation needs at least one duration") }
            c.policy.escalation = steps
        } else if m["duration"] != nil {
            c.policy.escalation = [c.policy.defaultDurationSeconds]
        }
        if let v = m["escalation_window"] {
            guard let w = try duration(v) else { throw v.error("escalation_window must be a duration, not permanent") }
            c.policy.escalationWindowSeconds = w
        }
        if let v = m["expiry_jitter"] {
            guard let j = try duration(v), j <= 3600 else { throw v.error("expiry_jitter must be a duration of at most 1h") }
            c.policy.expiryJitterSeconds = j
        }
        return c
    }

    static func duration(_ node: YAMLNode) throws(ConfigError) -> Int64? {
        switch QuarantinePolicy.parseDuration(try node.string()) {
        case let .success(d): return d
        case let .failure(r): throw node.error(r.message)
        }
    }
}
