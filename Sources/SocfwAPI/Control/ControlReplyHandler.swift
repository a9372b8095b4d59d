import NIOCore
import Synchronization

/// The calls in flight on one control connection, on its event loop: writes
/// each request, completes its promise when the reply with its id arrives,
/// fails it after its deadline or when the connection closes. Lines that
/// answer no call (the hello, events, an error about the connection) are
/// forwarded, in order, to `ControlConnection.run`.
///
/// Reading pauses while `LineBacklog.limit` forwarded lines wait there, so a
/// flood of events costs bounded memory (socfwd drops a subscriber that
/// stops reading; it never blocks on one).
final class ControlReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let method: String
        let deadline: NIODeadline
        let promise: EventLoopPromise<RawResult>
    }

    private var pending: [Int64: Pending] = [:]
    private var context: ChannelHandlerContext?
    /// Set once the channel is inactive: later calls fail at once.
    private var closed = false
    private var sweep: Scheduled<Void>?
    private let sweepInterval: TimeAmount
    /// The request timeout, for the error message.
    private let timeoutSeconds: Double
    private let backlog: LineBacklog
    private let forward: AsyncStream<ControlLine>.Continuation
    /// A read the pipeline asked for while the backlog was full.
    private var readHeld = false

    init(timeout: TimeAmount, backlog: LineBacklog, forward: AsyncStream<ControlLine>.Continuation) {
        self.sweepInterval = Self.sweepInterval(for: timeout)
        self.timeoutSeconds = Double(timeout.nanoseconds) / 1e9
        self.backlog = backlog
        self.forward = forward
    }

    /// How often timeouts are checked: an eighth of the timeout, 5–250 ms
    /// (a timeout fires up to that late). One timer per connection, not
    /// one per call.
    static func sweepInterval(for timeout: TimeAmount) -> TimeAmount {
        .nanoseconds(min(max(timeout.nanoseconds / 8, 5_000_000), 250_000_000))
    }

    // MARK: Calls

    /// Writes `line` (request `id`) and keeps `promise` until its reply.
    func send(_ line: ByteBuffer, id: Int64, method: String, deadline: NIODeadline, promise: EventLoopPromise<RawResult>) {
        guard !closed, let context else {
            promise.fail(ControlError.connectionLost(method: method))
            return
        }
        pending[id] = Pending(method: method, deadline: deadline, promise: promise)
        context.writeAndFlush(wrapOutboundOut(line), promise: nil)
    }

    private func finish(_ id: Int64, with result: Result<RawResult, any Error>) {
        pending.removeValue(forKey: id)?.promise.completeWith(result)
    }

    private func expire() {
        let now = NIODeadline.now()
        for (id, call) in pending where call.deadline <= now {
            finish(id, with: .failure(ControlError.timedOut(method: call.method, seconds: timeoutSeconds)))
        }
        armSweep()
    }

    private func armSweep() {
        guard let context, !closed else { return }
        sweep = context.eventLoop.assumeIsolated().scheduleTask(in: sweepInterval) { [self] in expire() }
    }

    // MARK: Channel

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armSweep()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        close()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        close()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func close() {
        guard !closed else { return }
        closed = true
        sweep?.cancel()
        let calls = pending
        pending.removeAll()
        for (_, call) in calls { call.promise.fail(ControlError.connectionLost(method: call.method)) }
        forward.finish()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if let (id, result) = ControlConnection.plainReply(line) {
            finish(id, with: .success(RawResult(bytes: result)))
            return
        }
        // `result` is only validated here: the caller decides whether to build it.
        let parsed = line.withUnsafeReadableBytes { bytes in try? JSONText.parseObject(bytes, keepingRaw: "result") }
        guard let (message, rawResult) = parsed, message["event"] == nil, let id = message["id"]?.int else {
            // Not a reply: run's loop logs or dispatches it, parsed once here.
            backlog.add()
            forward.yield(parsed.map { .message(.object($0.0)) } ?? .notJSON)
            return
        }
        if let error = message["error"] {
            finish(id, with: .failure(ControlError.server(
                code: error["code"]?.int ?? 0, message: error["message"]?.string ?? error.compactText)))
        } else if let rawResult {
            finish(id, with: .success(RawResult(bytes: line.getSlice(at: line.readerIndex + rawResult.lowerBound,
                                                                     length: rawResult.count)!)))
        } else {
            finish(id, with: .success(RawResult(bytes: ByteBuffer(string: "null"))))
        }
    }

    func read(context: ChannelHandlerContext) {
        if backlog.isFull {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// The backlog fell below its limit: reads go on.
    func resumeReading() {
        guard readHeld, let context else { return }
        readHeld = false
        context.read()
    }
}

/// A line that answers no call, as the handler hands it to `ControlConnection.run`.
enum ControlLine: Sendable {
    case message(JSONValue)
    /// Not a JSON object.
    case notJSON
}

/// How many forwarded lines `ControlConnection.run` has not handled yet:
/// counted up on the event loop, down on the task that handles them.
final class LineBacklog: Sendable {
    static let limit = 1_024
    private let waiting = Atomic<Int>(0)

    var isFull: Bool { waiting.load(ordering: .relaxed) >= Self.limit }

    func add() {
        waiting.add(1, ordering: .relaxed)
    }

    /// One line handled. True when that took the backlog below its limit:
    /// the handler may have held a read back, and must be told to read.
    func release() -> Bool {
        waiting.subtract(1, ordering: .relaxed).newValue == Self.limit - 1
    }
}
