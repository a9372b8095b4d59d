import Foundation
import HTTPTypes
import Logging
import HummingbirdTesting
import Testing
import SocfwAPI
import Synchronization

@Suite struct ControlTests {
    @Test func socfwdErrorsMapToHTTPStatuses() async throws {
        try await withAPI { (api: Harness) async throws in
            api.fake.on("rules.add", error: -32602, "params.rule.conditions[0].field: unknown field 'dst_prot'")
            let bad = try await api.request(.post, "/api/v1/rules", body: ["name": "x", "action": "DROP"])
            #expect(bad.status == .badRequest)
            #expect(bad.json?["errors"]?.array?.first?["pointer"] == "/rule/conditions/0/field")

            api.fake.on("alerts.ack", error: -32002, "alert 17 is already acknowledged")
            let conflict = try await api.request(.post, "/api/v1/alerts/17/ack")
            #expect(conflict.status == .conflict)
            #expect(conflict.json?["detail"] == "alert 17 is already acknowledged")

            api.fake.on("rules.get", error: -32002, "no rule named 'nope'")
            #expect(try await api.get("/api/v1/rules/nope").status == .notFound)

            api.fake.on("reload", error: -32001, "permission denied: reload needs group socfw-admin")
            let denied = try await api.request(.post, "/api/v1/reload")
            #expect(denied.status == .forbidden)
            #expect(denied.headers[.contentType] == "application/problem+json")

            api.fake.on("conns.list", error: -32003, "too many clients")
            #expect(try await api.get("/api/v1/connections").status == .serviceUnavailable)

            api.fake.on("signatures.stats") { _ in .silence }
            let slow = try await api.get("/api/v1/signatures/stats")
            #expect(slow.status == .gatewayTimeout)
            // After a timed-out request, later replies still reach the right caller.
            #expect(try await api.get("/api/v1/status").json == Samples.status)
        }
    }

    @Test func whileSocfwdIsDownRoutesAnswer503AndRecoverByThemselves() async throws {
        try await withAPI { (api: Harness) async throws in
            await api.fake.stop()
            try await eventually("socfw-api notices socfwd is gone") { api.components.socfwd.unreachableReason() != nil }
            let down = try await api.get("/api/v1/status")
            #expect(down.status == .serviceUnavailable)
            #expect(down.headers[.contentType] == "application/problem+json")
            #expect(down.json?["detail"]?.string?.hasPrefix("socfwd is not reachable (") == true, "\(down.text)")
            #expect(!down.text.contains(api.fake.socketPath))
            let ready = try await api.get("/ready", token: nil)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json?["checks"]?.array?.first?["ok"] == false)
            // Tokens stay known while socfwd is away: health needs none anyway.
            #expect(try await api.get("/health", token: nil).status == .ok)

            try await api.fake.start()
            try await api.waitUntilConnected()
            #expect(try await api.get("/api/v1/status").status == .ok)
            #expect(try await api.get("/ready", token: nil).status == .ok)
            // Re-subscribed: events flow again.
            #expect(api.fake.calls("subscribe").count >= 2)
        }
    }

    @Test func subscribesWithoutTheTokensTopicOnAnOlderSocfwd() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fake = FakeSocfwd(directory: directory)
        _ = fake.knownTopics.withLock { $0.remove("tokens") }
        let tokens = TokenTable()
        Samples.install(on: fake, tokens: tokens)
        try await fake.start()
        var configuration = APIConfig()
        configuration.plainHTTP = true
        configuration.controlSocket = fake.socketPath
        configuration.controlReconnectDelay = .milliseconds(20) ... .milliseconds(100)
        let components = APIComponents(configuration: configuration, logger: .init(label: "test"))
        let task = Task { try await components.socfwd.run() }
        try await eventually("subscribed") { fake.subscriberCount == 1 }
        #expect(fake.calls("subscribe").last?.params["topics"]?.array?.contains("tokens") == false)
        task.cancel()
        await fake.stop()
    }

    @Test func concurrentCallsShareOneConnection() async throws {
        try await withAPI { (api: Harness) async throws in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await api.get("/api/v1/stats").status }
                }
                for try await status in group { #expect(status == .ok) }
            }
        }
    }
}

@Suite struct CompatibilityTests {
    @Test func aSocfwdWithoutActorGetsTheCallAgainWithoutIt() async throws {
        try await withAPI { (api: Harness) async throws in
            api.fake.on("reload") { params in
                params["actor"] != nil
                    ? .error(code: -32602, message: "unknown parameter 'actor' for reload (known: none)")
                    : .result(Samples.reloadResult)
            }
            let response = try await api.request(.post, "/api/v1/reload")
            #expect(response.status == .ok, "\(response.text)")
            #expect(api.fake.calls("reload").map(\.params) == [["actor": "token:admin"], [:]])
            // Known from now on: one call, without actor.
            _ = try await api.request(.post, "/api/v1/reload")
            #expect(api.fake.calls("reload").count == 3)
            #expect(api.fake.lastParams("reload") == [:])
        }
    }

    @Test func aSocfwdWithoutTokensListSaysSoIn503() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fake = FakeSocfwd(directory: directory)
        Samples.install(on: fake, tokens: TokenTable())
        fake.on("tokens.list", error: -32601, "unknown method 'tokens.list'")
        try await fake.start()
        var configuration = APIConfig()
        configuration.plainHTTP = true
        configuration.controlSocket = fake.socketPath
        let components = APIComponents(configuration: configuration, logger: Logger(label: "test"))
        let app = try buildApplication(components)
        try await app.test(.router) { client in
            try await eventually("the 503 names the missing method") {
                let response = try await client.execute(uri: "/api/v1/status", method: .get,
                                                        headers: [.authorization: "Bearer \(TestTokens.read)"])
                let detail = try JSONValue(bytes: response.body.readableBytesView)["detail"]?.string ?? ""
                return response.status == .serviceUnavailable && detail.contains("no tokens.list")
            }
        }
        await fake.stop()
    }
}

/// The control connection itself, without the HTTP server.
@Suite struct ControlConnectionTests {
    /// Events socfwd pushes while socfw-api is busy with one wait in the
    /// connection, not in memory: past `LineBacklog.limit` unhandled lines
    /// it stops reading (socfwd sees a full socket; it drops subscribers
    /// that stay that way). Once the handler goes on, every event arrives,
    /// in order.
    @Test func eventsWaitInTheSocketWhileTheHandlerIsBusyAndNoneIsLost() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fake = FakeSocfwd(directory: directory)
        try await fake.start()
        let connection = ControlConnection(configuration: .init(socketPath: fake.socketPath, role: "subscription"),
                                           logger: Logger(label: "test"))
        let gate = Mutex(false)
        let received = Mutex<[Int64]>([])
        connection.setHandlers(
            onConnect: { c in _ = try await c.call("subscribe", params: ["topics": ["alerts"]]) },
            onEvent: { _, data in
                received.withLock { $0.append(data["n"]?.int ?? -1) }
                while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            })
        let running = Task { await connection.run() }
        defer { running.cancel() }
        try await eventually("subscribed") { fake.subscriberCount == 1 }

        let total = 3_000
        let emitted = Atomic<Int>(0)
        // ~100 bytes an event: 300 KB, more than the socket and the backlog hold.
        let emitter = Task {
            for n in 0..<total {
                await fake.emit("alert", ["n": .int(Int64(n)), "pad": .string(String(repeating: "x", count: 64))])
                emitted.add(1, ordering: .relaxed)
            }
        }
        // The handler holds the first event: the rest pile up until reading stops.
        var last = -1
        while emitted.load(ordering: .relaxed) != last {
            last = emitted.load(ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(last < total, "socfw-api read every event while its handler was busy: nothing held them back")
        #expect(received.withLock { $0.count } == 1)

        gate.withLock { $0 = true }
        await emitter.value
        try await eventually("every event handled") { received.withLock { $0.count } == total }
        #expect(received.withLock { $0 } == Array(0..<Int64(total)))
        running.cancel()
        await fake.stop()
    }
}
