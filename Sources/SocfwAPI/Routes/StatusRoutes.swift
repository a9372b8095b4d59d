import Hummingbird

/// `GET /status`, `GET /stats`: socfwd's `status` and `stats`, passed through.
struct StatusRoutes {
    let socfwd: Socfwd

    func register(on api: RouterGroup<APIRequestContext>) {
        api.requiring(.read)
            .get("status", use: status)
            .get("stats", use: stats)
    }

    /// As socfwd wrote it: parsing and writing it again was a sixth of the
    /// route's time.
    @Sendable func status(_ request: Request, context: APIRequestContext) async throws -> RawJSONResponse {
        try QueryReader(request, allowed: []).throwIfInvalid()
        return RawJSONResponse(body: try await socfwd.answerRaw("status"))
    }

    @Sendable func stats(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        try QueryReader(request, allowed: []).throwIfInvalid()
        let stats = try await socfwd.answer("stats")
        socfwd.socfwdMetrics.update(stats: stats)
        return JSONResponse(stats)
    }
}
