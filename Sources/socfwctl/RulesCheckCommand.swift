import ArgumentParser
import Foundation

/// `socfwctl rules check FILE`: has socfwd validate a rules file without applying it.
struct RulesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a rules file with socfwd's own checks, without applying it.",
        discussion: "The file is read here and its text sent, so it need not be readable by socfwd. "
            + "An error names file:line:column and the field."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The rules file (YAML).", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    func run() throws {
        let text = try options.reportingFailure { try Self.read(file) }
        // `file` names the text in socfwd's messages: file:line:column: field ...
        let result = try options.request("rules.check", ["text": .string(text), "file": .string(file)])
        options.show(result) { "\(file): ok, \(Self.ruleCount($0["rules"])), \(Format.count($0["enabled"])) enabled" }
    }

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = access(path, R_OK) == 0 ? "not a readable file" : String(cString: strerror(errno))
            throw ControlError.unreadableFile(path: path, reason: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ControlError.unreadableFile(path: path, reason: "not UTF-8 text")
        }
        return text
    }

    /// `12 rules`: `rules` is a count; a list of rules counts too.
    static func ruleCount(_ value: JSONValue?) -> String {
        Format.count(value?.array.map { .int(Int64($0.count)) } ?? value, "rule")
    }
}
