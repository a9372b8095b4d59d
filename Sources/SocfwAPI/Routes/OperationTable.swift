import HTTPTypes
import Yams

/// The operations Docs/openapi.yaml declares, path template → methods.
/// Used to answer a known path with an undeclared method 405 and `Allow`
/// (the router alone cannot tell that from an unknown path), so the
/// contract and the 405s come from one place.
public struct OperationTable: Sendable {
    private struct Entry: Sendable {
        var segments: [Substring]
        var methods: [String]
    }

    private let entries: [Entry]
    static let methodNames = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    public init(openAPIYAML: String) {
        var entries: [Entry] = []
        if let root = try? Yams.compose(yaml: openAPIYAML), let paths = root["paths"]?.mapping {
            for (key, item) in paths {
                guard let path = key.string, let operations = item.mapping else { continue }
                let methods: [String] = Array(operations.keys).compactMap(\.string).filter { Self.methodNames.contains($0) }.map { $0.uppercased() }
                entries.append(Entry(segments: path.split(separator: "/"), methods: methods))
            }
        }
        self.entries = entries
    }

    /// The methods declared for the template matching `path`; empty when
    /// no template matches. As in the router, a literal segment wins over a
    /// parameter (`/quarantine/history` is not `/quarantine/{target}`).
    public func allowedMethods(forPath path: String) -> [String] {
        let segments = path.split(separator: "/")
        var best: (parameters: Int, methods: [String])?
        for entry in entries where entry.segments.count == segments.count {
            var parameters = 0
            let matches = zip(entry.segments, segments).allSatisfy { template, actual in
                if template.hasPrefix("{") && template.hasSuffix("}") {
                    parameters += 1
                    return true
                }
                return template == actual
            }
            if matches, parameters < best?.parameters ?? Int.max { best = (parameters, entry.methods) }
        }
        return best?.methods ?? []
    }
}
