import Logging

/// socfw-api's configuration (`socfw-api --config FILE`, YAML; Docs/api.md,
/// "Configuration"). Loaded whole and validated before anything starts.
public struct APIConfig: Sendable, Equatable {
    public struct Listen: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8443
        public init(host: String = "127.0.0.1", port: Int = 8443) {
            self.host = host
            self.port = port
        }
    }

    public struct TLS: Sendable, Equatable {
        public var certificatePath: String
        public var keyPath: String
        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    /// A token bucket: `rate` requests per second refill, `burst` at most at once.
    public struct Bucket: Sendable, Equatable {
        public var ratePerSecond: Double
        public var burst: Double
        public init(ratePerSecond: Double, burst: Double) {
            self.ratePerSecond = ratePerSecond
            self.burst = burst
        }
    }

    public struct RateLimit: Sendable, Equatable {
        public var perToken = Bucket(ratePerSecond: 20, burst: 40)
        public var perAddress = Bucket(ratePerSecond: 50, burst: 100)
        public init() {}
    }

    public struct Ready: Sendable, Equatable {
        /// Not ready above this resident set size.
        public var maxRSSMegabytes = 512
        /// Not ready below this much free space on `diskPath`.
        public var minFreeDiskMegabytes = 100
        public var diskPath = "/var/lib/socfw"
        public init() {}
    }

    public struct WebSocket: Sendable, Equatable {
        /// Events queued per client before it is dropped as too slow.
        public var queueLength = 1024
        /// Ping period; a peer that does not answer a ping within one period is closed.
        public var pingIntervalSeconds = 30.0
        public init() {}
    }

    public var listen = Listen()
    public var tls: TLS?
    public var plainHTTP = false
    public var controlSocket = "/run/socfw/socfwd.sock"
    public var corsOrigins: [String] = []
    public var rateLimit = RateLimit()
    public var ready = Ready()
    public var webSocket = WebSocket()
    public var logLevel: Logger.Level = .info

    /// Not in the file: how long one control request may take, and the
    /// reconnect backoff (tests shorten them).
    public var controlRequestTimeout: Duration = .seconds(10)
    public var controlReconnectDelay: ClosedRange<Duration> = .milliseconds(100) ... .seconds(5)

    public init() {}
}
