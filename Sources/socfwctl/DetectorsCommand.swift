import ArgumentParser

/// `socfwctl detectors`: behavioural detections, protocol anomalies and the
/// sources the detectors block.
struct DetectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detectors",
        abstract: "Show detections, anomaly counters and blocked sources; lift a detection's block.",
        subcommands: [DetectorsStatsCommand.self, DetectorsUnblockCommand.self],
        defaultSubcommand: DetectorsStatsCommand.self
    )
}

struct DetectorsStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Detections per detector, packets per anomaly, blocked sources, thresholds and memory."
    )

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "List every anomaly, also those never seen.")
    var all = false

    func run() throws {
        options.show(try options.request("detectors.stats")) { r in
            guard r["enabled"]?.bool == true else { return "detection is disabled (detection.enabled: false)" }
            var lines: [String] = []
            if case .object(let by)? = r["detections"] {
                lines.append("detections: " + by.map { "\($0.key) \($0.value.displayText)" }.joined(separator: ", "))
            }
            lines.append("dropped: \(Format.count(r["blocked_packets"])) packets from blocked sources, "
                + "\(Format.count(r["anomaly_drops"])) anomalous packets")
            lines.append("memory: \(Format.count(r["memory_bytes"])) bytes (fixed), \(Format.count(r["evictions"])) evictions")
            if case .object(let detectors)? = r["detectors"] {
                for (name, d) in detectors where d["enabled"]?.bool != nil {
                    var parts: [String] = []
                    if case .object(let fields) = d {
                        for (k, v) in fields where k != "enabled" && k != "response" { parts.append("\(k)=\(v.displayText)") }
                    }
                    let response = d["response"].map { "\($0["action"]?.displayText ?? "-")" } ?? "-"
                    lines.append("  \(name): \(d["enabled"]?.bool == true ? "on" : "off"), response \(response)"
                        + (parts.isEmpty ? "" : "; " + parts.joined(separator: " ")))
                }
            }
            let anomalies = (r["anomalies"]?.array ?? []).filter { all || ($0["packets"]?.int ?? 0) > 0 }
            lines.append("")
            if anomalies.isEmpty {
                lines.append("no anomalous packets (--all lists the checks)")
            } else {
                var table = TextTable([.left("ANOMALY"), .right("SID"), .left("ACTION"), .right("PACKETS"), .left("WHAT")])
                for a in anomalies {
                    table.append([a["id"]?.displayText ?? "-", a["sid"]?.displayText ?? "-", a["action"]?.displayText ?? "-",
                                  Format.count(a["packets"]), a["summary"]?.displayText ?? "-"])
                }
                lines.append(table.rendered)
            }
            let blocked = r["blocked"]?.array ?? []
            lines.append("")
            if blocked.isEmpty {
                lines.append("no source is blocked by a detection")
            } else {
                var table = TextTable([.left("BLOCKED SOURCE"), .left("UNTIL"), .right("SECONDS LEFT")])
                for b in blocked {
                    table.append([b["address"]?.displayText ?? "-", b["until"]?.displayText ?? "-", b["seconds_left"]?.displayText ?? "-"])
                }
                lines.append(table.rendered)
            }
            return lines.joined(separator: "\n")
        }
    }
}

struct DetectorsUnblockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unblock",
        abstract: "Stop dropping a source a detection blocked (a quarantine is released with `socfwctl quarantine rm`)."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The blocked source address.")
    var address: String

    func run() throws {
        options.show(try options.request("detectors.unblock", ["address": .string(address)])) { r in
            "unblocked \(r["unblocked"]?.displayText ?? address)"
        }
    }
}
