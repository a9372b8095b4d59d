import HTTPTypes
import HummingbirdTesting
import Testing
import SocfwAPI

@Suite struct HealthMetricsTests {
    @Test func healthIsOK() async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.get("/health", token: nil)
            #expect(response.status == .ok)
            #expect(response.json == ["status": "ok"])
        }
    }

    @Test func readyListsEveryCheck() async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.get("/ready", token: nil)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.json?["status"] == "ready")
            let checks = response.json?["checks"]?.array ?? []
            #expect(checks.compactMap { $0["name"]?.string } == ["socfwd", "queues_bound", "database_writable", "disk_space", "memory"])
            #expect(checks.first { $0["name"] == "database_writable" }?["skipped"] == true)
        }
    }

    @Test func readyFailsWhenSocfwdIsNotInspecting() async throws {
        try await withAPI { (api: Harness) async throws in
            var status = Samples.status.object!
            status["inspecting"] = false
            status["database"] = ["writable": false]
            api.fake.on("status", result: .object(status))
            let response = try await api.get("/ready", token: nil)
            #expect(response.status == .serviceUnavailable)
            let checks = response.json?["checks"]?.array ?? []
            #expect(checks.first { $0["name"] == "queues_bound" }?["ok"] == false)
            #expect(checks.first { $0["name"] == "database_writable" }?["ok"] == false)
        }
    }

    @Test func metricsHaveSocfwdsAndTheAPIsOwnNames() async throws {
        try await withAPI { (api: Harness) async throws in
            _ = try await api.get("/api/v1/status")
            await api.fake.emit("alert", Samples.alert)
            try await eventually("the alert is counted") {
                try await api.get("/metrics", token: nil).text.contains("socfw_alerts_total")
            }
            let response = try await api.get("/metrics", token: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = response.text
            for name in [
                #"socfw_packets_total{queue="0",verdict="drop"} 90"#,
                #"socfw_kernel_queue_dropped_total{queue="0"} 3"#,
                #"socfw_drops_total{queue="0",reason="malformed"} 1"#,
                "socfw_flows_active 7", "socfw_flows_new_total 70", "socfw_flows_closed_total 63",
                "socfw_quarantine_entries 1",
                #"socfw_alerts_total{severity="3",source="rule"} 1"#,
                #"socfw_rule_hits_total{rule="block-telnet"} 42"#,
                #"socfw_api_requests_total{route="/api/v1/status",method="GET",status="200"}"#,
                "socfw_api_request_duration_seconds_bucket", "process_resident_memory_bytes", "process_cpu_seconds_total",
                "socfw_up 1",
            ] {
                #expect(text.contains(name), "missing \(name)")
            }
        }
    }
}
