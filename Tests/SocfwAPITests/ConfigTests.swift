import Foundation
import Testing
import SocfwAPI

@Suite struct ConfigTests {
    @Test func emptyFileNeedsTLSOrPlainHTTP() {
        #expect(throws: ConfigError.self) { try APIConfig.parse(yaml: "", file: "api.yaml") }
    }

    @Test func defaultsApplyToAMinimalLoopbackConfig() throws {
        let config = try APIConfig.parse(yaml: "plain_http: true\n", file: "api.yaml")
        #expect(config.listen == .init(host: "127.0.0.1", port: 8443))
        #expect(config.controlSocket == "/run/socfw/socfwd.sock")
        #expect(config.webSocket.queueLength == 1024)
        #expect(config.corsOrigins.isEmpty)
    }

    @Test func unknownKeyIsRefusedWithFileLineAndField() throws {
        let yaml = """
        plain_http: true
        rate_limit:
          per_token: {rate: 5, burst: 10}
          per_adress: {rate: 5, burst: 10}
        """
        do {
            _ = try APIConfig.parse(yaml: yaml, file: "/etc/socfw/socfw-api.yaml")
            Issue.record("an unknown key was accepted")
        } catch let error as ConfigError {
            #expect(error.file == "/etc/socfw/socfw-api.yaml")
            #expect(error.line == 4)
            #expect(error.field == "rate_limit.per_adress")
            #expect(error.description.contains("unknown key"))
        }
    }

    @Test func plainHTTPOnANonLoopbackAddressIsRefused() throws {
        do {
            _ = try APIConfig.parse(yaml: "listen: {host: 0.0.0.0, port: 8443}\nplain_http: true\n", file: "api.yaml")
            Issue.record("plain HTTP on 0.0.0.0 was accepted")
        } catch let error as ConfigError {
            #expect(error.field == "plain_http")
            #expect(error.message.contains("loopback"))
        }
    }

    @Test(arguments: ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
    func plainHTTPOnLoopbackIsAccepted(host: String) throws {
        let config = try APIConfig.parse(yaml: "listen: {host: \"\(host)\"}\nplain_http: true\n", file: "api.yaml")
        #expect(config.plainHTTP)
    }

    @Test func wrongTypesNameTheField() throws {
        let cases: [(String, String)] = [
            ("plain_http: true\nlisten: {port: http}\n", "listen.port"),
            ("plain_http: true\nlisten: {port: 70000}\n", "listen.port"),
            ("plain_http: true\nwebsocket: {queue: 0}\n", "websocket.queue"),
            ("plain_http: true\nlog_level: loud\n", "log_level"),
            ("plain_http: true\ncors: {origins: [\"console.example.org\"]}\n", "cors.origins[0]"),
            ("tls: {certificate: /etc/cert.pem}\n", "tls.key"),
            ("plain_http: true\nrate_limit: {per_token: {rate: 5}}\n", "rate_limit.per_token.burst"),
        ]
        for (yaml, field) in cases {
            #expect(throws: ConfigError.self) { try APIConfig.parse(yaml: yaml, file: "api.yaml") }
            do { _ = try APIConfig.parse(yaml: yaml, file: "api.yaml") } catch let error as ConfigError {
                #expect(error.field == field, "\(yaml)")
            }
        }
    }

    @Test func theShippedExampleParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try APIConfig.load(path: root.appendingPathComponent("Packaging/etc/socfw-api.yaml").path)
        #expect(config.tls != nil)
        #expect(config.rateLimit.perToken.burst > 0)
    }
}
