import ArgumentParser
import Foundation

/// `socfwctl config check FILE`: has socfwd validate a configuration file and its rules.
struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration file and the rules it names, without applying them.",
        discussion: "socfwd reads the file itself (the path is sent, made absolute), so it must be readable by socfwd's user."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The configuration file (YAML).", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    func run() throws {
        let path = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
            .standardizedFileURL.path
        options.show(try options.request("config.check", ["path": .string(path)])) { r in
            "\(path): ok, \(RulesCheckCommand.ruleCount(r["rules"])), \(Format.count(r["enabled"])) enabled"
        }
    }
}
