import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One structured log line per request: method, path (the query is left
/// out: it may carry secrets), status, duration, token name, client
/// address; never the Authorization header nor a token. Also counts the
/// request into `socfw_api_requests_total` and the duration histogram.
public struct RequestLogMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    let metrics: APIMetrics

    public init(metrics: APIMetrics) {
        self.metrics = metrics
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context: context, status: response.status, start: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            record(request, context: context, status: status, start: start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: HTTPResponse.Status, start: ContinuousClock.Instant) {
        let duration = ContinuousClock.now - start
        // The route template ("/api/v1/rules/{name}"), not the path: bounded label values.
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(route: route, method: request.method.rawValue, status: status.code, duration: duration)
        var metadata: Logger.Metadata = [
            "http.method": .string(request.method.rawValue),
            "http.path": .string(request.uri.path),
            "http.status": .stringConvertible(status.code),
            "duration_ms": .string(Self.milliseconds(duration)),
            "client": .string(context.clientAddress),
        ]
        if let name = context.credential.tokenName { metadata["token"] = .string(name) }
        context.logger.info("request", metadata: metadata)
    }

    /// "12.34": milliseconds with two decimals, rounded (String(format:)
    /// went through Foundation's printf: a quarter of this line's cost).
    public static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0, seconds < 1_000_000_000 else { return String(format: "%.2f", duration.seconds * 1000) }
        let hundredths = seconds * 100_000 + (attoseconds + 5_000_000_000_000) / 10_000_000_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
