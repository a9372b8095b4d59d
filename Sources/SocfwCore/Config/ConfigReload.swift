/// What reloading the configuration file changes in a running socfwd.
///
/// Settings socfwd reads as it goes are applied at once; settings that shape
/// what it built at start (queues, nftables table, tables sized in memory,
/// sockets, files) need a restart: they are reported, not applied, and the
/// running value stays in force.
public struct ConfigReload: Sendable, Equatable {
    /// Keys (as in the YAML) whose new value is in force.
    public var applied: [String] = []
    /// Keys whose new value differs but waits for a restart.
    public var restartRequired: [String] = []
    /// The running configuration with the applied changes.
    public var merged: SocfwConfig

    /// Compares `running` with `new` (read from the same file).
    public init(running: SocfwConfig, new: SocfwConfig) {
        merged = running
        everything = running
        // Read as socfwd goes: the next rules reload, signature load, quarantine.
        take("default_action", \.defaultAction, from: new, live: true)
        take("signatures.default_set", \.signatures.defaultSet, from: new, live: true)
        take("signatures.paths", \.signatures.paths, from: new, live: true)
        take("signatures.classification", \.signatures.classificationFile, from: new, live: true)
        take("signatures.address_vars", \.signatures.addressVariables, from: new, live: true)
        take("signatures.port_vars", \.signatures.portVariables, from: new, live: true)
        take("signatures.dialect", \.signatures.dialect, from: new, live: true)
        take("signatures.quarantine", \.signatures.quarantine, from: new, live: true)
        take("quarantine.minimum_prefix_v4", \.quarantine.policy.minimumPrefixV4, from: new, live: true)
        take("quarantine.minimum_prefix_v6", \.quarantine.policy.minimumPrefixV6, from: new, live: true)
        take("quarantine.allowlist", \.quarantine.policy.allowlist, from: new, live: true)
        take("quarantine.duration", \.quarantine.policy.defaultDurationSeconds, from: new, live: true)
        take("quarantine.escalation", \.quarantine.policy.escalation, from: new, live: true)
        take("quarantine.escalation_window", \.quarantine.policy.escalationWindowSeconds, from: new, live: true)
        take("quarantine.expiry_jitter", \.quarantine.policy.expiryJitterSeconds, from: new, live: true)
        // Built at start.
        take("mode", \.mode, from: new, live: false)
        take("queues", \.queues, from: new, live: false)
        take("marks", \.marks, from: new, live: false)
        take("nftables", \.nftables, from: new, live: false)
        take("conntrack", \.conntrack, from: new, live: false)
        take("rules", \.rulesPath, from: new, live: false)
        take("malformed_action", \.malformedAction, from: new, live: false)
        take("eve", \.evePath, from: new, live: false)
        take("log_level", \.logLevel, from: new, live: false)
        take("control", \.control, from: new, live: false)
        take("quarantine.database", \.quarantine.database, from: new, live: false)
        take("signatures.enabled", \.signatures.enabled, from: new, live: false)
        take("signatures.stream.depth_bytes", \.signatures.streamDepthBytes, from: new, live: false)
        take("signatures.stream.window_bytes", \.signatures.streamWindowBytes, from: new, live: false)
        take("signatures.stream.out_of_order_bytes", \.signatures.streamOutOfOrderBytes, from: new, live: false)
        take("signatures.stream.memcap_bytes", \.signatures.streamMemcapBytes, from: new, live: false)
        take("signatures.http.body_inspect_bytes", \.signatures.httpBodyInspectBytes, from: new, live: false)
        take("detection", \.detection, from: new, live: false)
        // A setting this list does not name yet is never applied silently.
        everything.sourceFile = new.sourceFile
        if everything != new { restartRequired.append("other settings") }
    }

    /// `running` with every change taken, live or not: equal to `new` when
    /// the keys above cover every setting.
    private var everything: SocfwConfig

    private mutating func take<T: Equatable>(_ key: String, _ path: WritableKeyPath<SocfwConfig, T>,
                                             from new: SocfwConfig, live: Bool) {
        guard merged[keyPath: path] != new[keyPath: path] else { return }
        everything[keyPath: path] = new[keyPath: path]
        if live {
            merged[keyPath: path] = new[keyPath: path]
            applied.append(key)
        } else {
            restartRequired.append(key)
        }
    }
}
