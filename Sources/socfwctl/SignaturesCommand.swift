import ArgumentParser

/// `socfwctl signatures`: the IDS signatures in force and what they matched.
struct SignaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signatures",
        abstract: "Show the IDS signatures in force, their matches and the load report.",
        subcommands: [SignaturesStatsCommand.self, SignaturesListCommand.self],
        defaultSubcommand: SignaturesStatsCommand.self
    )

    static func table(_ rows: [JSONValue]) -> String {
        var table = TextTable([.right("SID"), .left("ACTION"), .right("MATCHES"), .left("CONTEXT"), .left("SIGNATURE")])
        for s in rows {
            table.append([s["sid"]?.displayText ?? "-", s["action"]?.displayText ?? "-", Format.count(s["matches"]),
                          s["context"]?.displayText ?? "-", s["signature"]?.displayText ?? "-"])
        }
        return table.rendered
    }
}

struct SignaturesStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Signatures loaded and skipped (per keyword), matches, and the most matched signatures.",
        discussion: "Matches are counted since the signatures were last loaded (a reload starts them again)."
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "How many of the most matched signatures to show.")
    var top: Int = 20

    func validate() throws {
        guard (0...10_000).contains(top) else { throw ValidationError("--top must be between 0 and 10000") }
    }

    func run() throws {
        options.show(try options.request("signatures.stats", ["top": .int(Int64(top))])) { r in
            var lines: [String] = []
            lines.append("\(Format.count(r["active"])) signatures active; \(Format.count(r["matches"])) matches since loaded")
            if let load = r["load"], load["rules_seen"] != nil {
                lines.append("loaded from rule files: \(Format.count(load["rules_loaded"])) of \(Format.count(load["rules_seen"])) "
                    + "(\(Format.count(load["rules_skipped"])) skipped, \(Format.count(load["not_compiled"])) not compiled), "
                    + "\(Format.count(load["seed"])) seed signatures, in \(load["milliseconds"]?.displayText ?? "-") ms")
            }
            if case .object(let skipped)? = r["skipped_per_keyword"], !skipped.isEmpty {
                let ranked = skipped.sorted { ($0.value.int ?? 0, $1.key) > ($1.value.int ?? 0, $0.key) }.prefix(12)
                lines.append("skipped per keyword: " + ranked.map { "\($0.key) \($0.value.displayText)" }.joined(separator: ", "))
            }
            let top = r["top"]?.array ?? []
            lines.append("")
            lines.append(top.isEmpty ? "no signature has matched" : SignaturesCommand.table(top))
            return lines.joined(separator: "\n")
        }
    }
}

struct SignaturesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List signatures in load order with their matches."
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Only this sid.")
    var sid: Int?

    @Option(name: .long, help: "At most this many.")
    var limit: Int = 100

    @Option(name: .long, help: "Skip this many first.")
    var offset: Int = 0

    func validate() throws {
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 100000") }
        guard offset >= 0 else { throw ValidationError("--offset must not be negative") }
        if let sid, sid < 1 || sid > Int(UInt32.max) { throw ValidationError("--sid must be between 1 and 4294967295") }
    }

    func run() throws {
        var params: [String: JSONValue] = ["limit": .int(Int64(limit)), "offset": .int(Int64(offset))]
        if let sid { params["sid"] = .int(Int64(sid)) }
        options.show(try options.request("signatures.list", params)) { r in
            let rows = r["signatures"]?.array ?? []
            guard !rows.isEmpty else { return sid != nil ? "no signature with sid \(sid!)" : "no signatures" }
            return SignaturesCommand.table(rows) + "\n\n\(rows.count) of \(Format.count(r["total"])) signatures"
        }
    }
}
