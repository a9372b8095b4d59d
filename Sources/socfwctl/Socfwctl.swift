import ArgumentParser
import Foundation

/// `socfwctl`: the operator's command line for a running socfwd, a client of
/// its control socket only (Docs/control-protocol.md).
///
/// Exit codes: 0 success, 1 refused or failed, 2 usage error, 3 permission
/// denied, 4 cannot connect.
@main
struct Socfwctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socfwctl",
        abstract: "Inspect and control a running socfwd through its control socket.",
        discussion: """
            Every command takes --socket PATH (default $SOCFW_SOCKET, else /run/socfw/socfwd.sock), \
            --timeout SECONDS and --json (the server's result as JSON, for scripts). \
            Reading needs group socfw; changing rules and reloading need group socfw-admin.

            Exit codes: 0 success, 1 refused or failed, 2 usage error, 3 permission denied, 4 cannot connect.
            """,
        subcommands: [
            StatusCommand.self, StatsCommand.self, ReloadCommand.self, RulesCommand.self,
            ConnsCommand.self, AlertsCommand.self, QuarantineCommand.self, ConfigCommand.self, SignaturesCommand.self, DetectorsCommand.self,
            TokensCommand.self,
        ]
    )

    /// ArgumentParser exits with EX_USAGE (64) on a usage error; socfwctl's
    /// scripts-facing contract is the conventional 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
