import Foundation
import Synchronization

/// The fan-out: socfw-api holds one socfwd subscription and hands each event
/// to every WebSocket client subscribed to its topic. Publishing never
/// waits for a client: each has a bounded queue, and a client whose queue
/// is full is dropped (closed with 1008) instead of slowing the others.
public final class EventHub: Sendable {
    private struct State {
        var clients: [UInt64: StreamSubscriber] = [:]
        var nextID: UInt64 = 1
    }

    private let state = Mutex(State())
    /// Per-client queue bound, in events.
    public let queueLimit: Int

    public init(queueLimit: Int) {
        self.queueLimit = queueLimit
    }

    /// A new client, authenticated with the token named `tokenName`.
    public func register(tokenName: String) -> StreamSubscriber {
        state.withLock { state in
            let subscriber = StreamSubscriber(id: state.nextID, tokenName: tokenName, queueLimit: queueLimit)
            state.clients[state.nextID] = subscriber
            state.nextID += 1
            return subscriber
        }
    }

    public func unregister(_ subscriber: StreamSubscriber) {
        _ = state.withLock { $0.clients.removeValue(forKey: subscriber.id) }
        subscriber.close(.finished)
    }

    public var clientCount: Int { state.withLock { $0.clients.count } }

    /// Encodes the event once (`{"topic":..., "data":...}`) and offers it to every subscriber.
    public func publish(topic: StreamTopic, data: JSONValue) {
        let clients = state.withLock { Array($0.clients.values) }
        guard clients.contains(where: { $0.isSubscribed(to: topic) }) else { return }
        let text = JSONValue.object(["topic": .string(topic.rawValue), "data": data]).compactText
        for client in clients where client.isSubscribed(to: topic) {
            client.offer(text)
        }
    }

    /// Ends the streams of clients whose token is no longer valid (revoked
    /// or deleted): a stream is authorized at the upgrade, and must not
    /// outlive its token.
    public func disconnect(unlessTokenIn valid: Set<String>) {
        let revoked = state.withLock { state in
            state.clients.values.filter { !valid.contains($0.tokenName) }
        }
        for client in revoked { client.close(.revoked) }
    }

    /// Ends every client's stream (shutdown).
    public func closeAll() {
        let clients = state.withLock { state in
            defer { state.clients.removeAll() }
            return Array(state.clients.values)
        }
        for client in clients { client.close(.finished) }
    }
}

/// One WebSocket client's side of the hub: its topics and its bounded queue.
public final class StreamSubscriber: Sendable {
    public enum End: Sendable, Equatable {
        case finished
        /// The queue overflowed: the client does not read fast enough.
        case tooSlow
        /// The client's token was revoked.
        case revoked
    }

    public enum Next: Sendable, Equatable {
        case event(String)
        case end(End)
    }

    private struct State {
        var topics: Set<StreamTopic> = []
        var queue: [String] = []
        var head = 0
        var end: End?
        var waiter: CheckedContinuation<Next, Never>?
    }

    let id: UInt64
    let tokenName: String
    private let queueLimit: Int
    private let state = Mutex(State())
    /// Called once, outside the lock, when the queue overflows: the writer
    /// may be stuck writing to the slow peer, so the owner closes the
    /// connection from outside.
    private let overflowHandler = Mutex<(@Sendable () -> Void)?>(nil)

    init(id: UInt64, tokenName: String, queueLimit: Int) {
        self.id = id
        self.tokenName = tokenName
        self.queueLimit = queueLimit
    }

    public func onOverflow(_ handler: @escaping @Sendable () -> Void) {
        overflowHandler.withLock { $0 = handler }
    }

    public func subscribe(_ topics: some Sequence<StreamTopic>) {
        state.withLock { $0.topics.formUnion(topics) }
    }

    public func unsubscribe(_ topics: some Sequence<StreamTopic>) {
        state.withLock { $0.topics.subtract(topics) }
    }

    public var topics: Set<StreamTopic> { state.withLock { $0.topics } }

    func isSubscribed(to topic: StreamTopic) -> Bool {
        state.withLock { $0.topics.contains(topic) }
    }

    /// Queues an event, or ends the stream with `.tooSlow` when the queue is full. Never blocks.
    func offer(_ text: String) {
        var overflowed = false
        let waiter: CheckedContinuation<Next, Never>? = state.withLock { state in
            guard state.end == nil else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            if state.queue.count - state.head >= queueLimit {
                state.end = .tooSlow
                state.queue = []
                state.head = 0
                overflowed = true
                return nil
            }
            state.queue.append(text)
            return nil
        }
        waiter?.resume(returning: .event(text))
        if overflowed, let handler = overflowHandler.withLock({ $0 }) { handler() }
    }

    func close(_ end: End) {
        let waiter: CheckedContinuation<Next, Never>? = state.withLock { state in
            if state.end == nil { state.end = end }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .end(end))
    }

    /// The next queued event, waiting for one; `.end` once the stream ended
    /// (an overflow ends it at once, dropping what was queued).
    public func next() async -> Next {
        await withCheckedContinuation { continuation in
            let immediate: Next? = state.withLock { state in
                if let end = state.end { return .end(end) }
                if state.head < state.queue.count {
                    let text = state.queue[state.head]
                    state.head += 1
                    if state.head > 64 && state.head * 2 > state.queue.count {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                    return .event(text)
                }
                state.waiter = continuation
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }
}
