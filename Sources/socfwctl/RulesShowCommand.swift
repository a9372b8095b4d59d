import ArgumentParser

/// `socfwctl rules show NAME`: one rule with all its fields and conditions.
struct RulesShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one rule: action, priority, conditions, where it is defined and its hits."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The rule's name.")
    var name: String

    func run() throws {
        options.show(try options.request("rules.get", ["name": .string(name)]), text: Self.details)
    }

    static func details(_ rule: JSONValue) -> String {
        var fields = FieldList()
        fields.add("name", rule["name"]?.displayText ?? "-")
        if let id = rule["id"]?.int { fields.add("id", String(id)) }
        fields.add("action", rule["action"]?.displayText ?? "-")
        fields.add("priority", rule["priority"]?.displayText ?? "0")
        fields.add("enabled", Format.yesNo(rule["enabled"]))
        if let description = rule["description"]?.string, !description.isEmpty { fields.add("description", description) }
        fields.add("defined at", rule["origin"]?.string ?? rule["file"]?.string ?? "-")
        fields.add("managed", Format.yesNo(rule["managed"]))
        fields.add("hits", "\(Format.count(rule["hits", "packets"])) packets, \(Format.bytes(rule["hits", "bytes"])), "
            + "last \(Format.timestamp(nanoseconds: rule["hits", "last_hit_ns"]))")
        let conditions = rule["conditions"]?.array ?? []
        fields.add("conditions", conditions.isEmpty ? "none (every packet)" : "")
        return fields.rendered + conditions.map { "\n  " + RulesCommand.conditionText($0) }.joined()
    }
}
