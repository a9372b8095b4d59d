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

    /// An absolute path to a YAML file whose segments do not start with a
    /// dot (no `..`, no hidden files): socfwd reads it as root, so a read
    /// token must not probe arbitrary files through its error messages.
    /// `^(/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)+$` ending in .yaml or .yml (Docs/openapi.yaml).
    static func isConfigPath(_ path: String) -> Bool {
        guard path.hasPrefix("/"), path.hasSuffix(".yaml") || path.hasSuffix(".yml") else { return false }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        return segments.allSatisfy { segment in
            guard let first = segment.first, first != "." else { return false }
            return segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._+-".contains($0)) }
        }
    }

    @Sendable func checkFromQuery(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        var query = QueryReader(request, allowed: ["path"])
        let path = query.string("path", maxLength: 4096, where: Self.isConfigPath, expected: "an absolute path to a .yaml or .yml file (segments of letters, digits, . _ + -, not starting with a dot)")
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
            path = reader.string("path", maxLength: 4096, where: Self.isConfigPath, expected: "an absolute path to a .yaml or .yml file (segments of letters, digits, . _ + -, not starting with a dot)")
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
