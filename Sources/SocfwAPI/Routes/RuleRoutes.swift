import Hummingbird

/// Rules: list and show (read); enable/disable (operate); create, update,
/// delete (admin). Mutations pass `actor` for socfwd's audit log.
struct RuleRoutes {
    let socfwd: Socfwd

    func register(on api: RouterGroup<APIRequestContext>) {
        api.requiring(.read)
            .get("rules", use: list)
            .get("rules/{name}", use: show)
        api.requiring(.operate)
            .post("rules/{name}/enable", use: enable)
            .post("rules/{name}/disable", use: disable)
        api.requiring(.admin)
            .post("rules", use: create)
            .put("rules/{name}", use: update)
            .delete("rules/{name}", use: delete)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        try QueryReader(request, allowed: []).throwIfInvalid()
        let result = try await socfwd.answer("rules.list")
        socfwd.socfwdMetrics.update(rules: result)
        return JSONResponse(result)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let name = try Self.ruleName(context)
        return JSONResponse(try await socfwd.answer("rules.get", ["name": .string(name)]))
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let body = try await BodyReader.object(from: request, context: context)
        let rule = try RuleValidation.validate(body)
        let result = try await socfwd.answer("rules.add", ["rule": rule, "actor": context.actor])
        return JSONResponse(result, status: .created)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let name = try Self.ruleName(context)
        var body = try await BodyReader.object(from: request, context: context)
        if body["name"] == nil { body["name"] = .string(name) }
        let rule = try RuleValidation.validate(body)
        return JSONResponse(try await socfwd.answer("rules.update", ["name": .string(name), "rule": rule, "actor": context.actor]))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        try await change("rules.delete", context)
    }

    @Sendable func enable(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        try await change("rules.enable", context)
    }

    @Sendable func disable(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        try await change("rules.disable", context)
    }

    private func change(_ method: String, _ context: APIRequestContext) async throws -> JSONResponse {
        let name = try Self.ruleName(context)
        return JSONResponse(try await socfwd.answer(method, ["name": .string(name), "actor": context.actor]))
    }

    static func ruleName(_ context: APIRequestContext) throws -> String {
        let name = try context.pathParameter("name")
        guard RuleValidation.isRuleName(name) else {
            throw Problem.validation(pointer: "/path/name", "a rule name has letters, digits and - _ . : @ (at most 128)")
        }
        return name
    }
}
