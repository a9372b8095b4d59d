import Prometheus

/// socfw-api's own metrics and the registry `/metrics` renders. One
/// registry per application (no global MetricsSystem bootstrap), so tests
/// can build many applications in one process.
public final class APIMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let socfwd: SocfwdMetrics
    static let durationBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public init() {
        socfwd = SocfwdMetrics(registry: registry)
    }

    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: .init(metricName: "socfw_api_requests_total", unitName: "", helpText: "HTTP requests answered"),
                             labels: [("route", route), ("method", method), ("status", String(status))]).increment()
        registry.makeValueHistogram(descriptor: .init(metricName: "socfw_api_request_duration_seconds", unitName: "", helpText: "HTTP request duration"),
                                    buckets: Self.durationBuckets).record(duration.seconds)
    }

    /// Process figures, sampled at each scrape.
    func updateProcess() {
        let sample = ProcessSample.current()
        if let rss = sample.residentBytes {
            registry.makeGauge(descriptor: .init(metricName: "process_resident_memory_bytes", unitName: "", helpText: "Resident memory size in bytes")).set(Double(rss))
        }
        if let cpu = sample.cpuSeconds {
            let counter = registry.makeCounter(descriptor: .init(metricName: "process_cpu_seconds_total", unitName: "", helpText: "User and system CPU time in seconds"))
            counter.reset()
            counter.increment(by: cpu)
        }
    }

    func render() -> String {
        registry.emitToString()
    }
}
