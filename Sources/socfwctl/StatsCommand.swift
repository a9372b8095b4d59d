import ArgumentParser
import Foundation

/// `socfwctl stats`: counters per queue and in total, once or continuously.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show packet, verdict, kernel queue and flow counters per queue and in total.",
        discussion: "With --watch, socfwctl subscribes to socfwd's stats (published every second) and redraws until Ctrl-C."
    )

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Keep showing the counters, with packet rates, until interrupted.")
    var watch = false

    @Option(name: .long, help: ArgumentHelp("Seconds between updates with --watch (socfwd publishes every second).", valueName: "seconds"))
    var interval: Double = 1

    func validate() throws {
        guard interval > 0, interval <= 86_400 else { throw ValidationError("--interval must be between 0 and 86400 seconds") }
        if !watch && interval != 1 { throw ValidationError("--interval needs --watch") }
    }

    func run() throws {
        guard watch else {
            options.show(try options.request("stats")) { Self.report($0) }
            return
        }
        let client = try options.connect()
        try options.reportingFailure {
            _ = try client.call("subscribe", params: ["topics": .array([.string("stats")])])
            var previous: Sample?
            try client.readEvents { event, data in
                let now = ContinuousClock.now
                guard event == "stats" else { return }
                if let previous, now - previous.time < .seconds(interval) - .milliseconds(100) { return }
                show(data, previous: previous.map { (stats: $0.stats, elapsed: now - $0.time) })
                previous = Sample(time: now, stats: data)
            }
        }
    }

    private func show(_ stats: JSONValue, previous: (stats: JSONValue, elapsed: Duration)?) {
        if options.json {
            print(stats.prettyText)
        } else {
            let clock = Format.clockTime(Date())
            if Terminal.standardOutputIsTerminal { Terminal.clearScreen() }
            print("socfwd stats at \(clock), every \(Format.rate(.double(interval))) s (Ctrl-C to stop)\n")
            print(Self.report(stats, previous: previous))
            if !Terminal.standardOutputIsTerminal { print() }
        }
        Terminal.flush()
    }

    /// One stats result and when it arrived, for rates.
    struct Sample {
        var time: ContinuousClock.Instant
        var stats: JSONValue
    }

    /// Per-queue counters (the `stats=` log object's `queues`); the totals are at its top level.
    static let columns: [(title: String, key: String)] = [
        ("PACKETS", "packets"), ("ACCEPTED", "accepted"), ("DROPPED", "dropped"), ("REJECTED", "rejected"),
        ("MALFORMED", "malformed"), ("BATCHES", "batches"), ("NL ERRORS", "netlink_errors"),
        ("K WAITING", "kernel_waiting"), ("K QDROP", "kernel_queue_dropped"), ("K USERDROP", "kernel_user_dropped"),
    ]

    /// The table and flow counters; with the `previous` stats and the time since them, packet rates too.
    static func report(_ stats: JSONValue, previous: (stats: JSONValue, elapsed: Duration)? = nil) -> String {
        let queues = stats["queues"]?.array ?? []
        let previousQueues = previous?.stats["queues"]?.array ?? []
        func rate(_ now: JSONValue?, _ before: JSONValue?) -> String {
            guard let now = now?.int, let before = before?.int, let elapsed = previous?.elapsed, elapsed > .milliseconds(500) else {
                return "-"
            }
            return Format.rate(.double(Double(now - before) / elapsed.inSeconds))
        }

        var table = TextTable([.left("QUEUE")] + columns.map { .right($0.title) } + (previous == nil ? [] : [.right("PKTS/S")]))
        for q in queues {
            var row = [q["queue"]?.displayText ?? "-"] + columns.map { Format.count(q[$0.key]) }
            if previous != nil {
                let before = previousQueues.first { $0["queue"] == q["queue"] }
                row.append(rate(q["packets"], before?["packets"]))
            }
            table.append(row)
        }
        var totalRow = ["total"] + columns.map { column in
            if let value = stats[column.key] { return Format.count(value) }
            let values = queues.compactMap { $0[column.key]?.int }
            return values.count == queues.count && !queues.isEmpty ? Format.count(values.reduce(0, +)) : "-"
        }
        if let previous {
            totalRow.append(rate(stats["packets"], previous.stats["packets"]))
        }
        table.append(totalRow)

        var fields = FieldList()
        fields.add("bytes", Format.bytes(stats["bytes"]))
        fields.add("events", "\(Format.count(stats["events"])), lost \(Format.count(stats["events_lost"]))")
        fields.add("bypass verdicts", Format.count(stats["bypass_verdicts"]))
        let flows = stats["flows"]
        let flowKeys = ["active", "new", "closed", "expired", "invalid", "early_dropped", "bypassed"]
        fields.add("flows", flowKeys.map { "\($0.replacingOccurrences(of: "_", with: " ")) \(Format.count(flows?[$0]))" }
            .joined(separator: ", "))
        return table.rendered + "\n\n" + fields.rendered
    }
}
