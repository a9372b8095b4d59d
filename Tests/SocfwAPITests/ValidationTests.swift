import HTTPTypes
import HummingbirdTesting
import Testing
import SocfwAPI

/// Bad input is refused by socfw-api itself, before socfwd is called,
/// with a pointer to each bad field.
@Suite struct ValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var body: JSONValue? = nil
        var rawBody: String? = nil
        var pointers: [String]
        var testDescription: String { "\(method) \(uri) \(pointers)" }
    }

    static let cases: [Case] = [
        Case(method: .post, uri: "/api/v1/rules", body: ["name": "x", "action": "EXPLODE"], pointers: ["/rule/action"]),
        Case(method: .post, uri: "/api/v1/rules", body: ["action": "DROP"], pointers: ["/rule/name"]),
        Case(method: .post, uri: "/api/v1/rules", body: ["name": "x", "action": "DROP", "priority": "high", "colour": "red"],
             pointers: ["/rule/colour", "/rule/priority"]),
        Case(method: .post, uri: "/api/v1/rules", body: ["name": "x", "action": "DROP", "conditions": [["field": "dst_port", "operator": "eq", "value": 22]]],
             pointers: ["/rule/conditions/0/value"]),
        Case(method: .post, uri: "/api/v1/rules", rawBody: "{not json", pointers: [""]),
        Case(method: .post, uri: "/api/v1/rules", rawBody: "[1,2]", pointers: [""]),
        Case(method: .get, uri: "/api/v1/alerts?limit=0", pointers: ["/query/limit"]),
        Case(method: .get, uri: "/api/v1/alerts?limit=ten&severity=0", pointers: ["/query/limit", "/query/severity"]),
        Case(method: .get, uri: "/api/v1/alerts?since=yesterday", pointers: ["/query/since"]),
        Case(method: .get, uri: "/api/v1/alerts?source=magic", pointers: ["/query/source"]),
        Case(method: .get, uri: "/api/v1/alerts?address=999.1.1.1", pointers: ["/query/address"]),
        Case(method: .get, uri: "/api/v1/alerts?address=10.0.0.0%2F8&severity=4", pointers: ["/query/severity", "/query/address"]),
        Case(method: .get, uri: "/api/v1/alerts?limt=5", pointers: ["/query/limt"]),
        Case(method: .post, uri: "/api/v1/alerts/abc/ack", pointers: ["/path/id"]),
        Case(method: .post, uri: "/api/v1/quarantine", body: ["target": "10.0.0.0/33"], pointers: ["/target"]),
        Case(method: .post, uri: "/api/v1/quarantine", body: ["target": "192.0.2.1", "duration": "forever"], pointers: ["/duration"]),
        Case(method: .post, uri: "/api/v1/quarantine", body: ["duration": "1h"], pointers: ["/target"]),
        Case(method: .delete, uri: "/api/v1/quarantine/not-an-address", pointers: ["/path/target"]),
        Case(method: .get, uri: "/api/v1/connections?port=70000&protocol=sctp", pointers: ["/query/port", "/query/protocol"]),
        Case(method: .get, uri: "/api/v1/signatures?offset=-1", pointers: ["/query/offset"]),
        Case(method: .get, uri: "/api/v1/config/check?path=relative.yaml", pointers: ["/query/path"]),
        Case(method: .post, uri: "/api/v1/tokens", body: ["name": "ci", "scopes": ["root"]], pointers: ["/scopes/0"]),
        Case(method: .post, uri: "/api/v1/tokens", body: ["name": "ci"], pointers: ["/scopes"]),
    ]

    @Test(arguments: cases)
    func invalidInputIsRefusedBeforeSocfwdIsCalled(_ testCase: Case) async throws {
        try await withAPI { (api: Harness) async throws in
            let callsBefore = api.fake.calls.count
            let response = try await api.request(testCase.method, testCase.uri, body: testCase.body, rawBody: testCase.rawBody)
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(response.headers[.contentType] == "application/problem+json")
            let pointers = (response.json?["errors"]?.array ?? []).compactMap { $0["pointer"]?.string }
            #expect(pointers == testCase.pointers, "\(response.text)")
            #expect(response.json?["type"] == "urn:socfw:problem:validation")
            #expect(api.fake.calls.count == callsBefore, "socfwd was called")
        }
    }

    @Test func addressesAndPrefixes() {
        #expect(NetworkAddress.isAddressOrPrefix("10.0.0.0/24"))
        #expect(NetworkAddress.isAddressOrPrefix("2001:db8::/32"))
        #expect(NetworkAddress.isAddressOrPrefix("2001:db8::1"))
        #expect(!NetworkAddress.isAddressOrPrefix("10.0.0.0/"))
        #expect(!NetworkAddress.isAddressOrPrefix("2001:db8::/129"))
        #expect(!NetworkAddress.isAddressOrPrefix("host.example"))
    }

    @Test func rfc3339TimestampsBecomeNanoseconds() {
        #expect(Timestamp.nanoseconds(rfc3339: "1970-01-01T00:00:01Z") == 1_000_000_000)
        #expect(Timestamp.nanoseconds(rfc3339: "1970-01-01T01:00:01.25+01:00") == 1_250_000_000)
        #expect(Timestamp.nanoseconds(rfc3339: "2026-01-01T00:00:00Z") == 1_767_225_600_000_000_000)
        #expect(Timestamp.nanoseconds(rfc3339: "2024-02-29t12:00:00.123456789z") == 1_709_208_000_123_456_789)
        #expect(Timestamp.nanoseconds(rfc3339: "0058-07-01T08:06:08.384482-00:40") == Int64.min)
        #expect(Timestamp.nanoseconds(rfc3339: "9999-12-31T23:59:59Z") == Int64.max)
        for invalid in ["2026-01-01", "2026-02-30T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00",
                        "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+1:00"] {
            #expect(Timestamp.nanoseconds(rfc3339: invalid) == nil, "\(invalid)")
        }
    }
}
