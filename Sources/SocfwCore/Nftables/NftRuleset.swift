/// Renders the nftables table socfwd installs (`table inet socfw`). The
/// reference copies in `nftables/` are this renderer's output for the
/// shipped defaults (a test keeps them equal), so what an operator reads
/// there is exactly what gets installed.
///
/// Layout (Docs/nftables.md explains each line):
/// * sets: allow, quarantine and blocklist, per address family;
/// * the base chain(s) for the mode start with the REJECT-by-mark rules,
///   because an NF_REPEAT verdict re-enters the same base chain from its
///   start (measured on these kernels: a reject rule in an earlier chain is
///   not revisited);
/// * allowlisted hosts skip the quarantine/blocklist drops but are inspected;
/// * everything else jumps to the regular chain `inspect`, where socfwd
///   appends the queue rule over netlink (`meta mark & MASK == 0 queue ...`,
///   with the native `queue` expression or the xtables NFQUEUE target).
public struct NftRuleset: Sendable {
    public var table: String
    public var mode: DeploymentMode
    public var markMask: UInt32
    public var rejectMark: UInt32
    public var bypassMark: UInt32
    /// Chain policy: `accept` with bypass (fail-open), `drop` when fail-closed.
    public var failClosed: Bool
    public var priority: Int

    public init(config: SocfwConfig) {
        table = config.nftables.table
        mode = config.mode
        markMask = config.marks.mask
        rejectMark = config.marks.reject
        bypassMark = config.marks.bypass
        failClosed = !config.queues.bypass
        priority = config.nftables.priority
    }

    /// The base chains for the mode, with their hooks.
    public var baseChains: [(name: String, hook: String)] {
        switch mode {
        case .router, .bridge: return [("forward", "forward")]
        case .host: return [("input", "input"), ("output", "output")]
        }
    }

    public static let inspectChain = "inspect"

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// The table definition. Loaded as one transaction together with the
    /// `table ...; delete table ...` prologue from `installScript`.
    public var definition: String { definition(elements: [:]) }

    /// The table with elements already in some sets (set name → nft element
    /// texts such as `192.0.2.7 timeout 3600000ms`), created in the same
    /// transaction as the table.
    public func definition(elements: [String: [String]]) -> String {
        let mask = NftRuleset.hex(markMask)
        let reject = NftRuleset.hex(rejectMark)
        let bypass = NftRuleset.hex(bypassMark)
        let keep = NftRuleset.hex(~markMask)
        var s = "table inet \(table) {\n"
        for family in ["4", "6"] {
            let type = family == "4" ? "ipv4_addr" : "ipv6_addr"
            s += "\tset allow\(family) {\n\t\ttype \(type)\n\t\tflags interval\n\t}\n\n"
        }
        for name in ["quarantine", "blocklist"] {
            for family in ["4", "6"] {
                let type = family == "4" ? "ipv4_addr" : "ipv6_addr"
                s += "\tset \(name)\(family) {\n\t\ttype \(type)\n\t\tflags interval,timeout\n"
                if let items = elements[name + family], !items.isEmpty {
                    s += "\t\telements = { " + items.joined(separator: ",\n\t\t\t     ") + " }\n"
                }
                s += "\t}\n\n"
            }
        }
        // Flows socfwd handed to the kernel (ct mark BYPASS) never reach the
        // queue rule that socfwd appends after this one.
        s += "\tchain \(NftRuleset.inspectChain) {\n"
        s += "\t\tct mark & \(mask) == \(bypass) accept\n"
        s += "\t}\n"
        for (name, hook) in baseChains {
            s += "\n\tchain \(name) {\n"
            s += "\t\ttype filter hook \(hook) priority \(priority); policy \(failClosed ? "drop" : "accept");\n"
            if mode != .bridge {
                // Bridge mode has no working kernel reject here: socfwd writes
                // the RST / ICMP error itself and answers DROP.
                s += "\t\tmeta mark & \(mask) == \(reject) meta l4proto tcp reject with tcp reset\n"
                s += "\t\tmeta mark & \(mask) == \(reject) reject with icmpx admin-prohibited\n"
            }
            // A BYPASS verdict (NF_REPEAT + mark) stores the mark in the
            // connection, so the rest of the flow is accepted in `inspect`.
            s += "\t\tmeta mark & \(mask) == \(bypass) ct mark set ct mark & \(keep) | \(bypass) accept\n"
            s += "\t\tip saddr @allow4 goto \(NftRuleset.inspectChain)\n"
            s += "\t\tip daddr @allow4 goto \(NftRuleset.inspectChain)\n"
            s += "\t\tip6 saddr @allow6 goto \(NftRuleset.inspectChain)\n"
            s += "\t\tip6 daddr @allow6 goto \(NftRuleset.inspectChain)\n"
            for set in ["quarantine", "blocklist"] {
                s += "\t\tip saddr @\(set)4 drop\n\t\tip daddr @\(set)4 drop\n"
                s += "\t\tip6 saddr @\(set)6 drop\n\t\tip6 daddr @\(set)6 drop\n"
            }
            s += "\t\tgoto \(NftRuleset.inspectChain)\n\t}\n"
        }
        s += "}\n"
        return s
    }

    /// Replaces any previous copy of the table (e.g. left by a crash) in one
    /// transaction: `table` creates it if missing so `delete` cannot fail.
    public var installScript: String { installScript(elements: [:]) }

    /// Replaces the table in one transaction (an existing one, left by a
    /// crash, is deleted in the same transaction).
    public func installScript(elements: [String: [String]]) -> String {
        "table inet \(table)\ndelete table inet \(table)\n" + definition(elements: elements)
    }

    public var removeScript: String { "delete table inet \(table)\n" }
}
