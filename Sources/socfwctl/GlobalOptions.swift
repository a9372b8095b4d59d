import ArgumentParser
import Foundation

/// The options every command takes: where socfwd listens, how long to wait,
/// and whether to print JSON for scripts instead of text for people.
struct GlobalOptions: ParsableArguments {
    static let defaultSocket = "/run/socfw/socfwd.sock"

    @Option(name: .long, help: ArgumentHelp(
        "socfwd's control socket (default: $SOCFW_SOCKET, else \(defaultSocket)).", valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the server's result as JSON (indented, keys sorted) instead of text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each reply.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        guard timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout must be between 0 and 86400 seconds") }
    }

    /// `--socket`, else `$SOCFW_SOCKET` when set and not empty, else the default.
    var socketPath: String {
        if let socket { return socket }
        if let env = ProcessInfo.processInfo.environment["SOCFW_SOCKET"], !env.isEmpty { return env }
        return Self.defaultSocket
    }

    /// Connects (reading the greeting); a failure is reported and becomes the exit code.
    func connect() throws -> ControlClient {
        try reportingFailure { try ControlClient(socketPath: socketPath, timeoutSeconds: timeout) }
    }

    /// Connects, calls `method` and returns its result; a failure is reported and becomes the exit code.
    func request(_ method: String, _ params: [String: JSONValue] = [:]) throws -> JSONValue {
        let client = try connect()
        return try reportingFailure { try client.call(method, params: params) }
    }

    /// With `--json` the result as JSON, otherwise `text(result)`.
    func show(_ result: JSONValue, text: (JSONValue) -> String) {
        print(json ? result.prettyText : text(result))
    }

    /// Runs `body`; a `ControlError` is printed as `socfwctl: message` on
    /// stderr and rethrown as its exit code, which ArgumentParser exits with silently.
    func reportingFailure<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ControlError {
            Terminal.writeError(error.message)
            throw ExitCode(error.exitCode)
        }
    }
}
