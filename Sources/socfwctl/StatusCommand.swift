import ArgumentParser

/// `socfwctl status`: is socfwd inspecting, how, with which rules, and how much traffic.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether socfwd is inspecting, its mode, queues, rules and traffic."
    )

    @OptionGroup var options: GlobalOptions

    func run() throws {
        options.show(try options.request("status"), text: Self.summary)
    }

    static func summary(_ s: JSONValue) -> String {
        var fields = FieldList()
        let diversion = s["diversion"]?.string ?? ""
        // Without `inspecting` (not in the protocol document's list), a diversion in place means traffic reaches the queues.
        let inspecting = s["inspecting"]?.bool ?? !diversion.isEmpty
        fields.add("socfwd", "\(s["version"]?.displayText ?? "-") (pid \(s["pid"]?.displayText ?? "-")), up \(Format.duration(seconds: s["uptime_s"]))")
        fields.add("inspecting", (inspecting ? "yes" : "no") + ", \(s["mode"]?.displayText ?? "-") mode, diversion \(diversion.isEmpty ? "none" : diversion)")
        let count = s["queues", "count"]?.int
        let first = s["queues", "first"]?.int
        let queues = count.map { n in first.map { n == 1 ? "1 (queue \($0))" : "\(n) (\($0)-\($0 + n - 1))" } ?? "\(n)" } ?? "-"
        var queueDetails = "\(queues), a worker each, fail-open \(Format.yesNo(s["queues", "fail_open"]))"
        if let bypass = s["queues", "bypass"] { queueDetails += ", flow bypass \(Format.yesNo(bypass))" }
        fields.add("queues", queueDetails)
        var rules = "\(Format.count(s["rules", "loaded"])) loaded, \(Format.count(s["rules", "enabled"])) enabled"
        if let defaultAction = s["rules", "default_action"]?.string { rules += ", default \(defaultAction)" }
        var ruleDetails: [String] = []
        if let generation = s["rules", "generation"] { ruleDetails.append("generation \(generation.displayText)") }
        if let path = s["rules", "path"]?.string { ruleDetails.append(path) }
        if !ruleDetails.isEmpty { rules += " (\(ruleDetails.joined(separator: ", ")))" }
        fields.add("rules", rules)
        let verdicts = ["accept", "drop", "reject"].map { "\($0) \(Format.count(s["verdicts", $0]))" }
        fields.add("packets", "\(Format.count(s["packets"])) (\(verdicts.joined(separator: ", ")))")
        fields.add("rate", "\(Format.rate(s["pps"])) packets/s")
        fields.add("flows", "\(Format.count(s["flows_active"])) active")
        fields.add("events lost", Format.count(s["events_lost"]))
        return fields.rendered
    }
}
