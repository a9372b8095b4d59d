import Foundation

/// Where socfwd sits in the network, which decides the hooks it diverts.
public enum DeploymentMode: String, CaseIterable, Sendable {
    /// Forwarded traffic between interfaces (the `forward` hook).
    case router
    /// Traffic to and from this machine (the `input` and `output` hooks).
    case host
    /// A transparent bridge: bridged IPv4/IPv6 through br_netfilter.
    case bridge
}

/// How packets are diverted to the queues.
public enum DiversionChoice: String, CaseIterable, Sendable {
    /// Native nft `queue` where the kernel has it, the xtables NFQUEUE target otherwise.
    case auto
    case native
    case xtables
}

public enum LogLevel: String, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical
}

/// NFQUEUE settings, applied per queue.
public struct QueueConfig: Equatable, Sendable {
    /// Number of queues, one worker thread each.
    public var count: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    public var first: Int = 0
    /// NFQA_CFG_QUEUE_MAXLEN: packets the kernel holds per queue.
    public var maxLength: Int = 4096
    /// Bytes of each packet copied to userspace.
    public var copyRange: Int = 65535
    /// NFQA_CFG_F_FAIL_OPEN: accept instead of drop when a queue is full.
    public var failOpen: Bool = true
    /// The queue rule's `bypass` flag: traffic flows when no socfwd is bound.
    /// false = fail-closed.
    public var bypass: Bool = true
    /// NFQA_CFG_F_GSO: take GSO super-packets whole (checksums may be partial).
    public var gso: Bool = true
    public var receiveBufferBytes: Int = 8 << 20
    /// Most packets read before their verdicts are sent.
    public var batchSize: Int = 64
    /// Send runs of equal verdicts as one NFQNL_MSG_VERDICT_BATCH.
    public var batchVerdicts: Bool = true
    public var cpuFanout: Bool = false

    public init() {}
}

/// Packet-mark bits that carry socfwd's decisions back to nftables.
public struct MarkConfig: Equatable, Sendable {
    public var mask: UInt32 = 0xff
    public var reject: UInt32 = 0x1
    public var bypass: UInt32 = 0x2
    public init() {}
}

public struct NftablesConfig: Equatable, Sendable {
    public var table: String = "socfw"
    public var diversion: DiversionChoice = .auto
    /// Chain priority of the base chains.
    public var priority: Int = 0
    public init() {}
}

/// socfwd's whole configuration (`/etc/socfw/socfwd.yaml`). Every field is
/// documented, with its default, in Docs/configuration.md.
public struct SocfwConfig: Equatable, Sendable {
    public var mode: DeploymentMode = .router
    public var queues = QueueConfig()
    public var marks = MarkConfig()
    public var nftables = NftablesConfig()
    public var conntrack = ConntrackConfig()
    /// A rules file, or a directory whose `*.yaml` files are loaded in name order.
    public var rulesPath: String = "/etc/socfw/rules.d"
    public var defaultAction: RuleAction = .allow
    /// Verdict for packets whose IP or transport header is truncated or invalid.
    public var malformedAction: RuleAction = .drop
    /// EVE JSON event log; nil disables it.
    public var evePath: String? = nil
    public var logLevel: LogLevel = .info
    /// The file this configuration was read from (for relative paths and messages).
    public var sourceFile: String = "<defaults>"
    public var control = ControlConfig()
    public var quarantine = QuarantineConfig()
    public var signatures = SignatureConfig()
    public var detection = DetectionConfig()

    public init() {}

    public static let defaultPath = "/etc/socfw/socfwd.yaml"

    /// Reads and fully validates a configuration file.
    public static func load(file: String) throws(ConfigError) -> SocfwConfig {
        try parse(YAMLNode.load(file: file))
    }

    public static func parse(yaml: String, file: String) throws(ConfigError) -> SocfwConfig {
        try parse(YAMLNode.parse(yaml, file: file))
    }

    static func parse(_ root: YAMLNode) throws(ConfigError) -> SocfwConfig {
        var c = SocfwConfig()
        c.sourceFile = root.file
        let top = try root.mapping(allowed: [
            "mode", "queues", "marks", "nftables", "conntrack", "rules", "default_action", "malformed_action", "eve", "log_level",
            "control", "quarantine", "signatures", "detection",
        ])
        if let n = top["mode"] { c.mode = try n.oneOf(DeploymentMode.self, what: "mode") }
        if let n = top["queues"] {
            let q = try n.mapping(allowed: [
                "count", "first", "max_length", "copy_range", "fail_open", "bypass", "gso",
                "receive_buffer_bytes", "batch_size", "batch_verdicts", "cpu_fanout",
            ])
            if let v = q["count"] { c.queues.count = try v.integer(in: 1...64) }
            if let v = q["first"] { c.queues.first = try v.integer(in: 0...65535) }
            if let v = q["max_length"] { c.queues.maxLength = try v.integer(in: 1...1_048_576) }
            if let v = q["copy_range"] { c.queues.copyRange = try v.integer(in: 64...65535) }
            if let v = q["fail_open"] { c.queues.failOpen = try v.bool() }
            if let v = q["bypass"] { c.queues.bypass = try v.bool() }
            if let v = q["gso"] { c.queues.gso = try v.bool() }
            if let v = q["receive_buffer_bytes"] { c.queues.receiveBufferBytes = try v.integer(in: 65536...(1 << 30)) }
            if let v = q["batch_size"] { c.queues.batchSize = try v.integer(in: 1...1024) }
            if let v = q["batch_verdicts"] { c.queues.batchVerdicts = try v.bool() }
            if let v = q["cpu_fanout"] { c.queues.cpuFanout = try v.bool() }
            if c.queues.first + c.queues.count > 65536, let v = q["count"] {
                throw v.error("queues first..first+count-1 must stay below 65536")
            }
        }
        if let n = top["marks"] {
            let m = try n.mapping(allowed: ["mask", "reject", "bypass"])
            if let v = m["mask"] { c.marks.mask = UInt32(try v.integer(in: 1...Int(UInt32.max))) }
            for (key, keyPath) in [("reject", \MarkConfig.reject), ("bypass", \MarkConfig.bypass)] {
                guard let v = m[key] else { continue }
                let value = UInt32(try v.integer(in: 1...Int(UInt32.max)))
                c.marks[keyPath: keyPath] = value
            }
            for (key, value) in [("reject", c.marks.reject), ("bypass", c.marks.bypass)] where value & ~c.marks.mask != 0 {
                throw (m[key] ?? n).error("mark \(key) 0x\(String(value, radix: 16)) has bits outside mask 0x\(String(c.marks.mask, radix: 16))")
            }
            if c.marks.reject == c.marks.bypass { throw n.error("marks reject and bypass must differ") }
        }
        if let n = top["nftables"] {
            let m = try n.mapping(allowed: ["table", "diversion", "priority"])
            if let v = m["table"] {
                let name = try v.string()
                guard NftablesConfig.isValidName(name) else {
                    throw v.error("table name must be 1-32 letters, digits or '_' and start with a letter")
                }
                c.nftables.table = name
            }
            if let v = m["diversion"] { c.nftables.diversion = try v.oneOf(DiversionChoice.self, what: "diversion") }
            if let v = m["priority"] { c.nftables.priority = try v.integer(in: -400...400) }
        }
        if let n = top["conntrack"] { c.conntrack = try ConntrackConfig.parse(n) }
        if let n = top["rules"] { c.rulesPath = c.resolve(try n.string()) }
        if let n = top["default_action"] {
            c.defaultAction = try n.oneOf(RuleAction.self, what: "action")
            guard c.defaultAction.isPlainVerdict else { throw n.error("default_action must be ALLOW, DROP or REJECT") }
        }
        if let n = top["malformed_action"] {
            c.malformedAction = try n.oneOf(RuleAction.self, what: "action")
            guard c.malformedAction.isPlainVerdict else { throw n.error("malformed_action must be ALLOW, DROP or REJECT") }
        }
        if let n = top["eve"] { c.evePath = n.isNull ? nil : c.resolve(try n.string()) }
        if let n = top["log_level"] { c.logLevel = try n.oneOf(LogLevel.self, what: "log level") }
        if let n = top["quarantine"] { c.quarantine = try QuarantineConfig.parse(n, resolve: c.resolve) }
        if let n = top["signatures"] { c.signatures = try SignatureConfig.parse(n, resolve: c.resolve) }
        if let n = top["detection"] { c.detection = try DetectionConfig.parse(n) }
        if let n = top["control"] {
            let m = try n.mapping(allowed: ["socket", "group", "admin_group", "max_clients"])
            if let v = m["socket"] { c.control.socket = v.isNull ? nil : c.resolve(try v.string()) }
            for (key, path) in [("group", \ControlConfig.group), ("admin_group", \ControlConfig.adminGroup)] {
                guard let v = m[key] else { continue }
                let name = try v.string()
                guard ControlConfig.isValidGroupName(name) else {
                    throw v.error("'\(name)' is not a group name (letters, digits, '_', '-', at most 32)")
                }
                c.control[keyPath: path] = name
            }
            if let v = m["max_clients"] { c.control.maxClients = try v.integer(in: 1...1024) }
        }
        return c
    }

    /// Paths in the file are relative to the file's own directory.
    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || sourceFile.hasPrefix("<") { return path }
        let dir = (sourceFile as NSString).deletingLastPathComponent
        return dir.isEmpty ? path : (dir as NSString).appendingPathComponent(path)
    }
}

/// The control socket (Docs/control-protocol.md).
public struct ControlConfig: Equatable, Sendable {
    /// Unix socket path; nil: no control socket.
    public var socket: String? = "/run/socfw/socfwd.sock"
    /// Members may use the reading methods.
    public var group = "socfw"
    /// Members may also use the mutating methods.
    public var adminGroup = "socfw-admin"
    public var maxClients = 64

    public init() {}

    static func isValidGroupName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 32 && !s.hasPrefix("-")
            && s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") }
    }
}

extension NftablesConfig {
    /// Names that reach nftables are restricted to a safe alphabet.
    public static func isValidName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 32,
              ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
