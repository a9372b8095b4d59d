import Hummingbird

/// `GET /connections`: socfwd's `conns.list` with its filters.
struct ConnectionRoutes {
    let socfwd: Socfwd
    static let protocols = ["tcp", "udp", "icmp", "icmpv6"]

    /// A name or a protocol number 0-255 without leading zeros (Docs/openapi.yaml).
    static func isProtocol(_ text: String) -> Bool {
        protocols.contains(text) || UInt8(text).map { String($0) == text } == true
    }

    func register(on api: RouterGroup<APIRequestContext>) {
        api.requiring(.read).get("connections", use: list)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        var query = QueryReader(request, allowed: ["address", "port", "state", "protocol", "limit"])
        var params: [String: JSONValue] = [:]
        if let address = query.address("address", prefixAllowed: true) { params["address"] = .string(address) }
        if let port = query.int("port", in: 0...65535) { params["port"] = .int(port) }
        if let state = query.string("state", maxLength: 32, where: { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0 == "_") } },
                                    expected: "a connection state such as ESTABLISHED or TIME_WAIT") {
            params["state"] = .string(state)
        }
        if let proto = query.string("protocol", maxLength: 8, where: Self.isProtocol,
                                    expected: "tcp, udp, icmp, icmpv6 or a protocol number 0-255") {
            params["protocol"] = .string(proto)
        }
        if let limit = query.int("limit", in: 1...10_000) { params["limit"] = .int(limit) }
        try query.throwIfInvalid()
        return JSONResponse(try await socfwd.answer("conns.list", params, pointerPrefix: "/query"))
    }
}
