import Hummingbird

/// Signatures: `signatures.list` and `signatures.stats`.
struct SignatureRoutes {
    let socfwd: Socfwd

    func register(on api: RouterGroup<APIRequestContext>) {
        api.requiring(.read)
            .get("signatures", use: list)
            .get("signatures/stats", use: stats)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        var query = QueryReader(request, allowed: ["limit", "offset", "sid"])
        var params: [String: JSONValue] = [:]
        if let limit = query.int("limit", in: 1...10_000) { params["limit"] = .int(limit) }
        if let offset = query.int("offset", in: 0...Int64(Int32.max)) { params["offset"] = .int(offset) }
        if let sid = query.int("sid", in: 1...Int64(UInt32.max)) { params["sid"] = .int(sid) }
        try query.throwIfInvalid()
        return JSONResponse(try await socfwd.answer("signatures.list", params, pointerPrefix: "/query"))
    }

    @Sendable func stats(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        var query = QueryReader(request, allowed: ["top"])
        var params: [String: JSONValue] = [:]
        if let top = query.int("top", in: 1...1000) { params["top"] = .int(top) }
        try query.throwIfInvalid()
        return JSONResponse(try await socfwd.answer("signatures.stats", params, pointerPrefix: "/query"))
    }
}
