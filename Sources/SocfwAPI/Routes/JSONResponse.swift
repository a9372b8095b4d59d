import Hummingbird
import HTTPTypes
import NIOCore

/// A JSON body with a status; socfwd's objects pass through as they came.
struct JSONResponse: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: JSONValue

    init(_ body: JSONValue, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(data: body.compactBytes)))
    }
}

/// A JSON body passed through as socfwd wrote it (already validated).
struct RawJSONResponse: ResponseGenerator {
    var body: RawResult

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body.bytes))
    }
}

extension Socfwd {
    /// `answer`, with the result as socfwd wrote it.
    func answerRaw(_ method: String, _ params: [String: JSONValue] = [:], pointerPrefix: String = "") async throws -> RawResult {
        do {
            return try await callRaw(method, params)
        } catch let error as ControlError {
            throw Problem(controlError: error, pointerPrefix: pointerPrefix)
        }
    }

    /// Calls socfwd and turns a failure into the problem the client sees
    /// (`Problem(controlError:)`); `pointerPrefix` roots socfwd's parameter names.
    func answer(_ method: String, _ params: [String: JSONValue] = [:], pointerPrefix: String = "") async throws -> JSONValue {
        let raw = try await answerRaw(method, params, pointerPrefix: pointerPrefix)
        do {
            return try raw.value()
        } catch {
            throw Problem(controlError: error, pointerPrefix: pointerPrefix)
        }
    }
}

extension APIRequestContext {
    /// A path parameter, percent-decoded (`10.0.0.0%2F24` → `10.0.0.0/24`).
    func pathParameter(_ name: String) throws -> String {
        guard let raw = parameters.get(name), let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw Problem.validation(pointer: "/path/\(name)", "a valid, percent-encoded value is required")
        }
        return decoded
    }
}
