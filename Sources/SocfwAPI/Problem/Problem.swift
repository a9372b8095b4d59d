import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem (`application/problem+json`): every error socfw-api
/// answers. It carries only what a client may see: never a stack trace, a
/// socket path or a Swift error's description.
public struct Problem: Error, HTTPResponseError, Sendable {
    /// One invalid input: `pointer` is a JSON Pointer into the body
    /// (`/rule/action`) or a query parameter (`#/query/limit`... see Docs/api.md).
    public struct FieldError: Sendable, Equatable {
        public var pointer: String
        public var detail: String
        public init(pointer: String, detail: String) {
            self.pointer = pointer
            self.detail = detail
        }
    }

    public var status: HTTPResponse.Status
    /// A short slug; the `type` URI is `urn:socfw:problem:<kind>`.
    public var kind: String
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, kind: String, title: String, detail: String,
                errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    public var type: String { "urn:socfw:problem:\(kind)" }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "type": .string(type), "title": .string(title), "status": .int(Int64(status.code)), "detail": .string(detail),
        ]
        if !errors.isEmpty {
            object["errors"] = .array(errors.map { ["pointer": .string($0.pointer), "detail": .string($0.detail)] })
        }
        return .object(object)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    public func response() -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: json.compactBytes)))
    }
}

extension Problem {
    public static func validation(_ errors: [FieldError]) -> Problem {
        let detail = errors.count == 1 ? errors[0].detail : "\(errors.count) fields are invalid"
        return Problem(.badRequest, kind: "validation", title: "Invalid request", detail: detail, errors: errors)
    }

    public static func validation(pointer: String, _ detail: String) -> Problem {
        validation([FieldError(pointer: pointer, detail: detail)])
    }

    public static func unauthorized(_ detail: String) -> Problem {
        Problem(.unauthorized, kind: "unauthorized", title: "Authentication required", detail: detail,
                headers: [.wwwAuthenticate: #"Bearer realm="socfw-api""#])
    }

    public static func forbidden(_ detail: String) -> Problem {
        Problem(.forbidden, kind: "forbidden", title: "Insufficient scope", detail: detail)
    }

    public static func notFound(_ detail: String = "No such resource") -> Problem {
        Problem(.notFound, kind: "not-found", title: "Not found", detail: detail)
    }

    public static func socfwdUnreachable(_ reason: String) -> Problem {
        Problem(.serviceUnavailable, kind: "socfwd-unreachable", title: "socfwd unavailable",
                detail: "socfwd is not reachable (\(reason))", headers: [.retryAfter: "1"])
    }

    /// A Hummingbird `HTTPError` (404 from the router, 413 from the body
    /// reader...) as a problem; its message is Hummingbird's own text, safe to show.
    public init(httpError: HTTPError) {
        let status = httpError.status
        self.init(status, kind: status == .notFound ? "not-found" : "http-\(status.code)",
                  title: status.reasonPhrase, detail: httpError.body ?? status.reasonPhrase, headers: httpError.headers)
    }

    /// Maps a failed control call (Docs/api.md, "Errors").
    ///   -32602 → 400 (socfwd validated a parameter socfw-api passed through)
    ///   -32002 → 409 (refused in the current state: already acknowledged,
    ///                 a rules file error...), or 404 when socfwd says the
    ///                 named thing does not exist
    ///   -32001 → 403, -32003 → 503, -32601 → 501, timeout → 504, no socfwd → 503
    public init(controlError: ControlError, pointerPrefix: String = "") {
        switch controlError {
        case let .unreachable(reason):
            self = .socfwdUnreachable(reason)
        case .connectionLost:
            self = .socfwdUnreachable("the connection broke during the request")
        case let .timedOut(method, seconds):
            self.init(.gatewayTimeout, kind: "socfwd-timeout", title: "socfwd did not answer",
                      detail: "socfwd did not answer \(method) within \(seconds) s")
        case let .server(code, message):
            switch code {
            case ControlError.Code.badParams:
                self.init(.badRequest, kind: "validation", title: "Invalid request", detail: message,
                          errors: [FieldError(pointer: Self.pointer(fromSocfwdMessage: message, prefix: pointerPrefix), detail: message)])
            case ControlError.Code.refused where Self.saysNotFound(message):
                self.init(.notFound, kind: "not-found", title: "Not found", detail: message)
            case ControlError.Code.refused:
                self.init(.conflict, kind: "refused", title: "Refused by socfwd", detail: message)
            case ControlError.Code.permissionDenied:
                self.init(.forbidden, kind: "socfwd-permission-denied", title: "Permission denied by socfwd", detail: message)
            case ControlError.Code.limit:
                self.init(.serviceUnavailable, kind: "socfwd-limit", title: "socfwd limit reached", detail: message,
                          headers: [.retryAfter: "1"])
            case ControlError.Code.unknownMethod:
                self.init(.notImplemented, kind: "not-implemented", title: "Not implemented by this socfwd",
                          detail: "this socfwd does not implement the operation")
            default:
                self.init(.badGateway, kind: "socfwd-protocol", title: "Unexpected answer from socfwd",
                          detail: "socfwd could not process the request (code \(code))")
            }
        }
    }

    /// socfwd names the parameter first: "params.rule.action: expected ..." → "/rule/action".
    static func pointer(fromSocfwdMessage message: String, prefix: String) -> String {
        guard let colon = message.firstIndex(of: ":") else { return prefix.isEmpty ? "" : prefix }
        var path = message[..<colon]
        guard !path.contains(" ") else { return prefix }
        if path.hasPrefix("params.") { path = path.dropFirst("params.".count) } else if path == "params" { return prefix }
        // "conditions[0].field" → "conditions/0/field"
        let segments = path.replacingOccurrences(of: "[", with: ".").replacingOccurrences(of: "]", with: "")
            .split(separator: ".")
        return prefix + "/" + segments.joined(separator: "/")
    }

    static func saysNotFound(_ message: String) -> Bool {
        let lowered = message.lowercased()
        return ["no rule", "unknown rule", "no such", "not found", "unknown alert", "no alert", "not quarantined",
                "unknown token", "no token"].contains { lowered.contains($0) }
    }
}
