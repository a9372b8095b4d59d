import HTTPTypes
import HummingbirdTesting
import Testing
import SocfwAPI

/// Every endpoint's happy path: the right control method, the right
/// params, socfwd's answer passed through.
@Suite struct RESTTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var body: JSONValue?
        var controlMethod: String
        var status: HTTPResponse.Status = .ok
        var testDescription: String { "\(method) \(uri)" }
    }

    static let cases: [Case] = [
        Case(method: .get, uri: "/api/v1/status", controlMethod: "status"),
        Case(method: .get, uri: "/api/v1/stats", controlMethod: "stats"),
        Case(method: .get, uri: "/api/v1/rules", controlMethod: "rules.list"),
        Case(method: .get, uri: "/api/v1/rules/block-telnet", controlMethod: "rules.get"),
        Case(method: .post, uri: "/api/v1/rules", body: ["name": "block-ssh", "action": "DROP",
                                                          "conditions": [["field": "dst_port", "operator": "eq", "value": "22"]]],
             controlMethod: "rules.add", status: .created),
        Case(method: .put, uri: "/api/v1/rules/block-telnet", body: ["action": "DROP", "priority": 5], controlMethod: "rules.update"),
        Case(method: .delete, uri: "/api/v1/rules/block-telnet", controlMethod: "rules.delete"),
        Case(method: .post, uri: "/api/v1/rules/block-telnet/enable", controlMethod: "rules.enable"),
        Case(method: .post, uri: "/api/v1/rules/block-telnet/disable", controlMethod: "rules.disable"),
        Case(method: .get, uri: "/api/v1/alerts?limit=10&open=true", controlMethod: "alerts.list"),
        Case(method: .post, uri: "/api/v1/alerts/17/ack", controlMethod: "alerts.ack"),
        Case(method: .get, uri: "/api/v1/quarantine", controlMethod: "quarantine.list"),
        Case(method: .post, uri: "/api/v1/quarantine", body: ["target": "192.0.2.9", "duration": "1h", "reason": "manual"],
             controlMethod: "quarantine.add", status: .created),
        Case(method: .delete, uri: "/api/v1/quarantine/192.0.2.9", controlMethod: "quarantine.remove"),
        Case(method: .get, uri: "/api/v1/quarantine/history?target=192.0.2.9&limit=5", controlMethod: "quarantine.history"),
        Case(method: .get, uri: "/api/v1/connections?protocol=tcp&port=443&limit=20", controlMethod: "conns.list"),
        Case(method: .get, uri: "/api/v1/signatures?limit=10&offset=0", controlMethod: "signatures.list"),
        Case(method: .get, uri: "/api/v1/signatures/stats", controlMethod: "signatures.stats"),
        Case(method: .get, uri: "/api/v1/config/check?path=/etc/socfw/socfwd.yaml", controlMethod: "config.check"),
        Case(method: .post, uri: "/api/v1/config/check", body: ["path": "/etc/socfw/socfwd.yaml"], controlMethod: "config.check"),
        Case(method: .post, uri: "/api/v1/reload", controlMethod: "reload"),
        Case(method: .get, uri: "/api/v1/tokens", controlMethod: "tokens.list"),
        Case(method: .post, uri: "/api/v1/tokens", body: ["name": "grafana", "scopes": ["read"]], controlMethod: "tokens.create",
             status: .created),
        Case(method: .delete, uri: "/api/v1/tokens/operator", controlMethod: "tokens.revoke"),
    ]

    @Test(arguments: cases)
    func endpointCallsItsControlMethod(_ testCase: Case) async throws {
        try await withAPI { (api: Harness) async throws in
            let before = api.fake.calls(testCase.controlMethod).count
            let response = try await api.request(testCase.method, testCase.uri, body: testCase.body)
            #expect(response.status == testCase.status, "\(response.text)")
            #expect(response.headers[.contentType] == "application/json")
            #expect(api.fake.calls(testCase.controlMethod).count == before + 1)
            #expect(response.json?.object != nil)
        }
    }

    @Test func statusPassesSocfwdsObjectThroughUnchanged() async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.get("/api/v1/status")
            #expect(response.json == Samples.status)
        }
    }

    @Test func mutatingCallsNameTheTokenAsActor() async throws {
        try await withAPI { (api: Harness) async throws in
            _ = try await api.request(.post, "/api/v1/rules/block-telnet/disable", token: TestTokens.operate)
            #expect(api.fake.lastParams("rules.disable") == ["name": "block-telnet", "actor": "token:operator"])
            _ = try await api.request(.post, "/api/v1/reload")
            #expect(api.fake.lastParams("reload") == ["actor": "token:admin"])
        }
    }

    @Test func ruleBodyIsPassedAsTheRuleParameter() async throws {
        try await withAPI { (api: Harness) async throws in
            let rule: JSONValue = ["name": "block-ssh", "action": "DROP", "priority": 10, "enabled": false, "description": "no ssh",
                                   "conditions": [["field": "dst_port", "operator": "in", "value": ["22", "2222"]]]]
            let response = try await api.request(.post, "/api/v1/rules", body: rule)
            #expect(response.status == .created)
            #expect(api.fake.lastParams("rules.add") == ["rule": rule, "actor": "token:admin"])
            _ = try await api.request(.put, "/api/v1/rules/block-ssh", body: ["action": "REJECT"])
            #expect(api.fake.lastParams("rules.update") == ["name": "block-ssh", "rule": ["name": "block-ssh", "action": "REJECT"],
                                                             "actor": "token:admin"])
        }
    }

    @Test func alertFiltersBecomeControlParams() async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.get(
                "/api/v1/alerts?limit=5&cursor=abc123&open=true&since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:01.5%2B00:00&severity=2&source=anomaly&sid=2100498&address=10.0.0.8",
                token: TestTokens.read)
            #expect(response.status == .ok, "\(response.text)")
            #expect(api.fake.lastParams("alerts.list") == [
                "limit": 5, "cursor": "abc123", "open": true, "since_ns": 1_767_225_600_000_000_000,
                "until_ns": 1_767_225_601_500_000_000, "severity": 2, "source": "anomaly", "sid": 2_100_498, "address": "10.0.0.8",
            ])
            #expect(response.json?["next_cursor"] == .null)
        }
    }

    @Test func aFullPageFromAnOlderSocfwdGetsANextCursor() async throws {
        try await withAPI { (api: Harness) async throws in
            api.fake.on("alerts.list", result: ["alerts": [Samples.alert], "kept": 1, "capacity": 10_000])
            let response = try await api.get("/api/v1/alerts?limit=1")
            #expect(response.json?["next_cursor"] == "17")
            #expect(response.json?["kept"] == 1)
        }
    }

    @Test func aPrefixTargetTravelsPercentEncoded() async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.request(.delete, "/api/v1/quarantine/10.0.0.0%2F24", token: TestTokens.operate)
            #expect(response.status == .ok, "\(response.text)")
            #expect(api.fake.lastParams("quarantine.remove") == ["target": "10.0.0.0/24", "actor": "token:operator"])
        }
    }

    @Test func tokenListNeverShowsHashes() async throws {
        try await withAPI { (api: Harness) async throws in
            api.fake.on("tokens.list") { _ in .result(api.tokens.list(includeHashes: true)) }
            let response = try await api.get("/api/v1/tokens")
            let tokens = response.json?["tokens"]?.array ?? []
            #expect(tokens.count == 4)
            #expect(tokens.allSatisfy { $0["sha256"] == nil })
        }
    }
}
