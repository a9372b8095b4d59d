/// The control protocol's framing, requests, replies and errors
/// (Docs/control-protocol.md). Pure: the socket server is in SocfwKernel.
public enum ControlProtocol {
    public static let version = 1
    /// Longest request line, bytes (without the newline).
    public static let maxLineBytes = 65536

    /// A request line, or the error to answer it with (and the id, when
    /// one could be read).
    public static func parseRequest(_ line: String) -> Result<ControlRequest, ControlFailure> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            return .failure(ControlFailure(id: .null, error: ControlError(.parse, "the line is not JSON: \(error.message)")))
        }
        guard case let .object(members) = value else {
            return .failure(ControlFailure(id: .null, error: ControlError(.invalidRequest, "a request is a JSON object")))
        }
        let id = value["id"] ?? .null
        switch id {
        case .null, .int, .string: break
        default:
            return .failure(ControlFailure(id: .null, error: ControlError(.invalidRequest, "id must be a number or a string")))
        }
        for (key, _) in members where !["id", "method", "params"].contains(key) {
            return .failure(ControlFailure(id: id, error: ControlError(.invalidRequest,
                                                                      "unknown member '\(key)' (a request has id, method, params)")))
        }
        guard let method = value["method"]?.stringValue, !method.isEmpty else {
            return .failure(ControlFailure(id: id, error: ControlError(.invalidRequest, "method must be a non-empty string")))
        }
        let params = value["params"] ?? .object([])
        guard case .object = params else {
            return .failure(ControlFailure(id: id, error: ControlError(.invalidParams, "params must be an object")))
        }
        return .success(ControlRequest(id: id, method: method, params: params))
    }

    public static func reply(id: JSONValue, result: JSONValue) -> String {
        var line: [UInt8] = []
        appendReply(id: id, result: result, to: &line)
        return String(decoding: line, as: UTF8.self)
    }

    /// `reply(id:result:)` appended as bytes (the control server writes a
    /// 60 KB page of alerts into its socket buffer without a String of it).
    public static func appendReply(id: JSONValue, result: JSONValue, to out: inout [UInt8]) {
        JSONValue.object([("id", id), ("result", result)]).write(into: &out)
    }

    public static func reply(id: JSONValue, error: ControlError) -> String {
        JSONValue.object([("id", id), ("error", .object([("code", .int(Int64(error.code.rawValue))),
                                                          ("message", .string(error.message))]))]).serialized
    }

    public static func event(_ name: String, data: JSONValue) -> String {
        JSONValue.object([("event", .string(name)), ("data", data)]).serialized
    }
}

public enum ControlErrorCode: Int, Sendable {
    case parse = -32700
    case invalidRequest = -32600
    case unknownMethod = -32601
    case invalidParams = -32602
    case permissionDenied = -32001
    case refused = -32002
    case limit = -32003
}

public struct ControlError: Error, Equatable, Sendable {
    public var code: ControlErrorCode
    public var message: String

    public init(_ code: ControlErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A refused operation from a configuration or rules error.
    public init(_ error: ConfigError) {
        self.init(.refused, error.description)
    }
}

public struct ControlFailure: Error {
    public var id: JSONValue
    public var error: ControlError
}

/// One request, with typed access to its parameters.
public struct ControlRequest: Sendable {
    public var id: JSONValue
    public var method: String
    public var params: JSONValue
    /// The peer's uid (set by the server from SO_PEERCRED), for audit.
    public var callerUID: UInt32 = 0
    /// Whether the peer may call mutating methods (root or the admin group).
    public var callerCanWrite = false
    /// On whose behalf a peer that may change socfwd asks (params.actor,
    /// e.g. socfw-api's `token:NAME`), taken out of params by the server.
    public var onBehalfOf: String?

    /// Who is asking, for the audit log and acknowledgements: `uid:N`, or
    /// `uid:N/token:NAME` when socfw-api asks for one of its tokens.
    public var actor: String { onBehalfOf.map { "uid:\(callerUID)/\($0)" } ?? "uid:\(callerUID)" }

    /// Takes `params.actor` out of the parameters (every method accepts it):
    /// 1 to 128 printable ASCII characters without spaces or quotes, and only
    /// from a peer that may change socfwd; anyone else cannot speak for another.
    public mutating func takeActor() throws(ControlError) {
        guard case let .object(members) = params, let value = self.params["actor"] else { return }
        params = .object(members.filter { $0.0 != "actor" })
        guard value != .null else { return }
        guard callerCanWrite else {
            throw ControlError(.permissionDenied, "permission denied: params.actor is for peers that may change socfwd")
        }
        guard let text = value.stringValue, (1...128).contains(text.utf8.count),
              text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != 0x22 && $0 != 0x27 && $0 != 0x5c }) else {
            throw ControlError(.invalidParams, "params.actor: 1 to 128 printable characters, no spaces, quotes or backslashes")
        }
        onBehalfOf = text
    }

    public func optionalBool(_ name: String) throws(ControlError) -> Bool? {
        guard let v = params[name], v != .null else { return nil }
        guard let b = v.boolValue else { throw ControlError(.invalidParams, "params.\(name): expected true or false") }
        return b
    }

    public init(id: JSONValue, method: String, params: JSONValue = .object([])) {
        self.id = id
        self.method = method
        self.params = params
    }

    public func string(_ name: String) throws(ControlError) -> String {
        guard let v = params[name] else { throw ControlError(.invalidParams, "params.\(name) is required (a string)") }
        guard let s = v.stringValue, !s.isEmpty else { throw ControlError(.invalidParams, "params.\(name): expected a non-empty string") }
        return s
    }

    public func optionalString(_ name: String) throws(ControlError) -> String? {
        guard let v = params[name], v != .null else { return nil }
        guard let s = v.stringValue else { throw ControlError(.invalidParams, "params.\(name): expected a string") }
        return s
    }

    public func optionalInt(_ name: String, in range: ClosedRange<Int64>) throws(ControlError) -> Int64? {
        guard let v = params[name], v != .null else { return nil }
        guard let i = v.intValue, range.contains(i) else {
            throw ControlError(.invalidParams, "params.\(name): expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return i
    }

    /// A duration (`90s`, `1h`, `2d`, `permanent`): nil when absent,
    /// `.some(nil)` for permanent, `.some(seconds)`.
    public func optionalDuration(_ name: String) throws(ControlError) -> Int64?? {
        guard let text = try optionalString(name) else { return nil }
        switch QuarantinePolicy.parseDuration(text) {
        case let .success(d): return .some(d)
        case let .failure(f): throw ControlError(.invalidParams, "params.\(name): \(f.message)")
        }
    }

    /// Refuses parameters the method does not know (a typo is an error, not ignored).
    public func allowOnly(_ names: [String]) throws(ControlError) {
        guard case let .object(members) = params else { return }
        for (key, _) in members where !names.contains(key) {
            let known = names.isEmpty ? "none" : names.joined(separator: ", ")
            throw ControlError(.invalidParams, "unknown parameter '\(key)' for \(method) (known: \(known))")
        }
    }
}

/// A method of the control socket.
public struct ControlMethod: Sendable {
    public var name: String
    /// Changes socfwd's state: needs the admin group.
    public var mutating: Bool
    public var handler: @Sendable (ControlRequest) throws(ControlError) -> JSONValue

    public init(_ name: String, mutating: Bool = false,
                _ handler: @escaping @Sendable (ControlRequest) throws(ControlError) -> JSONValue) {
        self.name = name
        self.mutating = mutating
        self.handler = handler
    }
}
