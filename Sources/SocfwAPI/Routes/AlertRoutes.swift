import Hummingbird
import NIOCore

/// Alerts: the list with filters and a cursor (read), acknowledgement (operate).
struct AlertRoutes {
    let socfwd: Socfwd
    static let sources = ["rule", "signature", "detector", "anomaly"]

    func register(on api: RouterGroup<APIRequestContext>) {
        api.requiring(.read).get("alerts", use: list)
        api.requiring(.operate).post("alerts/{id}/ack", use: acknowledge)
    }

    /// Query → `alerts.list` params: limit, cursor, open, since_ns / until_ns
    /// (from RFC 3339), severity, source, sid, address. The answer always
    /// has `next_cursor` (null on the last page).
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> RawJSONResponse {
        var query = QueryReader(request, allowed: ["limit", "cursor", "open", "since", "until", "severity", "source", "sid", "address"])
        var params: [String: JSONValue] = [:]
        let limit = query.int("limit", in: 1...10_000)
        if let limit { params["limit"] = .int(limit) }
        if let cursor = query.string("cursor", maxLength: 128, where: { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) } },
                                     expected: "a cursor from a previous answer's next_cursor") {
            params["cursor"] = .string(cursor)
        }
        if let open = query.bool("open") { params["open"] = .bool(open) }
        let since = query.timestamp("since")
        let until = query.timestamp("until")
        if let since { params["since_ns"] = .int(since) }
        if let until { params["until_ns"] = .int(until) }
        // until before since is no error: the answer is simply empty (a
        // cross-field rule the OpenAPI schema could not state).
        if let severity = query.int("severity", in: 1...3) { params["severity"] = .int(severity) }
        if let source = query.oneOf("source", Self.sources) { params["source"] = .string(source) }
        if let sid = query.int("sid", in: 1...Int64(UInt32.max)) { params["sid"] = .int(sid) }
        if let address = query.address("address", prefixAllowed: false) { params["address"] = .string(address) }
        try query.throwIfInvalid()

        // The page goes to the client as socfwd wrote it (100 alerts are
        // ~60 KB: building and re-writing them cost more than the query).
        let raw = try await socfwd.answerRaw("alerts.list", params, pointerPrefix: "/query")
        // socfwd writes next_cursor before the alerts: found at once.
        if raw.hasMember("next_cursor") { return RawJSONResponse(body: raw) }
        // An older socfwd without cursors: a full page means there may be more.
        var result = try raw.value()
        if case var .object(object) = result {
            let alerts = object["alerts"]?.array ?? []
            let full = alerts.count == Int(limit ?? 50)
            object["next_cursor"] = full ? (alerts.last?["id"].map { .string($0.int.map(String.init) ?? $0.compactText) } ?? .null) : .null
            result = .object(object)
        }
        return RawJSONResponse(body: RawResult(bytes: ByteBuffer(data: result.compactBytes)))
    }

    @Sendable func acknowledge(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let text = try context.pathParameter("id")
        guard let id = Int64(text), id >= 1 else {
            throw Problem.validation(pointer: "/path/id", "an alert id is a positive integer")
        }
        return JSONResponse(try await socfwd.answer("alerts.ack", ["id": .int(id), "actor": context.actor]))
    }
}
