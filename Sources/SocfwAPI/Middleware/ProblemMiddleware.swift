import Hummingbird
import Logging

/// Turns every error a route throws into an RFC 9457 problem response, so
/// the middleware outside it (CORS, logging) see a real response. Unknown
/// errors become a bare 500: their text stays in the log, never in a
/// response. A path the API has, asked with a method it does not, is 405
/// with `Allow` rather than the router's 404.
public struct ProblemMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    let operations: OperationTable

    init(operations: OperationTable) {
        self.operations = operations
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response()
        } catch let error as HTTPError {
            if error.status == .notFound {
                let allowed = operations.allowedMethods(forPath: request.uri.path)
                if !allowed.isEmpty, !allowed.contains(request.method.rawValue) {
                    return Problem(.methodNotAllowed, kind: "method-not-allowed", title: "Method not allowed",
                                   detail: "\(request.method.rawValue) is not allowed here; allowed: \(allowed.joined(separator: ", "))",
                                   headers: [.allow: allowed.joined(separator: ", ")]).response()
                }
            }
            return Problem(httpError: error).response()
        } catch let error as ControlError {
            return Problem(controlError: error).response()
        } catch {
            context.logger.error("unhandled error", metadata: ["error": .string(String(describing: error))])
            return Problem(.internalServerError, kind: "internal", title: "Internal error",
                           detail: "the request failed inside socfw-api; the log has the details").response()
        }
    }
}
