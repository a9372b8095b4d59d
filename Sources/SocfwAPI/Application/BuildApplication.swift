import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOSSL

/// Assembles socfw-api: the socfwd connections, the routes, the middleware
/// and the server (TLS unless plain HTTP on loopback was configured).
///
/// Middleware order, outermost first, and why:
///   1. authentication — identifies the caller (rejects only a token in the
///      query string); refusing is left to each route's scope check, so a
///      CORS preflight and /health pass without a token;
///   2. rate limiting — per address always, per token once known;
///   3. request logging (and request metrics) — sees the final status and
///      the token name of every request that passed the rate limit, 401 and
///      403 included (429s and query-string tokens are answered before it);
///   4. CORS — answers preflights, adds headers to every response below it,
///      error responses included;
///   5. problem errors — turns every thrown error into problem+json inside
///      CORS and logging, so they see a response, not an error.
/// Then per route group: `RequireScopeMiddleware` (401/403).
public func buildApplication(configuration: APIConfig, logger: Logger) throws -> some ApplicationProtocol {
    let components = APIComponents(configuration: configuration, logger: logger)
    return try buildApplication(components)
}

/// The long-lived parts, apart so tests can reach the hub and the connections.
public struct APIComponents: Sendable {
    public let configuration: APIConfig
    public let logger: Logger
    public let tokens: TokenStore
    public let hub: EventHub
    public let metrics: APIMetrics
    public let socfwd: Socfwd

    public init(configuration: APIConfig, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.tokens = TokenStore()
        self.hub = EventHub(queueLimit: configuration.webSocket.queueLength)
        self.metrics = APIMetrics()
        self.socfwd = Socfwd(socketPath: configuration.controlSocket, requestTimeout: configuration.controlRequestTimeout,
                             reconnectDelay: configuration.controlReconnectDelay, tokens: tokens, hub: hub,
                             metrics: metrics.socfwd, logger: logger)
    }
}

public func buildApplication(_ components: APIComponents) throws -> some ApplicationProtocol {
    let configuration = components.configuration
    let socfwd = components.socfwd

    let authentication = AuthenticationMiddleware(tokens: components.tokens)
    // One set of buckets for HTTP and WebSocket upgrades alike.
    let rateLimit = RateLimitMiddleware(configuration: configuration.rateLimit)

    let router = Router(context: APIRequestContext.self)
    router.add(middleware: authentication)
    router.add(middleware: rateLimit)
    router.add(middleware: RequestLogMiddleware(metrics: components.metrics))
    router.add(middleware: CORSPolicyMiddleware(origins: configuration.corsOrigins))
    router.add(middleware: ProblemMiddleware(operations: OperationTable(openAPIYAML: OpenAPIDocument.yaml)))

    HealthRoutes(readiness: Readiness(socfwd: socfwd, configuration: configuration.ready)).register(on: router)
    MetricsRoutes(socfwd: socfwd, metrics: components.metrics).register(on: router)

    let api = router.group("api/v1")
    OpenAPIRoutes().register(on: api)
    StatusRoutes(socfwd: socfwd).register(on: api)
    RuleRoutes(socfwd: socfwd).register(on: api)
    AlertRoutes(socfwd: socfwd).register(on: api)
    QuarantineRoutes(socfwd: socfwd).register(on: api)
    ConnectionRoutes(socfwd: socfwd).register(on: api)
    SignatureRoutes(socfwd: socfwd).register(on: api)
    ConfigRoutes(socfwd: socfwd).register(on: api)
    TokenRoutes(socfwd: socfwd).register(on: api)
    let stream = StreamRoutes(hub: components.hub)
    stream.register(on: api, pingIntervalSeconds: configuration.webSocket.pingIntervalSeconds)

    // Upgrades are decided on a router of their own; one that is refused
    // (no token, over the rate) goes on to `router`, which answers it.
    let webSocketRouter = Router(context: APIRequestContext.self)
    webSocketRouter.add(middleware: authentication)
    webSocketRouter.add(middleware: rateLimit)
    stream.register(onWebSocketRouter: webSocketRouter)

    let webSocket = WebSocketServerConfiguration(
        maxFrameSize: 1 << 16,
        autoPing: .enabled(timePeriod: .milliseconds(Int64(configuration.webSocket.pingIntervalSeconds * 1000))))
    var server = HTTPServerBuilder.http1WebSocketUpgrade(webSocketRouter: webSocketRouter, configuration: .init(ws: webSocket))
    if let tls = configuration.tls, !configuration.plainHTTP {
        server = try .tls(server, tlsConfiguration: try TLSFiles.serverConfiguration(tls))
    }
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: "socfw-api"),
        services: [socfwd],
        logger: components.logger
    )
}

/// Reads the certificate chain and key named in the configuration.
enum TLSFiles {
    static func serverConfiguration(_ tls: APIConfig.TLS) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath)
        } catch {
            throw ConfigError(file: tls.certificatePath, field: "tls.certificate", message: "cannot load a PEM certificate chain (\(error))")
        }
        do {
            key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)
        } catch {
            throw ConfigError(file: tls.keyPath, field: "tls.key", message: "cannot load a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
