import ArgumentParser
import CMalloc
import Foundation
import Hummingbird
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

    /// glibc hands blocks of 128 KiB and more to mmap, and gives the top of
    /// a heap back once 128 KiB are free there; both thresholds then move
    /// with what is freed. A page of alerts (60 KB, read from socfwd in
    /// pieces and gathered) made that a fresh mapping, page faults and a
    /// TLB shootdown per request: 5 % of the machine under load. Fixed
    /// thresholds keep freed memory for the next request; what stays
    /// resident is bounded by the busiest moment, not the request count.
    static func keepFreedMemory() {
        _ = mallopt(M_MMAP_THRESHOLD, 8 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 32 << 20)
    }

    /// sysexits(3) EX_CONFIG: the configuration file is wrong.
    static let configurationErrorExitCode: Int32 = 78

    func run() async throws {
        Self.keepFreedMemory()
        let configuration: APIConfig
        do {
            configuration = try APIConfig.load(path: config)
        } catch let error as ConfigError {
            // The file is at fault, not the command line: no usage text.
            FileHandle.standardError.write(Data("socfw-api: \(error)\n".utf8))
            throw ExitCode(Self.configurationErrorExitCode)
        }
        var logger = Logger(label: "socfw-api")
        logger.logLevel = configuration.logLevel
        do {
            // Building loads the certificate and key, so --check covers them too.
            let app = try buildApplication(configuration: configuration, logger: logger)
            if check {
                print("\(config): ok")
                return
            }
            try await app.runService()
        } catch let error as ConfigError {
            // An unreadable certificate or key.
            FileHandle.standardError.write(Data("socfw-api: \(error)\n".utf8))
            throw ExitCode(Self.configurationErrorExitCode)
        }
    }
}
