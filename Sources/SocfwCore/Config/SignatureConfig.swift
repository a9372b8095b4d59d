import SocfwIDS
import SocfwWire

/// `signatures:` in the configuration (Docs/signatures.md).
public struct SignatureConfig: Equatable, Sendable {
    /// Inspect payloads at all.
    public var enabled = true
    /// Load the built-in seed set (`DefaultSignatures`).
    public var defaultSet = true
    /// Files or directories: `*.yaml` seed files and `*.rules` Suricata / Snort 3 files.
    public var paths: [String] = []
    /// A Suricata `classification.config`; the built-in table otherwise.
    public var classificationFile: String? = nil
    /// Address and port variables (`HOME_NET: "[10.0.0.0/8]"`), over Suricata's defaults.
    public var addressVariables: [String: String] = [:]
    public var portVariables: [String: String] = [:]
    /// `suricata`, `snort3` or `auto` (per rule).
    public var dialect = "auto"
    /// Stream reassembly (bytes).
    public var streamDepthBytes = 1 << 20
    public var streamWindowBytes = 8192
    public var streamOutOfOrderBytes = 65536
    public var streamMemcapBytes = 64 << 20
    /// HTTP request bodies are inspected up to this many bytes.
    public var httpBodyInspectBytes = 16384
    /// Which signature hits quarantine the attacker (`quarantine:`).
    public var quarantine = SignatureQuarantine()

    public init() {}

    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.utf8.first, (65...90).contains(first), s.utf8.count <= 64 else { return false }
        return s.utf8.allSatisfy { (65...90).contains($0) || (48...57).contains($0) || $0 == 95 }
    }

    static func parse(_ node: YAMLNode, resolve: (String) -> String) throws(ConfigError) -> SignatureConfig {
        var c = SignatureConfig()
        let m = try node.mapping(allowed: [
            "enabled", "default_set", "paths", "classification", "address_vars", "port_vars", "dialect", "stream",
            "http", "quarantine",
        ])
        if let v = m["enabled"] { c.enabled = try v.bool() }
        if let v = m["default_set"] { c.defaultSet = try v.bool() }
        if let list = m["paths"], !list.isNull {
            for item in list.isSequence ? try list.sequence() : [list] { c.paths.append(resolve(try item.string())) }
        }
        if let v = m["classification"] { c.classificationFile = v.isNull ? nil : resolve(try v.string()) }
        for (key, path) in [("address_vars", \SignatureConfig.addressVariables), ("port_vars", \.portVariables)] {
            guard let vars = m[key], !vars.isNull else { continue }
            for (name, value) in try vars.mapping(allowed: nil) {
                guard isVariableName(name) else {
                    throw value.error("variable names are upper-case letters, digits and '_' (e.g. HOME_NET)")
                }
                c[keyPath: path][name] = try value.string()
            }
        }
        if let v = m["dialect"] { c.dialect = try v.oneOf([("auto", "auto"), ("suricata", "suricata"), ("snort3", "snort3")], what: "dialect") }
        if let s = m["stream"] {
            let sm = try s.mapping(allowed: ["depth_bytes", "window_bytes", "out_of_order_bytes", "memcap_bytes"])
            if let v = sm["depth_bytes"] { c.streamDepthBytes = try v.integer(in: 0...(1 << 30)) }
            if let v = sm["window_bytes"] { c.streamWindowBytes = try v.integer(in: 256...(1 << 20)) }
            if let v = sm["out_of_order_bytes"] { c.streamOutOfOrderBytes = try v.integer(in: 0...(16 << 20)) }
            if let v = sm["memcap_bytes"] { c.streamMemcapBytes = try v.integer(in: (1 << 20)...(1 << 36)) }
        }
        if let h = m["http"] {
            let hm = try h.mapping(allowed: ["body_inspect_bytes"])
            if let v = hm["body_inspect_bytes"] { c.httpBodyInspectBytes = try v.integer(in: 0...(16 << 20)) }
        }
        if let q = m["quarantine"], !q.isNull {
            let qm = try q.mapping(allowed: ["sids", "blocking_priority", "duration"])
            if let list = qm["sids"], !list.isNull {
                for item in list.isSequence ? try list.sequence() : [list] {
                    c.quarantine.sids.insert(UInt32(try item.integer(in: 1...Int(UInt32.max))))
                }
            }
            if let v = qm["blocking_priority"] { c.quarantine.blockingPriority = v.isNull ? nil : try v.integer(in: 1...255) }
            if let v = qm["duration"], !v.isNull {
                switch QuarantinePolicy.parseDuration(try v.string()) {
                case let .success(seconds?): c.quarantine.seconds = seconds
                case .success(nil):
                    throw v.error("a signature quarantines for a set time; for ever-longer ones leave duration out (quarantine.escalation)")
                case let .failure(f): throw v.error(f.message)
                }
            }
        }
        return c
    }
}

/// `signatures.quarantine`: signature hits that quarantine the attacker,
/// through the quarantine manager (source `rule`, actor `signature:SID`).
public struct SignatureQuarantine: Equatable, Sendable {
    /// These signatures quarantine whenever they fire (alert or block).
    public var sids: Set<UInt32> = []
    /// Also any signature that drops or rejects with this priority or a
    /// more urgent one (1 is the most urgent); nil: none.
    public var blockingPriority: Int? = nil
    /// How long; nil: the escalation ladder (`quarantine.escalation`).
    public var seconds: Int64? = nil

    public init() {}

    public var isEnabled: Bool { !sids.isEmpty || blockingPriority != nil }

    /// The address to quarantine for `hit` on `packet`, or nil. The attacker
    /// is the flow's client (who opened the connection): the source of a
    /// packet to the server, the destination of one to the client; without
    /// a flow, the packet's source.
    public func target(for hit: SignatureHit, packet: PacketSummary, toServer: Bool?) -> IPAddress? {
        target(sid: hit.info.sid, priority: hit.info.priority, blocked: hit.blocked, packet: packet, toServer: toServer)
    }

    public func target(sid: UInt32, priority: Int, blocked: Bool, packet: PacketSummary, toServer: Bool?) -> IPAddress? {
        let chosen = sids.contains(sid) || (blocked && blockingPriority.map { priority <= $0 } == true)
        guard chosen else { return nil }
        return toServer == false ? packet.destination : packet.source
    }
}
