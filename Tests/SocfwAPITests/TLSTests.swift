import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SocfwAPI

@Suite struct TLSTests {
    /// A self-signed P-256 certificate for localhost / 127.0.0.1, valid for
    /// 100 years, made with `openssl req -x509 -newkey ec ...` for these tests only.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let tls = APIConfig.TLS(certificatePath: fixtures.appendingPathComponent("localhost.crt").path,
                                   keyPath: fixtures.appendingPathComponent("localhost.key").path)

    @Test func servesHTTPSWithTheConfiguredCertificate() async throws {
        try await withAPI(.ahc(.https), configure: { configuration in
            configuration.plainHTTP = false
            configuration.tls = Self.tls
        }) { (api: Harness) async throws in
            let response = try await api.get("/api/v1/status")
            #expect(response.status == .ok)
            #expect(response.json == Samples.status)
        }
    }

    @Test func anUnreadableCertificateIsAConfigurationError() throws {
        var configuration = APIConfig()
        configuration.tls = .init(certificatePath: "/nonexistent/cert.pem", keyPath: Self.tls.keyPath)
        do {
            _ = try buildApplication(configuration: configuration, logger: .init(label: "test"))
            Issue.record("a missing certificate was accepted")
        } catch let error as ConfigError {
            #expect(error.field == "tls.certificate")
        }
    }
}
