import Foundation
import NIOCore
import NIOPosix
import Synchronization
import SocfwAPI

/// A small but real socfwd stand-in: a Unix-socket NDJSON server that
/// greets with `hello`, answers methods from a table, records every call,
/// pushes events to connections that subscribed, and can be stopped and
/// started again on the same path (to test 503 and reconnection).
final class FakeSocfwd: Sendable {
    enum Reply: Sendable {
        case result(JSONValue)
        case error(code: Int64, message: String)
        /// Never answers (to test the request timeout).
        case silence
    }

    struct Call: Sendable {
        var method: String
        var params: JSONValue
    }

    typealias Handler = @Sendable (JSONValue) -> Reply

    let socketPath: String
    private let handlers = Mutex<[String: Handler]>([:])
    private let recorded = Mutex<[Call]>([])
    private let subscribers = Mutex<[ObjectIdentifier: NIOAsyncChannelOutboundWriter<ByteBuffer>]>([:])
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let server = Mutex<(channel: (any Channel)?, task: Task<Void, Never>?)>((nil, nil))
    /// Topics the `subscribe` method accepts; others get -32602.
    let knownTopics = Mutex<Set<String>>(["alerts", "quarantine", "stats", "reloads", "tokens"])

    init(directory: String) {
        socketPath = directory + "/socfwd.sock"
    }

    // MARK: - Table

    func on(_ method: String, _ handler: @escaping Handler) {
        handlers.withLock { $0[method] = handler }
    }

    func on(_ method: String, result: JSONValue) {
        on(method) { _ in .result(result) }
    }

    func on(_ method: String, error code: Int64, _ message: String) {
        on(method) { _ in .error(code: code, message: message) }
    }

    var calls: [Call] { recorded.withLock { $0 } }

    func calls(_ method: String) -> [Call] { calls.filter { $0.method == method } }

    func lastParams(_ method: String) -> JSONValue? { calls(method).last?.params }

    var subscriberCount: Int { subscribers.withLock { $0.count } }

    // MARK: - Lifecycle

    func start() async throws {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NewlineFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let task = Task {
            _ = try? await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        }
        server.withLock { $0 = (serverChannel.channel, task) }
    }

    /// Closes the listening socket and every connection, as a stopping socfwd does.
    func stop() async {
        let (channel, task) = server.withLock { state in
            defer { state = (nil, nil) }
            return state
        }
        try? await channel?.close()
        for connection in connections.withLock({ Array($0.values) }) {
            try? await connection.close()
        }
        task?.cancel()
        _ = await task?.value
        try? FileManager.default.removeItem(atPath: socketPath)
    }

    /// Pushes `{"event":name,"data":data}` to every subscribed connection.
    func emit(_ name: String, _ data: JSONValue) async {
        let line = JSONValue.object(["event": .string(name), "data": data]).compactText + "\n"
        for writer in subscribers.withLock({ Array($0.values) }) {
            try? await writer.write(ByteBuffer(string: line))
        }
    }

    // MARK: - One connection

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let key = ObjectIdentifier(connection.channel)
        connections.withLock { $0[key] = connection.channel }
        defer {
            connections.withLock { _ = $0.removeValue(forKey: key) }
            subscribers.withLock { _ = $0.removeValue(forKey: key) }
        }
        try? await connection.executeThenClose { inbound, outbound in
            let hello: JSONValue = ["event": "hello", "data": ["protocol": 1, "server": "socfwd", "version": "0.5.0-fake", "pid": 4242, "read": true, "write": true]]
            try await outbound.write(ByteBuffer(string: hello.compactText + "\n"))
            for try await line in inbound {
                guard let request = try? JSONValue(bytes: line.readableBytesView), let method = request["method"]?.string else {
                    try await outbound.write(ByteBuffer(string: #"{"id":null,"error":{"code":-32700,"message":"not JSON"}}"# + "\n"))
                    continue
                }
                let id = request["id"] ?? .null
                let params = request["params"] ?? .object([:])
                recorded.withLock { $0.append(Call(method: method, params: params)) }
                let reply: Reply
                if method == "subscribe" {
                    let topics = params["topics"]?.array?.compactMap(\.string) ?? []
                    let known = knownTopics.withLock { $0 }
                    if let unknown = topics.first(where: { !known.contains($0) }) {
                        reply = .error(code: -32602, message: "params.topics: unknown topic '\(unknown)'")
                    } else {
                        subscribers.withLock { $0[key] = outbound }
                        reply = .result(["topics": params["topics"] ?? []])
                    }
                } else if let handler = handlers.withLock({ $0[method] }) {
                    reply = handler(params)
                } else {
                    reply = .error(code: -32601, message: "unknown method '\(method)'")
                }
                let answer: JSONValue
                switch reply {
                case let .result(result): answer = ["id": id, "result": result]
                case let .error(code, message): answer = ["id": id, "error": ["code": .int(code), "message": .string(message)]]
                case .silence: continue
                }
                try await outbound.write(ByteBuffer(string: answer.compactText + "\n"))
            }
        }
    }
}
