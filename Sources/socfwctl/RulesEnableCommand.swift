import ArgumentParser

/// `socfwctl rules enable NAME`: enable a rule of the managed rules file and apply the change.
struct RulesEnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable a rule of the managed rules file and apply the change."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The rule's name.")
    var name: String

    func run() throws {
        options.show(try options.request("rules.enable", ["name": .string(name)])) {
            "rule '\(name)' enabled: " + ReloadCommand.summary($0)
        }
    }
}
