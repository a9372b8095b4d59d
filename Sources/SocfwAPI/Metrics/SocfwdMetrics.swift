import Prometheus

/// socfwd's counters as Prometheus metrics, mirrored from its `stats`
/// (the `stats` event every second, and a fresh `stats` at each scrape),
/// `rules.list` (hits per rule, at each scrape) and the alert stream
/// (alerts counted by severity and source since socfw-api started).
///
/// socfwd's totals are absolute; a mirrored counter is reset and set to
/// the new total. A restarted socfwd starts from zero, which Prometheus'
/// rate() reads as a counter reset, as it should.
public final class SocfwdMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    private func setCounter(_ name: String, _ labels: [(String, String)], help: String, to value: JSONValue?) {
        guard let value = value?.int, value >= 0 else { return }
        let counter = registry.makeCounter(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels)
        counter.reset()
        counter.increment(by: value)
    }

    private func setGauge(_ name: String, _ labels: [(String, String)], help: String, to value: JSONValue?) {
        guard let value = value?.double else { return }
        registry.makeGauge(descriptor: .init(metricName: name, unitName: "", helpText: help), labels: labels).set(value)
    }

    /// From socfwd's `stats` result or event.
    func update(stats: JSONValue) {
        for queueStats in stats["queues"]?.array ?? [] {
            guard let queue = queueStats["queue"]?.int.map(String.init) else { continue }
            for (verdict, field) in [("accept", "accepted"), ("drop", "dropped"), ("reject", "rejected")] {
                setCounter("socfw_packets_total", [("queue", queue), ("verdict", verdict)],
                           help: "Packets given a verdict, per NFQUEUE queue and verdict", to: queueStats[field])
            }
            setCounter("socfw_kernel_queue_dropped_total", [("queue", queue)],
                       help: "Packets the kernel dropped because the queue was full", to: queueStats["kernel_queue_dropped"])
            for (reason, field) in [("kernel_queue_full", "kernel_queue_dropped"), ("kernel_user", "kernel_user_dropped"),
                                    ("malformed", "malformed")] {
                setCounter("socfw_drops_total", [("queue", queue), ("reason", reason)],
                           help: "Packets lost or refused before inspection, by reason", to: queueStats[field])
            }
        }
        let flows = stats["flows"]
        setGauge("socfw_flows_active", [], help: "Flows tracked now", to: flows?["active"])
        setCounter("socfw_flows_new_total", [], help: "Flows created", to: flows?["new"])
        setCounter("socfw_flows_closed_total", [], help: "Flows closed", to: flows?["closed"])
        setCounter("socfw_events_lost_total", [], help: "Events socfwd could not output", to: stats["events_lost"])
    }

    /// From `quarantine.list`.
    func update(quarantine: JSONValue) {
        guard let rows = quarantine["quarantined"]?.array else { return }
        setGauge("socfw_quarantine_entries", [], help: "Active quarantine entries", to: .int(Int64(rows.count)))
    }

    /// From `rules.list`: hits per rule.
    func update(rules: JSONValue) {
        for rule in rules["rules"]?.array ?? [] {
            guard let name = rule["name"]?.string else { continue }
            setCounter("socfw_rule_hits_total", [("rule", name)], help: "Packets that matched the rule", to: rule["hits"]?["packets"])
        }
    }

    /// One alert from the stream: counted by severity and source (rule, signature, detector).
    func countAlert(_ alert: JSONValue) {
        let eve = alert["eve"] ?? alert
        let severity = eve["alert"]?["severity"]?.int.map(String.init) ?? "unknown"
        let source: String
        if let given = alert["source"]?.string {
            source = given
        } else if eve["detection"] != nil {
            source = "detector"
        } else if eve["alert"]?["category"]?.string?.hasSuffix(" rule") == true {
            source = "rule"
        } else {
            source = "signature"
        }
        registry.makeCounter(descriptor: .init(metricName: "socfw_alerts_total", unitName: "", helpText: "Alerts seen on socfwd's alert stream since socfw-api started"),
                             labels: [("severity", severity), ("source", source)]).increment()
    }
}
