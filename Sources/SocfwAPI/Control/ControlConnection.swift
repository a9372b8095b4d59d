import Foundation
import Logging
import NIOCore
import NIOPosix

/// One persistent connection to socfwd's control socket
/// (Docs/control-protocol.md), reconnecting with backoff when socfwd goes
/// away.
///
/// Why swift-nio and not a dedicated thread with blocking reads (as
/// socfwctl's `ControlClient` does): the HTTP server already runs on NIO's
/// event loops, so the control socket costs no extra thread, and many
/// concurrent HTTP requests share this one connection: each call gets the
/// next request id, its reply is matched by id (socfwd answers in request
/// order, but matching by id keeps a timed-out request from shifting every
/// later reply onto the wrong caller).
///
/// Outgoing lines go through one stream drained by one writer task, so
/// requests reach the socket in the order `call` registered them, and a
/// reply can never arrive before its caller is waiting for it.
public actor ControlConnection {
    public struct Configuration: Sendable {
        public var socketPath: String
        /// How long one request may wait for its reply.
        public var requestTimeout: Duration
        /// First and longest wait between two connection attempts (doubling in between).
        public var reconnectDelay: ClosedRange<Duration>
        /// What the logs call this connection ("requests", "subscription").
        public var role: String

        public init(socketPath: String, requestTimeout: Duration = .seconds(10),
                    reconnectDelay: ClosedRange<Duration> = .milliseconds(100) ... .seconds(5), role: String) {
            self.socketPath = socketPath
            self.requestTimeout = requestTimeout
            self.reconnectDelay = reconnectDelay
            self.role = role
        }
    }

    /// Called with every pushed event (`event`, `data`).
    public typealias EventHandler = @Sendable (_ event: String, _ data: JSONValue) async -> Void
    /// Called once per established connection, after the hello; may call `call`.
    public typealias ConnectHandler = @Sendable (ControlConnection) async throws -> Void

    /// The protocol version this client speaks (`hello.data.protocol`).
    public static let protocolVersion: Int64 = 1

    private struct Pending {
        let method: String
        let continuation: CheckedContinuation<RawResult, any Error>
        let timeout: Task<Void, Never>
    }

    private let configuration: Configuration
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private var onEvent: EventHandler = { _, _ in }
    private var onConnect: ConnectHandler = { _ in }

    private var outgoing: AsyncStream<ByteBuffer>.Continuation?
    private var pending: [Int64: Pending] = [:]
    private var nextID: Int64 = 1
    /// nil while connected; otherwise why not.
    private var downReason: String = "not connected yet"
    private var connected = false
    /// socfwd's greeting on the current connection.
    public private(set) var hello: JSONValue?

    public init(configuration: Configuration, logger: Logger,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sets the handlers; call before `run`.
    public func setHandlers(onConnect: @escaping ConnectHandler, onEvent: @escaping EventHandler) {
        self.onConnect = onConnect
        self.onEvent = onEvent
    }

    /// nil when connected, else why socfwd cannot be reached ("connect: No such file or directory").
    public var unreachableReason: String? { connected ? nil : downReason }

    // MARK: - Calls

    /// Sends `method` with `params` and returns the reply's `result`. Throws
    /// `ControlError.unreachable` at once while there is no connection,
    /// `.server` for an error reply, `.timedOut` after the request timeout.
    public func call(_ method: String, params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await callRaw(method, params: params).value()
    }

    /// `call`, with the result as socfwd wrote it: routes that hand a large
    /// result to the HTTP client unchanged (a page of alerts) skip building
    /// and re-writing it.
    public func callRaw(_ method: String, params: [String: JSONValue] = [:]) async throws -> RawResult {
        guard connected, let outgoing else { throw ControlError.unreachable(reason: downReason) }
        let id = nextID
        nextID += 1
        var request: [String: JSONValue] = ["id": .int(id), "method": .string(method)]
        if !params.isEmpty { request["params"] = .object(params) }
        var line = ByteBuffer(data: JSONValue.object(request).compactBytes)
        line.writeInteger(UInt8(ascii: "\n"))

        let timeout = configuration.requestTimeout
        return try await withCheckedThrowingContinuation { continuation in
            let timer = Task { [weak self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                await self?.finish(id: id, with: .failure(ControlError.timedOut(method: method, seconds: timeout.seconds)))
            }
            pending[id] = Pending(method: method, continuation: continuation, timeout: timer)
            outgoing.yield(line)
        }
    }

    private func finish(id: Int64, with result: Result<RawResult, any Error>) {
        guard let request = pending.removeValue(forKey: id) else { return }
        request.timeout.cancel()
        request.continuation.resume(with: result)
    }

    // MARK: - Connection loop

    /// Connects, serves, and reconnects with backoff until the task is cancelled.
    public func run() async {
        var delay = configuration.reconnectDelay.lowerBound
        while !Task.isCancelled {
            let reason: String
            do {
                try await connectAndServe()
                reason = "socfwd closed the connection"
            } catch let error as ControlError {
                reason = Self.describe(error)
            } catch {
                reason = Self.describe(error)
            }
            if Task.isCancelled { break }
            let wasConnected = connected
            markDown(reason)
            if wasConnected {
                delay = configuration.reconnectDelay.lowerBound
                logger.warning("lost the control connection", metadata: ["role": .string(configuration.role), "reason": .string(reason)])
            }
            guard (try? await Task.sleep(for: delay)) != nil else { break }
            delay = min(delay * 2, configuration.reconnectDelay.upperBound)
        }
        markDown("socfw-api is shutting down")
    }

    private func connectAndServe() async throws {
        let channel = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.seconds(2))
            .connect(unixDomainSocketPath: configuration.socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NewlineFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let helloTimeout = configuration.requestTimeout
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            // A socfwd that accepts but never greets must not hang us forever.
            let watchdog = Task { [channel = channel.channel] in
                guard (try? await Task.sleep(for: helloTimeout)) != nil else { return }
                channel.close(promise: nil)
            }
            let first = try await lines.next()
            watchdog.cancel()
            guard let first else { throw ControlError.unreachable(reason: "socfwd closed the connection before its hello") }
            try acceptHello(first)

            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            outgoing = continuation
            connected = true
            logger.info("connected to socfwd", metadata: ["role": .string(configuration.role), "socket": .string(configuration.socketPath)])
            let onConnect = self.onConnect
            let logger = self.logger
            // Unstructured so that the read loop below stays on this actor
            // (the inbound iterator cannot be sent to a child task); both
            // end with the connection.
            let writer = Task {
                for await line in stream { try await outbound.write(line) }
            }
            let setup = Task { [self] in
                do {
                    try await onConnect(self)
                } catch {
                    logger.error("setting up the control connection failed", metadata: ["error": .string(Self.describe(error))])
                }
            }
            defer {
                continuation.finish()
                writer.cancel()
                setup.cancel()
            }
            while let line = try await lines.next() {
                await receive(line)
            }
        }
    }

    private func acceptHello(_ line: ByteBuffer) throws {
        guard let message = try? JSONValue(bytes: line.readableBytesView) else {
            throw ControlError.unreachable(reason: "socfwd's greeting is not JSON")
        }
        // A peer refused at connect (permissions, too many clients) gets an error instead of hello.
        if let error = message["error"] {
            let code = error["code"]?.int ?? 0
            throw ControlError.unreachable(reason: "socfwd refused the connection (\(code)): \(error["message"]?.string ?? error.compactText)")
        }
        guard message["event"]?.string == "hello", let data = message["data"] else {
            throw ControlError.unreachable(reason: "expected socfwd's hello greeting")
        }
        guard data["protocol"]?.int == Self.protocolVersion else {
            throw ControlError.unreachable(reason: "socfwd speaks protocol \(data["protocol"]?.compactText ?? "?"), socfw-api speaks \(Self.protocolVersion)")
        }
        hello = data
    }

    private func receive(_ line: ByteBuffer) async {
        if let (id, result) = Self.plainReply(line) {
            finish(id: id, with: .success(RawResult(bytes: result)))
            return
        }
        // `result` is only validated here: the caller decides whether to build it.
        let parsed = line.withUnsafeReadableBytes { bytes in
            try? JSONText.parseObject(bytes, keepingRaw: "result")
        }
        guard let (message, rawResult) = parsed else {
            logger.warning("socfwd sent a line that is not a JSON object", metadata: ["role": .string(configuration.role)])
            return
        }
        if let event = message["event"]?.string {
            await onEvent(event, message["data"] ?? .null)
            return
        }
        guard let id = message["id"]?.int else {
            // An error with id null is about the connection itself; socfwd closes it next.
            if let error = message["error"] {
                logger.warning("socfwd refused the connection", metadata: ["error": .string(error.compactText)])
            }
            return
        }
        if let error = message["error"] {
            finish(id: id, with: .failure(ControlError.server(
                code: error["code"]?.int ?? 0, message: error["message"]?.string ?? error.compactText)))
        } else if let rawResult {
            finish(id: id, with: .success(RawResult(bytes: line.getSlice(at: line.readerIndex + rawResult.lowerBound,
                                                                         length: rawResult.count)!)))
        } else {
            finish(id: id, with: .success(RawResult(bytes: ByteBuffer(string: "null"))))
        }
    }

    /// socfwd writes every successful reply as `{"id":N,"result":VALUE}`,
    /// result last, with its own serializer: a line of exactly that shape is
    /// split without reading VALUE (a page of alerts is 60 KB; checking it
    /// byte by byte was a third of socfw-api's time on that route). Any
    /// other shape (errors, events, another member order) is parsed in full.
    public static func plainReply(_ line: ByteBuffer) -> (id: Int64, result: ByteBuffer)? {
        let prefix = #"{"id":"#.utf8, marker = #","result":"#.utf8
        let found: (Int64, Int, Int)? = line.withUnsafeReadableBytes { bytes in
            guard bytes.count > prefix.count + marker.count + 2, bytes.starts(with: prefix),
                  bytes[bytes.count - 1] == UInt8(ascii: "}") else { return nil }
            var i = prefix.count
            var id: Int64 = 0
            let digitsStart = i
            while i < bytes.count, bytes[i] &- UInt8(ascii: "0") < 10, i - digitsStart < 18 {
                id = id * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
                i += 1
            }
            guard i > digitsStart, bytes[i...].starts(with: marker) else { return nil }
            let start = i + marker.count
            let end = bytes.count - 1
            // The value must at least open and close as one value does.
            guard start < end else { return nil }
            switch (bytes[start], bytes[end - 1]) {
            case (UInt8(ascii: "{"), UInt8(ascii: "}")), (UInt8(ascii: "["), UInt8(ascii: "]")),
                 (UInt8(ascii: "\""), UInt8(ascii: "\"")):
                return (id, start, end)
            default:
                return nil
            }
        }
        guard let (id, start, end) = found else { return nil }
        return (id, line.getSlice(at: line.readerIndex + start, length: end - start)!)
    }

    private func markDown(_ reason: String) {
        connected = false
        downReason = reason
        hello = nil
        outgoing?.finish()
        outgoing = nil
        for (_, request) in pending {
            request.timeout.cancel()
            request.continuation.resume(throwing: ControlError.connectionLost(method: request.method))
        }
        pending.removeAll()
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ControlError:
            switch error {
            case let .unreachable(reason): return reason
            case let .server(code, message): return "socfwd answered \(code): \(message)"
            case let .timedOut(method, seconds): return "no reply to \(method) within \(seconds) s"
            case let .connectionLost(method): return "the connection broke during \(method)"
            }
        case let error as IOError:
            return "connect: " + String(cString: strerror(error.errnoCode))
        default:
            return String(describing: error)
        }
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

/// A reply's `result`: one JSON value exactly as socfwd wrote it, already
/// checked to be valid JSON (the same grammar `JSONValue` parses).
public struct RawResult: Sendable {
    public let bytes: ByteBuffer

    public func value() throws(ControlError) -> JSONValue {
        do {
            return try JSONText.parse(bytes.readableBytesView)
        } catch {
            throw ControlError.server(code: ControlError.Code.parse, message: "socfwd's reply: \(error)")
        }
    }

    /// Whether the result is an object with the member `key`.
    public func hasMember(_ key: String) -> Bool {
        bytes.withUnsafeReadableBytes { JSONText.objectHasMember($0, key) }
    }
}
