import HTTPTypes
import HummingbirdTesting
import Testing
import SocfwAPI

@Suite struct AuthTests {
    @Test func aMissingTokenIs401WithWWWAuthenticate() async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.get("/api/v1/status", token: nil)
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.json?["status"] == 401)
            #expect(response.json?["type"] == "urn:socfw:problem:unauthorized")
        }
    }

    @Test(arguments: [
        ("Basic dXNlcjpwYXNz", "Bearer"),
        ("Bearer", "Bearer"),
        ("Bearer socfw_short", "malformed"),
        ("Bearer " + TestTokens.read + "x", "malformed"),
        ("Bearer " + TestTokens.unknown, "unknown token"),
        ("Bearer " + TestTokens.revoked, "revoked"),
    ])
    func aBadAuthorizationHeaderIs401(header: String, detail: String) async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.request(.get, "/api/v1/status", token: nil, headers: [.authorization: header])
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate] != nil)
            #expect(response.json?["detail"]?.string?.contains(detail) == true, "\(response.text)")
            // Never echo the presented secret.
            #expect(!response.text.contains("socfw_u"))
        }
    }

    @Test func aTokenRevokedInSocfwdIsRefusedAfterTheTokenEvent() async throws {
        try await withAPI { (api: Harness) async throws in
            #expect(try await api.get("/api/v1/status", token: TestTokens.operate).status == .ok)
            api.tokens.revoke("operator")
            let fetchesBefore = api.fake.calls("tokens.list").count
            await api.fake.emit("token", ["name": "operator", "change": "revoked"])
            try await eventually("socfw-api refetches the tokens") { api.fake.calls("tokens.list").count > fetchesBefore }
            try await eventually("the revoked token is refused") {
                try await api.get("/api/v1/status", token: TestTokens.operate).status == .unauthorized
            }
            let response = try await api.get("/api/v1/status", token: TestTokens.operate)
            #expect(response.json?["detail"] == "the token has been revoked")
        }
    }

    @Test func theWrongScopeIs403() async throws {
        try await withAPI { (api: Harness) async throws in
            let cases: [(HTTPRequest.Method, String, String, JSONValue?)] = [
                (.post, "/api/v1/reload", TestTokens.read, nil),
                (.post, "/api/v1/rules/block-telnet/disable", TestTokens.read, nil),
                (.post, "/api/v1/quarantine", TestTokens.read, ["target": "192.0.2.1"]),
                (.post, "/api/v1/rules", TestTokens.operate, ["name": "x", "action": "DROP"]),
                (.delete, "/api/v1/rules/block-telnet", TestTokens.operate, nil),
                (.get, "/api/v1/tokens", TestTokens.operate, nil),
            ]
            for (method, uri, token, body) in cases {
                let response = try await api.request(method, uri, token: token, body: body)
                #expect(response.status == .forbidden, "\(method) \(uri)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(api.fake.calls("reload").isEmpty)
            #expect(api.fake.calls("rules.add").isEmpty)
        }
    }

    @Test func scopesNest() async throws {
        try await withAPI { (api: Harness) async throws in
            #expect(try await api.get("/api/v1/rules", token: TestTokens.operate).status == .ok)
            #expect(try await api.request(.post, "/api/v1/alerts/17/ack", token: TestTokens.admin).status == .ok)
        }
    }

    @Test(arguments: ["token", "access_token"])
    func aTokenInTheQueryStringIs400(parameter: String) async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.get("/api/v1/status?\(parameter)=\(TestTokens.admin)", token: nil)
            #expect(response.status == .badRequest)
            #expect(response.json?["errors"]?.array?.first?["pointer"] == .string("/query/\(parameter)"))
            #expect(!response.text.contains(TestTokens.admin))
        }
    }

    @Test func publicEndpointsNeedNoToken() async throws {
        try await withAPI { (api: Harness) async throws in
            for uri in ["/health", "/ready", "/metrics", "/api/v1/openapi.yaml"] {
                #expect(try await api.get(uri, token: nil).status == .ok, "\(uri)")
            }
        }
    }

    @Test func tokensStoredAsHashesCompareInFull() {
        let store = TokenStore()
        let hash = BearerTokenFormat.hash(Substring(TestTokens.read))
        store.replace(with: [APIToken(name: "reader", scopes: [.read], sha256: hash)])
        #expect(store.lookup(Substring(TestTokens.read)) == .valid(APIToken(name: "reader", scopes: [.read], sha256: hash)))
        #expect(store.lookup(Substring(TestTokens.unknown)) == .unknown)
        #expect(BearerTokenFormat.isWellFormed(Substring(TestTokens.admin)))
        #expect(!BearerTokenFormat.isWellFormed("socfw_" + String(repeating: "+", count: 43)))
    }
}
