import ArgumentParser
import Foundation

/// `socfwctl alerts`: the newest alerts socfwd raised, following them live,
/// and acknowledging them.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List, follow and acknowledge alerts.",
        discussion: "Alerts are kept in socfwd's database (alerts table) across restarts; EVE output has them too.",
        subcommands: [AlertsListCommand.self, AlertsTailCommand.self, AlertsAckCommand.self]
    )

    /// One alert as a table row: id, time, signature, source → destination, state.
    static func row(_ a: JSONValue) -> [String] {
        let eve = a["eve"] ?? .null
        let alert = eve["alert"] ?? .null
        let signature = alert["signature"]?.displayText ?? "-"
        let action = alert["action"]?.displayText ?? "-"
        let proto = eve["proto"]?.displayText ?? "-"
        let from = ConnsCommand.endpoint(eve["src_ip"], eve["src_port"])
        let to = ConnsCommand.endpoint(eve["dest_ip"], eve["dest_port"])
        let acked = a["acknowledged_by"].flatMap { $0 == .null ? nil : "acked by \($0.displayText)" } ?? "open"
        return [a["id"]?.displayText ?? "-", Format.timestamp(nanoseconds: a["timestamp_ns"]), signature, action,
                "\(proto) \(from) -> \(to)", acked]
    }

    static var columns: [TextTable.Column] {
        [.right("ID"), .left("TIME"), .left("SIGNATURE"), .left("ACTION"), .left("FLOW"), .left("STATE")]
    }
}

/// `socfwctl alerts ls [--open] [--limit N] [filters] [--before ID]`.
struct AlertsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List alerts, newest first, optionally filtered.",
        discussion: "Pages: the last line names the --before value that shows the next (older) page.", aliases: ["list"])

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Only alerts nobody acknowledged yet.")
    var open = false

    @Option(name: .long, help: ArgumentHelp("Show at most this many (default 50).", valueName: "n"))
    var limit: Int = 50

    @Option(name: .long, help: ArgumentHelp("Only alerts older than this id (the next page).", valueName: "id"))
    var before: Int64?

    @Option(name: .long, help: ArgumentHelp("Only alerts raised in the last DURATION (90s, 30m, 1h, 2d).", valueName: "duration"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Only this severity: 1 (high), 2 (medium) or 3 (low).", valueName: "n"))
    var severity: Int?

    @Option(name: .long, help: ArgumentHelp("Only alerts from rule, signature, detector or anomaly.", valueName: "source"))
    var source: String?

    @Option(name: .long, help: ArgumentHelp("Only this signature id (or rule id).", valueName: "sid"))
    var sid: Int64?

    @Option(name: .long, help: ArgumentHelp("Only alerts whose source or destination is this address.", valueName: "address"))
    var address: String?

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1-10000") }
        if let severity, !(1...3).contains(severity) { throw ValidationError("--severity must be 1, 2 or 3") }
        if let since, Format.seconds(since) == nil { throw ValidationError("--since: '\(since)' is not a duration like 90s, 30m, 1h or 2d") }
    }

    func run() throws {
        var params: [String: JSONValue] = ["limit": .int(Int64(limit)), "open": .bool(open)]
        if let before { params["cursor"] = .string(String(before)) }
        if let since, let seconds = Format.seconds(since) {
            params["since_ns"] = .int(Int64(Date().timeIntervalSince1970 * 1e9) - seconds * 1_000_000_000)
        }
        if let severity { params["severity"] = .int(Int64(severity)) }
        if let source { params["source"] = .string(source) }
        if let sid { params["sid"] = .int(sid) }
        if let address { params["address"] = .string(address) }
        let result = try options.request("alerts.list", params)
        options.show(result) { r in
            let alerts = r["alerts"]?.array ?? []
            guard !alerts.isEmpty else { return open ? "no open alerts" : "no alerts" }
            var table = TextTable(AlertsCommand.columns)
            for a in alerts { table.append(AlertsCommand.row(a)) }
            var out = table.rendered + "\n\n\(Format.count(alerts.count, "alert")), newest first"
            if let next = r["next_cursor"]?.displayText, r["next_cursor"] != .null { out += "; older: --before \(next)" }
            return out
        }
    }
}

/// `socfwctl alerts tail [-f]`: the newest alerts, then (with -f) each new one as it is raised.
struct AlertsTailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tail", abstract: "Show the newest alerts; with -f, follow new ones live.")

    @OptionGroup var options: GlobalOptions

    @Flag(name: [.short, .customLong("follow")], help: "Keep printing alerts as socfwd raises them, until Ctrl-C.")
    var follow = false

    @Option(name: .short, help: ArgumentHelp("How many of the newest to show first (default 10).", valueName: "n"))
    var n: Int = 10

    func validate() throws {
        guard (0...10_000).contains(n) else { throw ValidationError("-n must be 0-10000") }
    }

    func run() throws {
        let client = try options.connect()
        try options.reportingFailure {
            // Subscribe first, so nothing raised between the list and the subscription is missed.
            if follow { _ = try client.call("subscribe", params: ["topics": .array([.string("alerts")])]) }
            var seen = Int64(0)
            if n > 0 {
                let recent = try client.call("alerts.list", params: ["limit": .int(Int64(n))])["alerts"]?.array ?? []
                for a in recent.reversed() {
                    print(line(a))
                    seen = max(seen, a["id"]?.int ?? 0)
                }
            }
            Terminal.flush()
            guard follow else { return }
            try client.readEvents { event, data in
                guard event == "alert", (data["id"]?.int ?? 0) > seen else { return }
                print(line(data))
                Terminal.flush()
            }
        }
    }

    private func line(_ a: JSONValue) -> String {
        options.json ? a.compactText : AlertsCommand.row(a).joined(separator: "  ")
    }
}

/// `socfwctl alerts ack ID`.
struct AlertsAckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge an alert (needs group socfw-admin).")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The alert's id (from 'socfwctl alerts ls').")
    var id: Int64

    func validate() throws {
        guard id >= 1 else { throw ValidationError("an alert id is a positive number") }
    }

    func run() throws {
        options.show(try options.request("alerts.ack", ["id": .int(id)])) { a in
            "alert \(id) acknowledged (\(a["eve"]?["alert"]?["signature"]?.displayText ?? "-"))"
        }
    }
}
