import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// socfw-api's view of socfwd: two control connections and what rides on them.
///
/// - `requests` carries every call (multiplexed by id). When it connects,
///   the token list is fetched (`tokens.list {"include_hashes":true}`).
/// - `subscription` holds the ONE subscription socfw-api has (alerts,
///   quarantine, stats, reloads, tokens); its events are fanned out to
///   WebSocket clients by `EventHub`, counted into metrics, and a `token`
///   event refetches the token list. Re-subscribes on every reconnect.
///
/// A `Service`: `run` keeps both connections up until graceful shutdown.
public final class Socfwd: Service, Sendable {
    /// The topics socfw-api subscribes to. `tokens` is newer than the rest: a
    /// socfwd that refuses it gets the others, and tokens are refetched
    /// periodically instead.
    static let topics: [JSONValue] = ["alerts", "quarantine", "stats", "reloads", "tokens"]
    static let tokenRefreshInterval: Duration = .seconds(30)

    public let requests: ControlConnection
    public let subscription: ControlConnection
    public let tokens: TokenStore
    public let hub: EventHub
    let socfwdMetrics: SocfwdMetrics
    private let logger: Logger
    /// Whether socfwd takes the `actor` parameter (assumed until it refuses it).
    private let actorAccepted = Mutex(true)

    init(socketPath: String, requestTimeout: Duration, reconnectDelay: ClosedRange<Duration>,
         tokens: TokenStore, hub: EventHub, metrics: SocfwdMetrics, logger: Logger) {
        self.requests = ControlConnection(
            configuration: .init(socketPath: socketPath, requestTimeout: requestTimeout, reconnectDelay: reconnectDelay, role: "requests"),
            logger: logger)
        self.subscription = ControlConnection(
            configuration: .init(socketPath: socketPath, requestTimeout: requestTimeout, reconnectDelay: reconnectDelay, role: "subscription"),
            logger: logger)
        self.tokens = tokens
        self.hub = hub
        self.socfwdMetrics = metrics
        self.logger = logger
    }

    /// Calls a control method; errors stay `ControlError` (routes map them to problems).
    ///
    /// `actor` (the token, for socfwd's audit log) is newer than the rest of
    /// the protocol: a socfwd that refuses it as an unknown parameter gets the
    /// call again without it, and no more `actor` until it reconnects (it
    /// may have been updated by then).
    public func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await callRaw(method, params).value()
    }

    /// `call`, with the result as socfwd wrote it (see `ControlConnection.callRaw`).
    public func callRaw(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> RawResult {
        var params = params
        if !actorAccepted.withLock({ $0 }) { params.removeValue(forKey: "actor") }
        do {
            return try await requests.callRaw(method, params: params)
        } catch let ControlError.server(code, message)
            where code == ControlError.Code.badParams && params["actor"] != nil && message.contains("'actor'") {
            actorAccepted.withLock { $0 = false }
            logger.warning("socfwd does not accept 'actor': its audit log will not name API tokens (update socfwd)")
            params.removeValue(forKey: "actor")
            return try await requests.callRaw(method, params: params)
        }
    }

    /// nil when socfwd answers; else why not.
    public func unreachableReason() -> String? {
        requests.unreachableReason
    }

    public func run() async throws {
        requests.setHandlers(
            onConnect: { [weak self] _ in
                self?.actorAccepted.withLock { $0 = true }
                try await self?.refreshTokens()
            },
            onEvent: { _, _ in })
        subscription.setHandlers(
            onConnect: { [weak self] connection in try await self?.subscribe(on: connection) },
            onEvent: { [weak self] event, data in await self?.handle(event: event, data: data) })
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.requests.run() }
                group.addTask { await self.subscription.run() }
                group.addTask { await self.refreshTokensPeriodically() }
                await group.waitForAll()
            }
        }
        hub.closeAll()
    }

    // MARK: - Tokens

    func refreshTokens() async throws {
        let result: JSONValue
        do {
            result = try await requests.call("tokens.list", params: ["include_hashes": true])
        } catch let error as ControlError {
            if case .server(ControlError.Code.unknownMethod, _) = error {
                tokens.fetchFailed("this socfwd has no tokens.list method (update socfwd)")
            } else if case .server = error {
                tokens.fetchFailed("socfwd refused tokens.list (\(ControlConnection.describe(error)))")
            }
            throw error
        }
        let entries = result["tokens"]?.array ?? []
        let parsed = entries.compactMap(APIToken.init(listEntry:))
        if parsed.count != entries.count {
            logger.warning("tokens.list had entries without a usable sha256; they are ignored",
                           metadata: ["skipped": .stringConvertible(entries.count - parsed.count)])
        }
        tokens.replace(with: parsed)
        hub.disconnect(unlessTokenIn: Set(parsed.filter { !$0.revoked }.map(\.name)))
    }

    private func refreshTokensPeriodically() async {
        while (try? await Task.sleep(for: Self.tokenRefreshInterval)) != nil {
            guard requests.unreachableReason == nil else { continue }
            do { try await refreshTokens() } catch {
                logger.warning("refreshing tokens failed", metadata: ["error": .string(ControlConnection.describe(error))])
            }
        }
    }

    // MARK: - Subscription

    private func subscribe(on connection: ControlConnection) async throws {
        do {
            _ = try await connection.call("subscribe", params: ["topics": .array(Self.topics)])
        } catch ControlError.server(code: ControlError.Code.badParams, _) {
            // An older socfwd without the `tokens` topic: the rest still matter.
            logger.notice("socfwd has no 'tokens' topic; token changes are picked up every \(Self.tokenRefreshInterval)")
            _ = try await connection.call("subscribe", params: ["topics": .array(Self.topics.filter { $0 != "tokens" })])
        }
    }

    private func handle(event: String, data: JSONValue) async {
        switch event {
        case "token", "tokens":
            // Off the subscription's read loop: events behind it must not wait for the call.
            Task {
                do { try await self.refreshTokens() } catch {
                    self.logger.warning("refetching tokens after a token event failed",
                                        metadata: ["error": .string(ControlConnection.describe(error))])
                }
            }
        case "alert":
            socfwdMetrics.countAlert(data)
            hub.publish(topic: .alerts, data: data)
        case "quarantine":
            hub.publish(topic: .quarantine, data: data)
        case "stats":
            socfwdMetrics.update(stats: data)
            hub.publish(topic: .stats, data: data)
        case "reload":
            hub.publish(topic: .reloads, data: data)
        default:
            break
        }
    }
}
