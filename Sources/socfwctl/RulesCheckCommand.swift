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
        let result = try options.reportingFailure {
            do {
                return try options.connect().call("rules.check", params: ["text": .string(text)])
            } catch let ControlError.server(code, message) {
                throw ControlError.server(code: code, message: Self.locating(message, in: file))
            }
        }
        options.show(result) { "\(file): ok, \(Self.ruleCount($0["rules"]))" }
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

    /// socfwd checks text, not a file, so its `NAME:LINE:COLUMN: ...` messages
    /// get this file's name; other messages are prefixed with it.
    static func locating(_ message: String, in file: String) -> String {
        let parts = message.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        let isNumber = { (s: Substring) in !s.isEmpty && s.allSatisfy(\.isASCII) && s.allSatisfy(\.isNumber) }
        if parts.count == 4, !parts[0].contains("\n"), !parts[0].contains(" "), isNumber(parts[1]), isNumber(parts[2]) {
            return "\(file):\(parts[1]):\(parts[2]):\(parts[3])"
        }
        return "\(file): \(message)"
    }

    /// `12 rules`: `rules` is a count; a list of rules counts too.
    static func ruleCount(_ value: JSONValue?) -> String {
        Format.count(value?.array.map { .int(Int64($0.count)) } ?? value, "rule")
    }
}
