import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Who made a request, as `AuthenticationMiddleware` found out. Routes
/// never read the header themselves; `RequireScopeMiddleware` decides.
public enum Credential: Sendable {
    /// No Authorization header (nor WebSocket bearer subprotocol).
    case none
    /// A header that is not `Bearer socfw_<43 base64url>`, or an unknown token.
    case invalid(reason: String)
    case revoked(name: String)
    /// Tokens were never fetched from socfwd: cannot tell; `reason` says why.
    case unverifiable(reason: String)
    case token(APIToken)

    public var tokenName: String? {
        if case let .token(token) = self { return token.name }
        return nil
    }
}

/// The request context of every route, plain HTTP and WebSocket upgrade alike.
public struct APIRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<APIRequestContext>
    public let remoteAddress: SocketAddress?
    /// The connection: the WebSocket handler closes a peer too slow to take a close frame.
    public let channel: any Channel
    public var credential: Credential = .none

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }

    /// A request body is at most 1 MiB (a rule, a quarantine request).
    public var maxUploadSize: Int { 1 << 20 }

    /// "token:NAME", as mutating calls pass it to socfwd for the audit log.
    public var actor: JSONValue {
        .string("token:\(credential.tokenName ?? "unknown")")
    }

    /// The client address without port, for rate limiting and logs.
    public var clientAddress: String {
        remoteAddress?.ipAddress ?? "local"
    }
}
