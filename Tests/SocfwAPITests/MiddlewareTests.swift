import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import SocfwAPI

@Suite struct MiddlewareTests {
    @Test func aTokenOverItsRateGets429WithRetryAfter() async throws {
        try await withAPI(configure: { $0.rateLimit.perToken = .init(ratePerSecond: 0.01, burst: 2) }) { (api: Harness) async throws in
            #expect(try await api.get("/api/v1/status").status == .ok)
            #expect(try await api.get("/api/v1/status").status == .ok)
            let limited = try await api.get("/api/v1/status")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.contentType] == "application/problem+json")
            let retryAfter = Int(limited.headers[.retryAfter] ?? "")
            #expect(retryAfter != nil && retryAfter! >= 1)
            // Another token has its own bucket.
            #expect(try await api.get("/api/v1/status", token: TestTokens.read).status == .ok)
        }
    }

    @Test func anAddressOverItsRateGets429EvenWithoutAToken() async throws {
        try await withAPI(configure: { $0.rateLimit.perAddress = .init(ratePerSecond: 0.01, burst: 3) }) { (api: Harness) async throws in
            for _ in 0..<3 { _ = try await api.get("/api/v1/status", token: nil) }
            let limited = try await api.get("/api/v1/status", token: TestTokens.admin)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    @Test func tokenBucketsRefill() {
        let buckets = TokenBuckets(.init(ratePerSecond: 10, burst: 1))
        let start = ContinuousClock.now
        #expect(buckets.take("a", now: start) == .allowed)
        #expect(buckets.take("a", now: start) == .limited(retryAfterSeconds: 1))
        #expect(buckets.take("a", now: start + .milliseconds(150)) == .allowed)
    }

    @Test func aPreflightFromAnAllowedOriginIsAnswered204() async throws {
        try await withAPI(configure: { $0.corsOrigins = ["https://console.example.org"] }) { (api: Harness) async throws in
            let response = try await api.request(.options, "/api/v1/rules/block-telnet", token: nil, headers: [
                .origin: "https://console.example.org", .accessControlRequestMethod: "DELETE",
                .accessControlRequestHeaders: "authorization",
            ])
            #expect(response.status == .noContent)
            #expect(response.headers[.accessControlAllowOrigin] == "https://console.example.org")
            #expect(response.headers[.accessControlAllowMethods]?.contains("DELETE") == true)
            #expect(response.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)

            let get = try await api.request(.get, "/api/v1/status", headers: [.origin: "https://console.example.org"])
            #expect(get.headers[.accessControlAllowOrigin] == "https://console.example.org")
            // Errors carry CORS headers too, so the browser can read them.
            let denied = try await api.request(.get, "/api/v1/status", token: nil, headers: [.origin: "https://console.example.org"])
            #expect(denied.status == .unauthorized)
            #expect(denied.headers[.accessControlAllowOrigin] == "https://console.example.org")
        }
    }

    @Test func anotherOriginGetsNoCORSHeaders() async throws {
        try await withAPI(configure: { $0.corsOrigins = ["https://console.example.org"] }) { (api: Harness) async throws in
            let preflight = try await api.request(.options, "/api/v1/status", token: nil, headers: [
                .origin: "https://evil.example", .accessControlRequestMethod: "GET",
            ])
            #expect(preflight.status == .forbidden)
            #expect(preflight.headers[.accessControlAllowOrigin] == nil)
            #expect(preflight.headers[.accessControlAllowMethods] == nil)
            let get = try await api.request(.get, "/api/v1/status", headers: [.origin: "https://evil.example"])
            #expect(get.status == .ok)
            #expect(get.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func unknownRoutesAreProblemJSON404() async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.get("/api/v1/nothing-here")
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.json?["status"] == 404)
        }
    }
}

@Suite struct RequestLogTests {
    /// The duration field as printf's "%.2f" of the milliseconds wrote it.
    @Test func durationsAreMillisecondsWithTwoDecimals() {
        let cases: [(Duration, String)] = [
            (.zero, "0.00"), (.nanoseconds(4_999), "0.00"), (.nanoseconds(5_000), "0.01"), (.microseconds(995), "1.00"),
            (.microseconds(1_234), "1.23"), (.milliseconds(12) + .microseconds(345), "12.35"), (.seconds(3), "3000.00"),
            (.seconds(86_400) + .microseconds(70), "86400000.07"),
        ]
        for (d, text) in cases { #expect(RequestLogMiddleware.milliseconds(d) == text, "\(d)") }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let d = Duration.nanoseconds(Int64.random(in: 0...50_000_000_000, using: &generator))
            let printf = String(format: "%.2f", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
            let ours = RequestLogMiddleware.milliseconds(d)
            // Halfway cases round up here; printf rounds the binary double, either way.
            if ours != printf { #expect(abs(Double(ours)! - Double(printf)!) <= 0.0100001, "\(d): \(ours) vs \(printf)") }
        }
    }

    @Test func eachRequestIsLoggedWithoutItsTokenOrQuery() async throws {
        let capture = LogCapture()
        try await withAPI(logger: capture.logger()) { (api: Harness) async throws in
            _ = try await api.get("/api/v1/alerts?limit=5&cursor=secretcursor", token: TestTokens.read)
            _ = try await api.get("/api/v1/status", token: TestTokens.unknown)
            _ = try await api.get("/api/v1/status?access_token=\(TestTokens.admin)", token: nil)
        }
        let requests = capture.all.filter { $0.message == "request" }
        #expect(requests.count >= 2)
        let alerts = try #require(requests.first { $0.metadata["http.path"] == "/api/v1/alerts" })
        #expect(alerts.metadata["http.method"] == "GET")
        #expect(alerts.metadata["http.status"] == "200")
        #expect(alerts.metadata["token"] == "reader")
        #expect(alerts.metadata["duration_ms"] != nil)
        let refused = try #require(requests.first { $0.metadata["http.status"] == "401" })
        #expect(refused.metadata["token"] == nil)
        for record in capture.all {
            for secret in [TestTokens.read, TestTokens.unknown, TestTokens.admin, "secretcursor", "Bearer"] {
                #expect(!record.text.contains(secret), "a log line carries \(secret): \(record.text)")
            }
        }
    }
}
