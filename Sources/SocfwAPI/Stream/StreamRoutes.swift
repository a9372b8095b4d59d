import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// `/api/v1/stream`: the WebSocket (Docs/api.md, "WebSocket").
///
/// Authenticated at the upgrade (read scope), by the Authorization header
/// or, for browsers, the subprotocol `bearer.<token>` offered next to
/// `socfw.v1` (the server selects `socfw.v1`). Never by query string.
///
/// Client → server: `{"subscribe":["alerts",...]}`, `{"unsubscribe":[...]}`;
/// the server acks `{"ack":"subscribe","topics":[current topics]}` or
/// answers `{"error":"..."}`. Server → client: `{"topic":"alerts","data":{...}}`.
///
/// A client whose queue (websocket.queue events) overflows is closed with
/// 1008 (policy violation: it must read its events); if even the close
/// frame cannot be written within a second, the connection is dropped.
/// A client whose token is revoked is closed with 1008 too ("token revoked").
struct StreamRoutes {
    static let path: RouterPath = "/api/v1/stream"
    static let subprotocol = "socfw.v1"
    static let maxMessageBytes = 16 * 1024

    let hub: EventHub

    /// On the WebSocket router: upgrade only an authenticated request with read scope.
    func register(onWebSocketRouter router: Router<APIRequestContext>) {
        router.ws(Self.path, shouldUpgrade: { request, context in
            guard case let .token(token) = context.credential, token.allows(.read) else { return .dontUpgrade }
            var headers: HTTPFields = [:]
            let offered = request.headers[.secWebSocketProtocol]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
            if offered.contains(Self.subprotocol) { headers[.secWebSocketProtocol] = Self.subprotocol }
            return .upgrade(headers)
        }, onUpgrade: { inbound, outbound, context in
            try await serve(inbound: inbound, outbound: outbound, context: context)
        })
    }

    /// On the HTTP router: what a request that was not upgraded gets: 401/403
    /// from the scope check; with a token, a description of the stream (a
    /// plain GET is a client discovering it, not an error).
    func register(on api: RouterGroup<APIRequestContext>, pingIntervalSeconds: Double) {
        let info: JSONValue = [
            "websocket": "/api/v1/stream", "subprotocol": .string(Self.subprotocol),
            "topics": .array(StreamTopic.allCases.map { .string($0.rawValue) }),
            "queue": .int(Int64(hub.queueLimit)), "ping_interval_s": .double(pingIntervalSeconds),
        ]
        api.requiring(.read).get("stream") { _, _ in JSONResponse(info) }
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
                       context: WebSocketRouterContext<APIRequestContext>) async throws {
        let tokenName = context.requestContext.credential.tokenName ?? "?"
        let subscriber = hub.register(tokenName: tokenName)
        defer { hub.unregister(subscriber) }
        let channel = context.requestContext.channel
        let queueLimit = hub.queueLimit
        let logger = context.logger
        subscriber.onOverflow {
            logger.warning("closing a WebSocket client that does not keep up",
                           metadata: ["token": .string(tokenName), "queue": .stringConvertible(queueLimit)])
            Task {
                let closing = Task { try? await outbound.close(.policyViolation, reason: "too slow: more than \(queueLimit) events queued") }
                try? await Task.sleep(for: .seconds(1))
                closing.cancel()
                channel.close(mode: .all, promise: nil)
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    switch await subscriber.next() {
                    case let .event(text):
                        try await outbound.writeTextMessage(text)
                    case .end(.revoked):
                        try await outbound.close(.policyViolation, reason: "token revoked")
                        return
                    case .end(.finished), .end(.tooSlow):
                        // tooSlow: the overflow handler above closes the connection.
                        return
                    }
                }
            }
            for try await message in inbound.messages(maxSize: Self.maxMessageBytes) {
                guard case let .text(text) = message else {
                    try await outbound.writeTextMessage(#"{"error":"expected a text message with JSON"}"#)
                    continue
                }
                try await outbound.writeTextMessage(handle(text, subscriber: subscriber).compactText)
            }
            hub.unregister(subscriber)
            group.cancelAll()
        }
    }

    /// Applies one client message; returns the ack or the error to send back.
    func handle(_ text: String, subscriber: StreamSubscriber) -> JSONValue {
        guard let message = try? JSONValue(bytes: Array(text.utf8)), let object = message.object, object.count == 1,
              let (action, value) = object.first, action == "subscribe" || action == "unsubscribe"
        else {
            return ["error": #"expected {"subscribe":[topics]} or {"unsubscribe":[topics]}"#]
        }
        guard let names = value.array else { return ["error": .string("\(action): expected a list of topics")] }
        var topics: [StreamTopic] = []
        for name in names {
            guard let text = name.string, let topic = StreamTopic(rawValue: text) else {
                return ["error": .string("unknown topic \(name.compactText); topics: \(StreamTopic.allCases.map(\.rawValue).joined(separator: ", "))")]
            }
            topics.append(topic)
        }
        if action == "subscribe" { subscriber.subscribe(topics) } else { subscriber.unsubscribe(topics) }
        let current = subscriber.topics.map(\.rawValue).sorted().map { JSONValue.string($0) }
        return ["ack": .string(action), "topics": .array(current)]
    }
}
