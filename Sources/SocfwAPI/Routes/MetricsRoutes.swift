import Hummingbird
import NIOCore

/// `/metrics`, Prometheus text format; no token (bind it to a scrape
/// network, or keep socfw-api on loopback). A scrape refreshes socfwd's
/// figures first (stats, rules, quarantine); a socfwd that does not
/// answer leaves the last values and `socfw_up 0`.
struct MetricsRoutes {
    let socfwd: Socfwd
    let metrics: APIMetrics

    func register(on router: Router<APIRequestContext>) {
        router.get("metrics", use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: APIRequestContext) async throws -> Response {
        var up = true
        do {
            async let stats = socfwd.call("stats")
            async let rules = socfwd.call("rules.list")
            async let quarantine = socfwd.call("quarantine.list")
            metrics.socfwd.update(stats: try await stats)
            metrics.socfwd.update(rules: try await rules)
            metrics.socfwd.update(quarantine: try await quarantine)
        } catch {
            up = false
        }
        metrics.registry.makeGauge(descriptor: .init(metricName: "socfw_up", unitName: "", helpText: "1 when socfwd answered this scrape"))
            .set(to: up ? 1.0 : 0.0)
        metrics.updateProcess()
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
    }
}
