import ArgumentParser

/// `socfwctl rules list`: every rule in evaluation order, with hit counts and where it is defined.
struct RulesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every rule in evaluation order (priority, then file order) with its hits.",
        discussion: "Rules defined in the managed file, the ones socfwctl can change, are marked (managed)."
    )

    @OptionGroup var options: GlobalOptions

    func run() throws {
        options.show(try options.request("rules.list"), text: Self.table)
    }

    static func table(_ result: JSONValue) -> String {
        let rules = (result["rules"]?.array ?? []).enumerated().sorted {
            let (a, b) = ($0.element["priority"]?.int ?? 0, $1.element["priority"]?.int ?? 0)
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)
        guard !rules.isEmpty else { return "no rules" }
        var table = TextTable([.right("PRIO"), .left("NAME"), .left("ACTION"), .left("ENABLED"), .right("HITS"), .left("DEFINED AT")])
        for rule in rules {
            var origin = rule["origin"]?.string ?? rule["file"]?.string ?? "-"
            if rule["managed"]?.bool == true { origin += " (managed)" }
            table.append([
                rule["priority"]?.displayText ?? "0", rule["name"]?.displayText ?? "-", rule["action"]?.displayText ?? "-",
                Format.yesNo(rule["enabled"]), Format.count(rule["hits", "packets"]), origin,
            ])
        }
        let enabled = rules.filter { $0["enabled"]?.bool != false }.count
        return table.rendered + "\n\n\(Format.count(rules.count, "rule")), \(Format.count(Int64(enabled))) enabled"
    }
}
