import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import SocfwAPI

/// Sample socfwd answers, shaped as Docs/control-protocol.md describes them.
enum Samples {
    static let status: JSONValue = [
        "version": "0.5.0", "pid": 4242, "uptime_s": 100, "inspecting": true, "mode": "inline", "diversion": "nft-queue",
        "queues": ["first": 0, "count": 2, "fail_open": true, "bypass": false],
        "rules": ["loaded": 3, "enabled": 2, "path": "/etc/socfw/rules.d", "generation": 4, "default_action": "ALLOW"],
        "packets": 1000, "verdicts": ["accept": 900, "drop": 90, "reject": 10], "pps": .double(12.5), "flows_active": 7, "events_lost": 0,
    ]
    static let stats: JSONValue = [
        "packets": 1000, "bytes": 64000, "accepted": 900, "dropped": 90, "rejected": 10, "malformed": 1, "events": 5, "events_lost": 0,
        "bypass_verdicts": 0, "packets_per_second": 12, "bits_per_second": 9000,
        "flows": ["active": 7, "new": 70, "closed": 63, "expired": 1, "invalid": 0, "early_dropped": 0, "bypassed": 0],
        "queues": [[
            "queue": 0, "packets": 1000, "accepted": 900, "dropped": 90, "rejected": 10, "malformed": 1, "batches": 10,
            "verdict_messages": 10, "gso": 0, "netlink_errors": 0, "kernel_waiting": 0, "kernel_queue_dropped": 3,
            "kernel_user_dropped": 0, "packets_per_second": 12, "bits_per_second": 9000,
        ]],
    ]
    static let rule: JSONValue = [
        "name": "block-telnet", "id": 1_000_023, "action": "REJECT", "priority": 0, "enabled": true, "description": "no telnet",
        "conditions": [["field": "dst_port", "operator": "eq", "value": "23"]], "file": "/etc/socfw/rules.d/50-example.yaml",
        "origin": "file", "managed": false, "hits": ["packets": 42, "bytes": 2520, "last_hit_ns": 0],
    ]
    static let reloadResult: JSONValue = ["loaded": 3, "enabled": 2, "parse_ms": .double(2.1), "compile_ms": .double(0.3), "generation": 5]
    static let alert: JSONValue = [
        "id": 17, "timestamp_ns": 1_764_000_000_000_000_000, "acknowledged_by": .null, "acknowledged_at_ns": .null,
        "eve": ["event_type": "alert", "src_ip": "192.0.2.9", "alert": ["signature_id": 1_000_023, "signature": "block-telnet",
                                                                        "category": "Filter rule", "severity": 3]],
    ]
    static let quarantineRow: JSONValue = [
        "id": 3, "target": "192.0.2.9", "reason": "manual", "action": "drop", "source": "api", "timestamp_ns": 1_764_000_000_000_000_000,
        "expires_ns": 1_764_000_360_000_000_000, "active": true, "offence": 1,
    ]

    /// Every method socfw-api calls, answered happily.
    static func install(on fake: FakeSocfwd, tokens: TokenTable) {
        fake.on("status", result: status)
        fake.on("stats", result: stats)
        fake.on("rules.list", result: ["rules": [rule]])
        fake.on("rules.get", result: rule)
        for method in ["rules.add", "rules.update", "rules.delete", "rules.enable", "rules.disable", "reload"] {
            fake.on(method, result: reloadResult)
        }
        fake.on("alerts.list", result: ["alerts": [alert], "kept": 1, "capacity": 10_000, "next_cursor": .null])
        fake.on("alerts.ack", result: alert)
        fake.on("quarantine.list", result: ["quarantined": [quarantineRow]])
        fake.on("quarantine.add", result: quarantineRow)
        fake.on("quarantine.remove", result: quarantineRow)
        fake.on("quarantine.history", result: ["history": [quarantineRow]])
        fake.on("conns.list", result: ["connections": [[
            "flow_id": 1, "proto": "TCP", "src_ip": "192.0.2.9", "src_port": 40000, "dest_ip": "198.51.100.1", "dest_port": 443,
            "state": "ESTABLISHED", "bypassed": false, "pkts_toserver": 5, "pkts_toclient": 4, "bytes_toserver": 500,
            "bytes_toclient": 4000, "age_s": 3,
        ]]])
        fake.on("signatures.list", result: ["total": 1, "signatures": [["sid": 2_100_498, "gid": 1, "rev": 7, "signature": "GPL ATTACK",
                                                                          "action": "alert", "classtype": "bad-unknown", "severity": 2,
                                                                          "context": "packet", "origin": "seed", "matches": 0]]])
        fake.on("signatures.stats", result: ["active": 1, "matches": 0, "by_context": ["packet": 1], "top": [], "skipped_per_keyword": [:]])
        fake.on("config.check", result: ["ok": true, "rules": 3, "enabled": 2, "rules_path": "/etc/socfw/rules.d"])
        fake.on("tokens.list") { params in .result(tokens.list(includeHashes: params["include_hashes"] == .bool(true))) }
        fake.on("tokens.create") { params in
            .result(["name": params["name"] ?? .null, "scopes": params["scopes"] ?? [], "token": .string(TestTokens.unknown),
                     "created_ns": 1_764_000_000_000_000_000])
        }
        fake.on("tokens.revoke") { params in
            tokens.revoke(params["name"]?.string ?? "")
            return .result(["name": params["name"] ?? .null, "revoked_ns": 1_800_000_000_000_000_000])
        }
    }
}

/// A running socfw-api (live server on a free port) whose control socket
/// is a `FakeSocfwd`.
struct Harness: Sendable {
    let client: any TestClientProtocol
    let fake: FakeSocfwd
    let tokens: TokenTable
    let components: APIComponents

    var port: Int { client.port! }

    func request(_ method: HTTPRequest.Method, _ uri: String, token: String? = TestTokens.admin,
                 headers: HTTPFields = [:], body: JSONValue? = nil, rawBody: String? = nil) async throws -> TestResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let body {
            buffer = ByteBuffer(data: body.compactBytes)
            headers[.contentType] = "application/json"
        } else if let rawBody {
            buffer = ByteBuffer(string: rawBody)
            headers[.contentType] = "application/json"
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: buffer)
    }

    func get(_ uri: String, token: String? = TestTokens.admin) async throws -> TestResponse {
        try await request(.get, uri, token: token)
    }

    /// Waits until both control connections are up and the tokens are loaded.
    func waitUntilConnected() async throws {
        try await eventually("socfw-api connects to socfwd") {
            let requests = components.socfwd.requests.unreachableReason == nil
            let subscription = components.socfwd.subscription.unreachableReason == nil
            return requests && subscription && components.tokens.isLoaded && fake.subscriberCount > 0
        }
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(_ what: String, seconds: Double = 15, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting until \(what)")
    throw CancellationError()
}

/// A fresh temporary directory for one test's socket.
func temporaryDirectory() throws -> String {
    // Unix socket paths are short (108 bytes): keep it under /tmp.
    let path = "/tmp/socfw-api-test-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs `body` against a live socfw-api connected to a fresh fake socfwd.
func withAPI(_ setup: TestingSetup = .live, logger: Logger? = nil, configure: (inout APIConfig) -> Void = { _ in },
             _ body: @Sendable (Harness) async throws -> Void) async throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let fake = FakeSocfwd(directory: directory)
    let tokens = TokenTable()
    Samples.install(on: fake, tokens: tokens)
    try await fake.start()

    var configuration = APIConfig()
    configuration.plainHTTP = true
    configuration.listen = .init(host: "127.0.0.1", port: 0)
    configuration.controlSocket = fake.socketPath
    configuration.controlRequestTimeout = .seconds(2)
    configuration.controlReconnectDelay = .milliseconds(20) ... .milliseconds(200)
    configuration.ready.diskPath = "/tmp"
    configuration.ready.minFreeDiskMegabytes = 0
    configuration.ready.maxRSSMegabytes = 1 << 20
    configure(&configuration)
    var quiet = Logger(label: "socfw-api-test")
    quiet.logLevel = .critical
    let components = APIComponents(configuration: configuration, logger: logger ?? quiet)
    let app = try buildApplication(components)
    do {
        try await app.test(setup) { client in
            let harness = Harness(client: client, fake: fake, tokens: tokens, components: components)
            try await harness.waitUntilConnected()
            try await body(harness)
        }
    } catch {
        await fake.stop()
        throw error
    }
    await fake.stop()
}

extension TestResponse {
    var json: JSONValue? { try? JSONValue(bytes: body.readableBytesView) }
    var text: String { String(buffer: body) }
}
