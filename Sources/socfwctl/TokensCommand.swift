import ArgumentParser

/// `socfwctl tokens`: the management API's (socfw-api) bearer tokens.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Create, list and revoke socfw-api tokens.",
        discussion: """
            socfwd keeps only each token's SHA-256; the token itself is printed once, by 'create'. \
            Scopes: read (every GET), operate (enable/disable rules, quarantine, acknowledge alerts), \
            admin (rules, reload, tokens).
            """,
        subcommands: [TokensListCommand.self, TokensCreateCommand.self, TokensRevokeCommand.self],
        defaultSubcommand: TokensListCommand.self
    )
}

struct TokensListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List tokens (never their secrets).",
                                                    aliases: ["list"])

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Include revoked tokens.")
    var all = false

    func run() throws {
        options.show(try options.request("tokens.list", ["include_revoked": .bool(all)])) { r in
            let tokens = r["tokens"]?.array ?? []
            guard !tokens.isEmpty else { return "no tokens ('socfwctl tokens create NAME --scope read' makes one)" }
            var table = TextTable([.left("NAME"), .left("SCOPES"), .left("CREATED"), .left("BY"), .left("STATE")])
            for t in tokens {
                let scopes = (t["scopes"]?.array ?? []).map(\.displayText).joined(separator: ",")
                let state = t["revoked_ns"] == .null
                    ? "live" : "revoked \(Format.timestamp(nanoseconds: t["revoked_ns"])) by \(t["revoked_by"]?.displayText ?? "-")"
                table.append([t["name"]?.displayText ?? "-", scopes, Format.timestamp(nanoseconds: t["created_ns"]),
                              t["created_by"]?.displayText ?? "-", state])
            }
            return table.rendered
        }
    }
}

struct TokensCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a token and print it (once; needs group socfw-admin).")

    @OptionGroup var options: GlobalOptions

    @Argument(help: "A name for the token: who or what uses it (letters, digits, '.', '-', '_').")
    var name: String

    @Option(name: .long, parsing: .upToNextOption,
            help: ArgumentHelp("read, operate and/or admin (default read).", valueName: "scope"))
    var scope: [String] = ["read"]

    func validate() throws {
        for s in scope where !["read", "operate", "admin"].contains(s) {
            throw ValidationError("--scope: '\(s)' is not read, operate or admin")
        }
    }

    func run() throws {
        let result = try options.request("tokens.create", ["name": .string(name), "scopes": .array(scope.map { .string($0) })])
        options.show(result) { t in
            """
            \(t["token"]?.displayText ?? "-")
            token '\(name)' (\(scope.joined(separator: ","))) created: it is shown only now, store it safely
            """
        }
    }
}

struct TokensRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token at once (needs group socfw-admin).",
                                                    aliases: ["rm"])

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The token's name.")
    var name: String

    func run() throws {
        options.show(try options.request("tokens.revoke", ["name": .string(name)])) { _ in "token '\(name)' revoked" }
    }
}
