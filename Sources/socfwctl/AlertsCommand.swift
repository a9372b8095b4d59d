import ArgumentParser

/// `socfwctl alerts`: the newest alerts socfwd raised, following them live,
/// and acknowledging them.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List, follow and acknowledge alerts.",
        discussion: "socfwd keeps the newest 10,000 alerts since it started; EVE output keeps all of them.",
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
        let acked = a["acknowledged_by"].flatMap { $0 == .null ? nil : "acked by uid \($0.displayText)" } ?? "open"
        return [a["id"]?.displayText ?? "-", Format.timestamp(nanoseconds: a["timestamp_ns"]), signature, action,
                "\(proto) \(from) -> \(to)", acked]
    }

    static var columns: [TextTable.Column] {
        [.right("ID"), .left("TIME"), .left("SIGNATURE"), .left("ACTION"), .left("FLOW"), .left("STATE")]
    }
}

/// `socfwctl alerts ls [--open] [--limit N]`.
struct AlertsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the newest alerts, newest first.",
                                                    aliases: ["list"])

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Only alerts nobody acknowledged yet.")
    var open = false

    @Option(name: .long, help: ArgumentHelp("Show at most this many (default 50).", valueName: "n"))
    var limit: Int = 50

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1-10000") }
    }

    func run() throws {
        let result = try options.request("alerts.list", ["limit": .int(Int64(limit)), "open": .bool(open)])
        options.show(result) { r in
            let alerts = r["alerts"]?.array ?? []
            guard !alerts.isEmpty else { return open ? "no open alerts" : "no alerts" }
            var table = TextTable(AlertsCommand.columns)
            for a in alerts { table.append(AlertsCommand.row(a)) }
            return table.rendered + "\n\n\(Format.count(alerts.count, "alert")), newest first"
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
