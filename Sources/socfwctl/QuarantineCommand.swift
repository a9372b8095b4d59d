import ArgumentParser
import Foundation

/// `socfwctl quarantine`: cut hosts and networks off in the kernel, for a
/// time or until released.
struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "Quarantine, release and list hosts and networks.",
        discussion: """
            A quarantined address or prefix is dropped by the kernel itself (nftables sets quarantine4/6), \
            in both directions, until it expires or is released; the quarantine survives restarts. \
            Changes need group socfw-admin.
            """,
        subcommands: [QuarantineAddCommand.self, QuarantineImportCommand.self, QuarantineRemoveCommand.self,
                      QuarantineListCommand.self, QuarantineHistoryCommand.self]
    )

    static var columns: [TextTable.Column] {
        [.left("TARGET"), .left("SINCE"), .left("UNTIL"), .right("OFFENCE"), .left("SOURCE"), .left("REASON")]
    }

    static func row(_ q: JSONValue) -> [String] {
        let until: String
        if q["active"]?.bool == false {
            until = "released \(Format.timestamp(nanoseconds: q["released_at_ns"])) by \(q["released_by"]?.displayText ?? "-")"
        } else {
            until = q["expires_ns"].flatMap { $0 == .null ? nil : Format.timestamp(nanoseconds: $0) } ?? "permanent"
        }
        return [q["target"]?.displayText ?? "-", Format.timestamp(nanoseconds: q["timestamp_ns"]), until,
                q["offence"]?.displayText ?? "-", q["source"]?.displayText ?? "-", q["reason"]?.displayText ?? "-"]
    }
}

/// `socfwctl quarantine add TARGET [--for DURATION] [--reason TEXT]`.
struct QuarantineAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Quarantine an address or prefix.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "An IPv4 or IPv6 address or prefix (203.0.113.7, 198.51.100.0/24, 2001:db8::/48).")
    var target: String

    @Option(name: .customLong("for"), help: ArgumentHelp(
        "How long: 90s, 30m, 1h, 2d, 1w or permanent (default: socfwd's escalating durations).", valueName: "duration"))
    var duration: String?

    @Option(name: .long, help: "Why (kept in the history and the audit log).")
    var reason: String = "operator"

    @Option(name: .long, help: "A longer note.")
    var description: String?

    func run() throws {
        var params: [String: JSONValue] = ["target": .string(target), "reason": .string(reason)]
        if let duration { params["duration"] = .string(duration) }
        if let description { params["description"] = .string(description) }
        options.show(try options.request("quarantine.add", params)) { q in
            let until = q["expires_ns"].flatMap { $0 == .null ? nil : "until " + Format.timestamp(nanoseconds: $0) } ?? "permanently"
            return "quarantined \(q["target"]?.displayText ?? target) \(until) (offence \(q["offence"]?.displayText ?? "1"))"
        }
    }
}

/// `socfwctl quarantine import FILE [--for DURATION] [--reason TEXT]`.
struct QuarantineImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Quarantine every address or prefix of a file (one per line, # comments) at once.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The file (socfwd reads it; the path is made absolute).")
    var file: String

    @Option(name: .customLong("for"), help: ArgumentHelp("How long (default: socfwd's escalating durations).", valueName: "duration"))
    var duration: String?

    @Option(name: .long, help: "Why (default: import FILE).")
    var reason: String?

    func run() throws {
        let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        var params: [String: JSONValue] = ["path": .string(path)]
        if let duration { params["duration"] = .string(duration) }
        if let reason { params["reason"] = .string(reason) }
        options.show(try options.request("quarantine.import", params)) { r in
            var text = "quarantined \(Format.count(r["added"])) targets from \(path)"
            let refused = r["refused"]?.array ?? []
            if !refused.isEmpty {
                text += "; refused \(Format.count(r["refused_count"])):"
                for item in refused { text += "\n  \(item["target"]?.displayText ?? "-"): \(item["reason"]?.displayText ?? "-")" }
            }
            return text
        }
    }
}

/// `socfwctl quarantine rm TARGET`.
struct QuarantineRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Release a quarantined address or prefix.",
                                                    aliases: ["release"])

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The quarantined address or prefix, as listed by 'socfwctl quarantine ls'.")
    var target: String

    func run() throws {
        options.show(try options.request("quarantine.remove", ["target": .string(target)])) { q in
            "released \(q["target"]?.displayText ?? target)"
        }
    }
}

/// `socfwctl quarantine ls`.
struct QuarantineListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List active quarantines, newest first.",
                                                    aliases: ["list"])

    @OptionGroup var options: GlobalOptions

    func run() throws {
        options.show(try options.request("quarantine.list")) { r in
            let rows = r["quarantined"]?.array ?? []
            guard !rows.isEmpty else { return "nothing is quarantined" }
            var table = TextTable(QuarantineCommand.columns)
            for q in rows { table.append(QuarantineCommand.row(q)) }
            return table.rendered + "\n\n\(Format.count(rows.count, "quarantine")) active"
        }
    }
}

/// `socfwctl quarantine history [TARGET] [--limit N]`.
struct QuarantineHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Past and present quarantines, newest first.")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "Only this target.")
    var target: String?

    @Option(name: .long, help: ArgumentHelp("At most this many (default 50).", valueName: "n"))
    var limit: Int = 50

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1-10000") }
    }

    func run() throws {
        var params: [String: JSONValue] = ["limit": .int(Int64(limit))]
        if let target { params["target"] = .string(target) }
        options.show(try options.request("quarantine.history", params)) { r in
            let rows = r["history"]?.array ?? []
            guard !rows.isEmpty else { return "no quarantines recorded" }
            var table = TextTable(QuarantineCommand.columns)
            for q in rows { table.append(QuarantineCommand.row(q)) }
            return table.rendered
        }
    }
}
