import ArgumentParser

/// `socfwctl reload`: socfwd re-reads its rules path, as on SIGHUP.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload the rules (as SIGHUP does); a bad rules file changes nothing.",
        discussion: "Needs group socfw-admin. A refused file is reported with file:line:column and field."
    )

    @OptionGroup var options: GlobalOptions

    func run() throws {
        options.show(try options.request("reload")) { "rules reloaded: " + Self.summary($0) }
    }

    /// The result of `reload` and of every rules change:
    /// `12 loaded, 11 enabled (parse 2.1 ms, compile 0.3 ms, generation 5)`.
    static func summary(_ r: JSONValue) -> String {
        var details: [String] = []
        if r["parse_ms"] != nil { details.append("parse \(Format.milliseconds(r["parse_ms"]))") }
        if r["compile_ms"] != nil { details.append("compile \(Format.milliseconds(r["compile_ms"]))") }
        if let generation = r["generation"] { details.append("generation \(generation.displayText)") }
        let counts = "\(Format.count(r["loaded"])) loaded, \(Format.count(r["enabled"])) enabled"
        return details.isEmpty ? counts : "\(counts) (\(details.joined(separator: ", ")))"
    }
}
