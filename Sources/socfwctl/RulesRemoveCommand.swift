import ArgumentParser

/// `socfwctl rules rm NAME`: remove a rule from the managed rules file and apply the change.
struct RulesRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a rule from the managed rules file and apply the change.",
        aliases: ["delete"]
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The rule's name.")
    var name: String

    func run() throws {
        options.show(try options.request("rules.delete", ["name": .string(name)])) {
            "rule '\(name)' removed: " + ReloadCommand.summary($0)
        }
    }
}
