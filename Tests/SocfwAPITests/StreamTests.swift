import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSTesting
import Logging
import NIOCore
import NIOWebSocket
import Synchronization
import Testing
import HummingbirdWSClient
import SocfwAPI

@Suite struct StreamTests {
    static let logger = Logger(label: "ws-test")

    static func url(_ api: Harness) -> String { "ws://127.0.0.1:\(api.port)/api/v1/stream" }

    static func bearer(_ token: String) -> WebSocketClientConfiguration {
        WebSocketClientConfiguration(maxFrameSize: 1 << 20, additionalHeaders: [.authorization: "Bearer \(token)"])
    }

    @Test func subscribeReceiveAndUnsubscribe() async throws {
        try await withAPI { (api: Harness) async throws in
            let seen = Mutex<[JSONValue]>([])
            try await WebSocketClient.connect(url: Self.url(api), configuration: Self.bearer(TestTokens.read), logger: Self.logger) { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                func next() async throws -> JSONValue? {
                    guard case let .text(text)? = try await messages.next() else { return nil }
                    let value = try JSONValue(bytes: Array(text.utf8))
                    seen.withLock { $0.append(value) }
                    return value
                }
                try await outbound.write(.text(#"{"subscribe":["alerts","stats","incidents"]}"#))
                #expect(try await next() == ["ack": "subscribe", "topics": ["alerts", "incidents", "stats"]])
                await api.fake.emit("alert", Samples.alert)
                #expect(try await next() == ["topic": "alerts", "data": Samples.alert])

                try await outbound.write(.text(#"{"unsubscribe":["alerts"]}"#))
                #expect(try await next() == ["ack": "unsubscribe", "topics": ["incidents", "stats"]])
                // The alert must not arrive; the stats event after it must.
                await api.fake.emit("alert", Samples.alert)
                await api.fake.emit("stats", Samples.stats)
                #expect(try await next() == ["topic": "stats", "data": Samples.stats])

                try await outbound.write(.text(#"{"subscribe":["firehose"]}"#))
                #expect(try await next()?["error"]?.string?.contains("unknown topic") == true)
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(seen.withLock { $0.count } == 5)
        }
    }

    @Test func browsersMayAuthenticateWithTheBearerSubprotocol() async throws {
        try await withAPI { (api: Harness) async throws in
            let configuration = WebSocketClientConfiguration(
                additionalHeaders: [.secWebSocketProtocol: "socfw.v1, bearer.\(TestTokens.read)"])
            let acked = Mutex(false)
            try await WebSocketClient.connect(url: Self.url(api), configuration: configuration, logger: Self.logger) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"subscribe":["quarantine"]}"#))
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                if case let .text(text)? = try await messages.next() { acked.withLock { $0 = text.contains("ack") } }
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(acked.withLock { $0 })
        }
    }

    @Test func anUnauthenticatedUpgradeIsRefused() async throws {
        try await withAPI { (api: Harness) async throws in
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(url: Self.url(api), logger: Self.logger) { _, _, _ in }
            }
            // Without an upgrade the route describes the stream (after the scope check).
            #expect(try await api.get("/api/v1/stream", token: nil).status == .unauthorized)
            let info = try await api.get("/api/v1/stream", token: TestTokens.read)
            #expect(info.status == .ok)
            #expect(info.json?["topics"] == ["alerts", "quarantine", "stats", "reloads", "incidents", "packets"])
            // Never from the query string.
            #expect(try await api.get("/api/v1/stream?access_token=\(TestTokens.read)", token: nil).status == .badRequest)
        }
    }

    @Test func aStreamEndsWhenItsTokenIsRevoked() async throws {
        try await withAPI { (api: Harness) async throws in
            let closeFrame = try await WebSocketClient.connect(url: Self.url(api), configuration: Self.bearer(TestTokens.operate),
                                                               logger: Self.logger) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"subscribe":["alerts"]}"#))
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                _ = try await messages.next()
                api.tokens.revoke("operator")
                await api.fake.emit("token", ["name": "operator", "change": "revoked"])
                while try await messages.next() != nil {}
            }
            #expect(closeFrame?.closeCode == .policyViolation)
            #expect(closeFrame?.reason == "token revoked")
        }
    }

    /// A client that stops reading overflows its queue and is dropped; a
    /// client that keeps up receives every event all the same.
    @Test func aSlowClientIsDroppedWhileAFastOneKeepsReceiving() async throws {
        let eventCount = 400
        let padding = String(repeating: "p", count: 48 * 1024)
        try await withAPI(configure: { $0.webSocket.queueLength = 64 }) { (api: Harness) async throws in
            let (subscribed, subscribedContinuation) = AsyncStream.makeStream(of: Void.self)
            let (fastDone, fastDoneContinuation) = AsyncStream.makeStream(of: Void.self)
            let fastCount = Mutex(0)
            let slowCount = Mutex(0)

            @Sendable func subscribe(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws
                -> WebSocketInboundMessageStream.AsyncIterator
            {
                try await outbound.write(.text(#"{"subscribe":["alerts"]}"#))
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                _ = try await messages.next()
                subscribedContinuation.yield()
                return messages
            }

            let fast = Task {
                try await WebSocketClient.connect(url: Self.url(api), configuration: Self.bearer(TestTokens.read), logger: Self.logger) { inbound, outbound, _ in
                    var messages = try await subscribe(inbound, outbound)
                    while fastCount.withLock({ $0 }) < eventCount, let _ = try await messages.next() {
                        fastCount.withLock { $0 += 1 }
                    }
                    fastDoneContinuation.yield()
                    try await outbound.close(.normalClosure, reason: nil)
                }
            }
            let slow = Task {
                try? await WebSocketClient.connect(url: Self.url(api), configuration: Self.bearer(TestTokens.read), logger: Self.logger) { inbound, outbound, _ in
                    var messages = try await subscribe(inbound, outbound)
                    // Read nothing until the fast client has everything.
                    for await _ in fastDone { break }
                    while let message = try await messages.next() {
                        if case let .text(text) = message, text.hasPrefix(#"{"data""#) || text.contains(#""topic":"alerts""#) {
                            slowCount.withLock { $0 += 1 }
                        }
                    }
                }
            }
            var ready = 0
            for await _ in subscribed {
                ready += 1
                if ready == 2 { break }
            }
            // In rounds of 16 (a quarter of the queue): the fast client keeps up
            // by construction, however loaded the machine; the slow one, which
            // reads nothing, overflows after four rounds.
            for round in stride(from: 0, to: eventCount, by: 16) {
                for index in round..<min(round + 16, eventCount) {
                    await api.fake.emit("alert", ["id": .int(Int64(index)), "pad": .string(padding)])
                }
                try await eventually("the fast client read round \(round / 16)") {
                    fastCount.withLock { $0 } >= min(round + 16, eventCount)
                }
            }
            _ = try await fast.value
            let closeFrame = await slow.value
            #expect(fastCount.withLock { $0 } == eventCount)
            #expect(slowCount.withLock { $0 } < eventCount)
            #expect(closeFrame?.closeCode == .policyViolation)
            try await eventually("both clients are gone from the hub") { api.components.hub.clientCount == 0 }
        }
    }

    /// A peer that never answers pings is closed by the heartbeat. The
    /// peer here is a raw socket that completes the handshake and then
    /// ignores everything.
    @Test func aPeerThatDoesNotAnswerPingsIsClosed() async throws {
        try await withAPI(configure: { $0.webSocket.pingIntervalSeconds = 0.2 }) { (api: Harness) async throws in
            let socket = try RawPeer(port: api.port)
            defer { socket.close() }
            try socket.send("GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Authorization: Bearer \(TestTokens.read)\r\n\r\n")
            let start = ContinuousClock.now
            let closed = try await socket.readUntilClosed(timeoutSeconds: 5)
            #expect(closed, "the server kept a peer that never answered its pings")
            #expect(ContinuousClock.now - start < .seconds(4))
            #expect(socket.received.hasPrefix("HTTP/1.1 101"))
        }
    }
}

/// A bare TCP client for the heartbeat test.
final class RawPeer: Sendable {
    private let fd: Int32
    private let buffer = Mutex<[UInt8]>([])

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw POSIXError(.EIO) }
    }

    var received: String { String(decoding: buffer.withLock { $0 }, as: UTF8.self) }

    /// Reads (and ignores) until the server closes; false on timeout.
    func readUntilClosed(timeoutSeconds: Double) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutSeconds * 1000))
        var chunk = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else {
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return true }
            buffer.withLock { $0.append(contentsOf: chunk[..<n]) }
        }
        return false
    }

    func close() { Glibc.close(fd) }
}
