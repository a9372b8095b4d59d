// Generated from Docs/openapi.yaml by Scripts/embed-openapi; do not edit.
// A test checks that the two are the same.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.1.0
info: {title: socfw-api, version: 1.0.0}
paths: {}
"""#
}
