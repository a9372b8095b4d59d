import ArgumentParser

/// `socfwctl rules`: the rules in force, and changes to the managed rules file.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List, show, add, remove, enable, disable and check rules.",
        discussion: """
            Changes go to the managed file of the rules directory (90-managed.yaml) and are applied \
            like a reload; rules of other files are read-only. Changes need group socfw-admin.
            """,
        subcommands: [
            RulesListCommand.self, RulesShowCommand.self, RulesAddCommand.self, RulesRemoveCommand.self,
            RulesEnableCommand.self, RulesDisableCommand.self, RulesCheckCommand.self,
        ]
    )

    /// A rule's conditions as written: `dst_port in 23, 2323`.
    static func conditionText(_ c: JSONValue) -> String {
        let value: String
        switch c["value"] {
        case let .string(s)?: value = s.contains(" ") || s.isEmpty ? "\"\(s)\"" : s
        case let other?: value = other.displayText
        case nil: value = "-"
        }
        return "\(c["field"]?.displayText ?? "-") \(c["operator"]?.displayText ?? "-") \(value)"
    }
}
