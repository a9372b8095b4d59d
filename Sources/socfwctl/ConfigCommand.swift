import ArgumentParser

/// `socfwctl config`: socfwd's configuration files.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check socfwd configuration files.",
        subcommands: [ConfigCheckCommand.self]
    )
}
