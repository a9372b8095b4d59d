import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import Yams
import SocfwAPI

/// Docs/openapi.yaml is the contract: served as is, and every operation
/// in it is routed, answering a status and content type it declares.
@Suite struct OpenAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func document() throws -> Node {
        try #require(try Yams.compose(yaml: OpenAPIDocument.yaml))
    }

    @Test func theServedDocumentIsDocsOpenAPIYAML() throws {
        let file = try String(contentsOf: Self.root.appendingPathComponent("Docs/openapi.yaml"), encoding: .utf8)
        #expect(file.trimmingCharacters(in: .newlines) == OpenAPIDocument.yaml.trimmingCharacters(in: .newlines),
                "run Scripts/embed-openapi")
    }

    /// A valid request body per operation that takes one.
    static let bodies: [String: JSONValue] = [
        "createRule": ["name": "block-ssh", "action": "DROP"],
        "updateRule": ["action": "REJECT"],
        "addQuarantine": ["target": "192.0.2.9"],
        "checkConfigPost": ["path": "/etc/socfw/socfwd.yaml"],
        "createToken": ["name": "grafana", "scopes": ["read"]],
    ]

    static func concrete(_ template: String) -> String {
        template.replacingOccurrences(of: "{name}", with: "block-telnet").replacingOccurrences(of: "{id}", with: "17")
            .replacingOccurrences(of: "{target}", with: "10.0.0.0%2F24")
    }

    struct Operation: Sendable {
        var template: String
        var method: String
        var operationID: String
        /// Declared status → content types.
        var responses: [String: [String]]
    }

    static func operations() throws -> [Operation] {
        let paths = try #require(try document()["paths"]?.mapping)
        var operations: [Operation] = []
        for (pathNode, item) in paths {
            for (methodNode, operation) in try #require(item.mapping) {
                var responses: [String: [String]] = [:]
                for (statusNode, response) in try #require(operation["responses"]?.mapping) {
                    let types = (response["content"]?.mapping).map { Array($0.keys).compactMap(\.string) } ?? []
                    responses[statusNode.string ?? "?"] = types
                }
                operations.append(Operation(template: try #require(pathNode.string), method: try #require(methodNode.string),
                                            operationID: operation["operationId"]?.string ?? "?", responses: responses))
            }
        }
        return operations
    }

    @Test func everyDocumentedOperationIsRoutedAndAnswersAsDeclared() async throws {
        let operations = try Self.operations()
        #expect(operations.count >= 28)
        try await withAPI { (api: Harness) async throws in
            for operation in operations {
                let what = "\(operation.method) \(operation.template)"
                let response = try await api.request(HTTPRequest.Method(operation.method.uppercased())!, Self.concrete(operation.template),
                                                     body: Self.bodies[operation.operationID])
                let status = String(response.status.code)
                #expect(operation.responses[status] != nil, "\(what) answered \(status), not declared: \(response.text)")
                #expect(response.status != .notFound && response.status != .methodNotAllowed, "\(what) is not routed")
                if (200..<300).contains(response.status.code), let types = operation.responses[status], !types.isEmpty {
                    let actual = response.headers[.contentType]?.split(separator: ";").first.map(String.init) ?? ""
                    #expect(types.contains(actual), "\(what): \(actual) not in \(types)")
                }
            }
        }
    }

    @Test func anUndeclaredMethodOnAKnownPathIs405WithAllow() async throws {
        try await withAPI { (api: Harness) async throws in
            let response = try await api.request(.patch, "/api/v1/rules/block-telnet")
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
                    == ["DELETE", "GET", "PUT"])
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func operationTableMatchesTemplates() {
        let table = OperationTable(openAPIYAML: OpenAPIDocument.yaml)
        #expect(table.allowedMethods(forPath: "/api/v1/quarantine/history") == ["GET"])
        #expect(table.allowedMethods(forPath: "/api/v1/quarantine/10.0.0.1") == ["DELETE"])
        #expect(table.allowedMethods(forPath: "/api/v1/rules/x/enable") == ["POST"])
        #expect(table.allowedMethods(forPath: "/api/v1/nothing").isEmpty)
    }
}
