import Hummingbird
import NIOCore

/// `/api/v1/openapi.yaml`: the contract (Docs/openapi.yaml, compiled in).
struct OpenAPIRoutes {
    func register(on api: RouterGroup<APIRequestContext>) {
        api.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
    }
}
