import Hummingbird

/// `config/check` (read: it changes nothing) and `reload` (admin).
struct ConfigRoutes {
    let socfwd: Socfwd

    func register(on api: RouterGroup<APIRequestContext>) {
        api.requiring(.read)
            .get("config/check", use: checkFromQuery)
            .post("config/check", use: checkFromBody)
        api.requiring(.admin).post("reload", use: reload)
    }

    static func isConfigPath(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.split(separator: "/").contains("..")
    }

    @Sendable func checkFromQuery(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        var query = QueryReader(request, allowed: ["path"])
        let path = query.string("path", maxLength: 4096, where: Self.isConfigPath, expected: "an absolute path without ..")
        try query.throwIfInvalid()
        return try await check(path: path, pointerPrefix: "/query")
    }

    @Sendable func checkFromBody(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        var request = request
        // An empty body checks socfwd's own configuration file.
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        var path: String?
        if buffer.readableBytes > 0 {
            let body = try BodyReader.parseObject(buffer)
            var reader = BodyReader(body, allowed: ["path"])
            path = reader.string("path", maxLength: 4096, where: Self.isConfigPath, expected: "an absolute path without ..")
            try reader.throwIfInvalid()
        }
        return try await check(path: path, pointerPrefix: "")
    }

    private func check(path: String?, pointerPrefix: String) async throws -> JSONResponse {
        var params: [String: JSONValue] = [:]
        if let path { params["path"] = .string(path) }
        return JSONResponse(try await socfwd.answer("config.check", params, pointerPrefix: pointerPrefix))
    }

    @Sendable func reload(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        try QueryReader(request, allowed: []).throwIfInvalid()
        return JSONResponse(try await socfwd.answer("reload", ["actor": context.actor]))
    }
}
