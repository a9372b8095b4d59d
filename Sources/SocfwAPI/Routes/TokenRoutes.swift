import Hummingbird

/// API tokens (admin): list (never with hashes), create (the token text is
/// in this one answer only), revoke.
struct TokenRoutes {
    let socfwd: Socfwd

    func register(on api: RouterGroup<APIRequestContext>) {
        api.requiring(.admin)
            .get("tokens", use: list)
            .post("tokens", use: create)
            .delete("tokens/{name}", use: revoke)
    }

    static func isTokenName(_ name: String) -> Bool {
        name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        try QueryReader(request, allowed: []).throwIfInvalid()
        var result = try await socfwd.answer("tokens.list")
        // Hashes are socfw-api's business only, even if socfwd sent them.
        if case var .object(object) = result, let tokens = object["tokens"]?.array {
            object["tokens"] = .array(tokens.map { token in
                guard case var .object(fields) = token else { return token }
                fields.removeValue(forKey: "sha256")
                return .object(fields)
            })
            result = .object(object)
        }
        return JSONResponse(result)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let body = try await BodyReader.object(from: request, context: context)
        var reader = BodyReader(body, allowed: ["name", "scopes"])
        let name = reader.string("name", required: true, maxLength: 64, where: Self.isTokenName,
                                 expected: "letters, digits and - _ . (at most 64)")
        var scopes: [JSONValue] = []
        switch body["scopes"] {
        case let .array(items)? where !items.isEmpty:
            for (index, item) in items.enumerated() {
                if let text = item.string, Scope(rawValue: text) != nil {
                    scopes.append(item)
                } else {
                    reader.fail("/scopes/\(index)", "expected one of: read, operate, admin")
                }
            }
        case nil:
            reader.fail("/scopes", "is required")
        default:
            reader.fail("/scopes", "expected a non-empty list of scopes (read, operate, admin)")
        }
        try reader.throwIfInvalid()
        let result = try await socfwd.answer("tokens.create", ["name": .string(name!), "scopes": .array(scopes), "actor": context.actor])
        // The new token is usable at once, without waiting for the token event.
        try? await socfwd.refreshTokens()
        return JSONResponse(result, status: .created)
    }

    @Sendable func revoke(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let name = try context.pathParameter("name")
        guard Self.isTokenName(name) else {
            throw Problem.validation(pointer: "/path/name", "a token name has letters, digits and - _ . (at most 64)")
        }
        let result = try await socfwd.answer("tokens.revoke", ["name": .string(name), "actor": context.actor])
        // Refused from now on, even before socfwd's token event arrives.
        try? await socfwd.refreshTokens()
        return JSONResponse(result)
    }
}
