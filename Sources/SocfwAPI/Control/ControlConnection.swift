import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

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
/// A call costs one hop to the connection's event loop and one back: the
/// requests in flight live in a channel handler on that loop
/// (`ControlReplyHandler`), which writes the request, matches the reply,
/// and fails what outlives the request timeout. An actor holding them, a
/// writer task and a timer task per call cost a third of socfw-api's time
/// on a busy route (thread switches and a dispatch timer per request).
/// Everything that is not a reply (the hello, events, connection errors)
/// goes to `run`'s loop, in order.
public final class ControlConnection: Sendable {
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

    /// The live connection: its channel and the handler holding its calls.
    private struct Link: Sendable {
        let channel: any Channel
        let replies: NIOLoopBound<ControlReplyHandler>

        func resumeReading() {
            channel.eventLoop.execute { replies.value.resumeReading() }
        }
    }

    private struct State: Sendable {
        var onEvent: EventHandler = { _, _ in }
        var onConnect: ConnectHandler = { _ in }
        /// Set once socfwd's hello is accepted, nil while down.
        var link: Link?
        /// Why not connected (meaningful while `link` is nil).
        var downReason = "not connected yet"
        /// socfwd's greeting on the current connection.
        var hello: JSONValue?
    }

    private let configuration: Configuration
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let state = Mutex(State())
    private let nextID = Atomic<Int64>(1)

    public init(configuration: Configuration, logger: Logger,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sets the handlers; call before `run`.
    public func setHandlers(onConnect: @escaping ConnectHandler, onEvent: @escaping EventHandler) {
        state.withLock {
            $0.onConnect = onConnect
            $0.onEvent = onEvent
        }
    }

    /// nil when connected, else why socfwd cannot be reached ("connect: No such file or directory").
    public var unreachableReason: String? { state.withLock { $0.link == nil ? $0.downReason : nil } }

    /// socfwd's greeting on the current connection (nil while down).
    public var hello: JSONValue? { state.withLock { $0.hello } }

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
        let (link, reason) = state.withLock { ($0.link, $0.downReason) }
        guard let link else { throw ControlError.unreachable(reason: reason) }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        var request: [String: JSONValue] = ["id": .int(id), "method": .string(method)]
        if !params.isEmpty { request["params"] = .object(params) }
        var line = ByteBuffer(data: JSONValue.object(request).compactBytes)
        line.writeInteger(UInt8(ascii: "\n"))
        let eventLoop = link.channel.eventLoop
        let promise = eventLoop.makePromise(of: RawResult.self)
        let deadline = NIODeadline.now() + TimeAmount(configuration.requestTimeout)
        eventLoop.execute {
            link.replies.value.send(line, id: id, method: method, deadline: deadline, promise: promise)
        }
        return try await promise.futureResult.get()
    }

    // MARK: - Connection loop

    /// Connects, serves, and reconnects with backoff until the task is cancelled.
    public func run() async {
        var delay = configuration.reconnectDelay.lowerBound
        while !Task.isCancelled {
            let reason: String
            var wasConnected = false
            do {
                wasConnected = try await connectAndServe()
                reason = "socfwd closed the connection"
            } catch {
                reason = Self.describe(error)
            }
            if Task.isCancelled { break }
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

    /// One connection, from connect to close. Returns whether socfwd's hello was accepted.
    private func connectAndServe() async throws -> Bool {
        let (lines, forward) = AsyncStream.makeStream(of: ControlLine.self)
        let backlog = LineBacklog()
        let timeout = TimeAmount(configuration.requestTimeout)
        let link = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.seconds(2))
            .connect(unixDomainSocketPath: configuration.socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let replies = ControlReplyHandler(timeout: timeout, backlog: backlog, forward: forward)
                    try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(NewlineFrameDecoder()), replies)
                    return Link(channel: channel, replies: NIOLoopBound(replies, eventLoop: channel.eventLoop))
                }
            }
        defer { link.channel.close(promise: nil) }
        var iterator = lines.makeAsyncIterator()
        // A socfwd that accepts but never greets must not hang us forever.
        let watchdog = Task { [channel = link.channel] in
            guard (try? await Task.sleep(for: configuration.requestTimeout)) != nil else { return }
            channel.close(promise: nil)
        }
        let first = await iterator.next()
        watchdog.cancel()
        guard let first else { throw ControlError.unreachable(reason: "socfwd closed the connection before its hello") }
        if backlog.release() { link.resumeReading() }
        let hello = try acceptHello(first)
        let (onConnect, onEvent) = state.withLock { s in
            s.link = link
            s.hello = hello
            return (s.onConnect, s.onEvent)
        }
        logger.info("connected to socfwd", metadata: ["role": .string(configuration.role), "socket": .string(configuration.socketPath)])
        let logger = self.logger
        let setup = Task { [self] in
            do {
                try await onConnect(self)
            } catch {
                logger.error("setting up the control connection failed", metadata: ["error": .string(Self.describe(error))])
            }
        }
        defer { setup.cancel() }
        while let line = await iterator.next() {
            await receive(line, onEvent: onEvent)
            if backlog.release() { link.resumeReading() }
        }
        return true
    }

    /// A line that is no reply to a call in flight: an event, or an error about the connection.
    private func receive(_ line: ControlLine, onEvent: EventHandler) async {
        guard case let .message(message) = line else {
            logger.warning("socfwd sent a line that is not a JSON object", metadata: ["role": .string(configuration.role)])
            return
        }
        if let event = message["event"]?.string {
            await onEvent(event, message["data"] ?? .null)
        } else if let error = message["error"] {
            // An error with id null is about the connection itself; socfwd closes it next.
            logger.warning("socfwd refused the connection", metadata: ["error": .string(error.compactText)])
        }
    }

    private func acceptHello(_ line: ControlLine) throws -> JSONValue {
        guard case let .message(message) = line else {
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
        return data
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
        // The calls in flight fail in the handler when the channel goes inactive.
        state.withLock { s in
            s.link = nil
            s.downReason = reason
            s.hello = nil
        }
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
