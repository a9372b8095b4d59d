import ArgumentParser
import Logging
import SocfwAPI

/// `socfw-api --config /etc/socfw/socfw-api.yaml`: the management-plane
/// HTTP server, a client of socfwd's control socket (Docs/api.md).
@main
struct SocfwAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socfw-api",
        abstract: "socfw's management-plane HTTP API (REST, WebSocket, metrics), a client of socfwd's control socket.")

    @Option(name: .long, help: "The configuration file (YAML; Docs/api.md, \"Configuration\").")
    var config: String = "/etc/socfw/socfw-api.yaml"

    @Flag(name: .long, help: "Check the configuration file and exit.")
    var check = false

    func run() async throws {
        let configuration: APIConfig
        do {
            configuration = try APIConfig.load(path: config)
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        if check {
            print("\(config): ok")
            return
        }
        var logger = Logger(label: "socfw-api")
        logger.logLevel = configuration.logLevel
        let app = try buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}
