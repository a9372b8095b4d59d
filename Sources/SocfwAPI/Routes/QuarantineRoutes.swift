import Hummingbird

/// Quarantine: list and history (read); add and remove (operate).
/// A prefix target travels percent-encoded in the path: `10.0.0.0%2F24`.
struct QuarantineRoutes {
    let socfwd: Socfwd

    func register(on api: RouterGroup<APIRequestContext>) {
        api.requiring(.read)
            .get("quarantine", use: list)
            .get("quarantine/history", use: history)
        api.requiring(.operate)
            .post("quarantine", use: add)
            .delete("quarantine/{target}", use: remove)
    }

    /// `^([1-9][0-9]{0,8}[smhdw]|permanent)$` (Docs/openapi.yaml, Duration).
    static func isDuration(_ text: String) -> Bool {
        if text == "permanent" { return true }
        guard let unit = text.last, "smhdw".contains(unit) else { return false }
        let digits = Array(text.utf8.dropLast())
        return (1...9).contains(digits.count) && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            && digits[0] != UInt8(ascii: "0")
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        try QueryReader(request, allowed: []).throwIfInvalid()
        return JSONResponse(try await socfwd.answer("quarantine.list"))
    }

    @Sendable func history(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        var query = QueryReader(request, allowed: ["target", "limit"])
        var params: [String: JSONValue] = [:]
        if let target = query.address("target", prefixAllowed: true) { params["target"] = .string(target) }
        if let limit = query.int("limit", in: 1...10_000) { params["limit"] = .int(limit) }
        try query.throwIfInvalid()
        return JSONResponse(try await socfwd.answer("quarantine.history", params, pointerPrefix: "/query"))
    }

    @Sendable func add(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let body = try await BodyReader.object(from: request, context: context)
        var reader = BodyReader(body, allowed: ["target", "duration", "reason", "description"])
        var params: [String: JSONValue] = ["actor": context.actor]
        if let target = reader.string("target", required: true, maxLength: 49, where: NetworkAddress.isAddressOrPrefix,
                                      expected: "an IPv4/IPv6 address or prefix (10.0.0.0/24)") {
            params["target"] = .string(target)
        }
        if let duration = reader.string("duration", maxLength: 16, where: Self.isDuration,
                                        expected: "a duration such as 90s, 15m, 1h, 2d, 1w, or permanent") {
            params["duration"] = .string(duration)
        }
        if let reason = reader.string("reason", maxLength: 256) { params["reason"] = .string(reason) }
        if let description = reader.string("description", maxLength: 4096) { params["description"] = .string(description) }
        try reader.throwIfInvalid()
        return JSONResponse(try await socfwd.answer("quarantine.add", params), status: .created)
    }

    @Sendable func remove(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let target = try context.pathParameter("target")
        guard NetworkAddress.isAddressOrPrefix(target) else {
            throw Problem.validation(pointer: "/path/target", "expected an IPv4/IPv6 address or a percent-encoded prefix (10.0.0.0%2F24)")
        }
        return JSONResponse(try await socfwd.answer("quarantine.remove", ["target": .string(target), "actor": context.actor]))
    }
}
