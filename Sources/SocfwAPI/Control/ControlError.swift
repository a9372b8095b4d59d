/// Why a call to socfwd did not produce a result.
public enum ControlError: Error, Sendable, Equatable {
    /// No connection to socfwd right now; `reason` says what the last attempt saw.
    case unreachable(reason: String)
    /// socfwd answered with an error object (Docs/control-protocol.md, "Errors").
    case server(code: Int64, message: String)
    /// No reply within the per-request timeout.
    case timedOut(method: String, seconds: Double)
    /// The connection broke while the request was outstanding.
    case connectionLost(method: String)

    /// The protocol's error codes.
    public enum Code {
        public static let parse: Int64 = -32700
        public static let badRequest: Int64 = -32600
        public static let unknownMethod: Int64 = -32601
        public static let badParams: Int64 = -32602
        public static let permissionDenied: Int64 = -32001
        public static let refused: Int64 = -32002
        public static let limit: Int64 = -32003
    }
}
