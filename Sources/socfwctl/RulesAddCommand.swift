import ArgumentParser

/// `socfwctl rules add`: appends a rule to the managed rules file and applies it.
struct RulesAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a rule to the managed rules file and apply it.",
        discussion: """
            Each --match is one condition, "FIELD OPERATOR VALUE" (Docs/rules.md lists the fields and \
            operators); everything after the operator is the value, spaces included. For `in` and `cidr` \
            the value is a comma-separated list (in a tcp_flags list write a flag set as syn|ack). \
            A rule without --match matches every packet. Example:

              socfwctl rules add --name drop-8080 --action drop --priority 5 \\
                --match "protocol eq tcp" --match "dst_port in 8080,8000-8010"
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "Unique rule name.")
    var name: String

    @Option(name: .long, help: "What the rule does when all its conditions hold.")
    var action: RuleActionArgument

    @Option(name: .long, help: "Lower numbers are evaluated first; ties keep file order.")
    var priority: Int = 0

    @Flag(name: .long, help: "Add the rule disabled.")
    var disabled = false

    @Option(name: .long, help: "Free text shown with the rule.")
    var description: String?

    @Option(name: .long, help: ArgumentHelp("A condition, \"FIELD OPERATOR VALUE\" (repeatable; all must hold).", valueName: "condition"))
    var match: [String] = []

    func validate() throws {
        _ = try conditions()
    }

    func run() throws {
        var rule: [String: JSONValue] = [
            "name": .string(name), "action": .string(action.rawValue), "priority": .int(Int64(priority)),
            "enabled": .bool(!disabled), "conditions": .array(try conditions()),
        ]
        if let description { rule["description"] = .string(description) }
        options.show(try options.request("rules.add", ["rule": .object(rule)])) {
            "rule '\(name)' added: " + ReloadCommand.summary($0)
        }
    }

    private func conditions() throws -> [JSONValue] {
        try match.map { try Self.condition(from: $0) }
    }

    /// `dst_port in 80,443` → `{"field":"dst_port","operator":"in","value":["80","443"]}`. The server
    /// validates fields, operators and values; only the shape is checked here.
    static func condition(from text: String) throws -> JSONValue {
        let words = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard words.count == 3 else {
            throw ValidationError("--match '\(text)': expected \"FIELD OPERATOR VALUE\", e.g. \"dst_port eq 443\"")
        }
        let field = String(words[0])
        let op = String(words[1])
        var value = words[2].trimmingCharacters(in: .whitespaces)
        if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
            value = String(value.dropFirst().dropLast())
        }
        // Values go as strings, as socfwd echoes them: it reads "80" and 80 alike.
        let parsed: JSONValue
        if op == "in" || op == "cidr" {
            let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !items.isEmpty else { throw ValidationError("--match '\(text)': the list of values is empty") }
            parsed = .array(items.map(JSONValue.string))
        } else {
            parsed = .string(value)
        }
        return .object(["field": .string(field), "operator": .string(op), "value": parsed])
    }
}

/// A rule action on the command line, in any case (`drop`, `DROP`); sent upper-case as in the YAML.
enum RuleActionArgument: String, CaseIterable, ExpressibleByArgument {
    case allow = "ALLOW", drop = "DROP", reject = "REJECT", log = "LOG", alert = "ALERT"

    init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }
}
