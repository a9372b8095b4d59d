import ArgumentParser

/// `socfwctl rules disable NAME`: disable a rule of the managed rules file and apply the change.
struct RulesDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable a rule of the managed rules file and apply the change."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The rule's name.")
    var name: String

    func run() throws {
        options.show(try options.request("rules.disable", ["name": .string(name)])) {
            "rule '\(name)' disabled: " + ReloadCommand.summary($0)
        }
    }
}
