import Hummingbird

/// `/health` (the process serves) and `/ready` (it can do its job); no token.
struct HealthRoutes {
    let readiness: Readiness

    func register(on router: Router<APIRequestContext>) {
        router.get("health") { _, _ in JSONResponse(["status": "ok"]) }
        router.get("ready", use: ready)
    }

    @Sendable func ready(_ request: Request, context: APIRequestContext) async throws -> JSONResponse {
        let checks = await readiness.evaluate()
        let ready = checks.allSatisfy { $0.ok || $0.skipped }
        return JSONResponse(["status": .string(ready ? "ready" : "not_ready"), "checks": .array(checks.map(\.json))],
                            status: ready ? .ok : .serviceUnavailable)
    }
}
