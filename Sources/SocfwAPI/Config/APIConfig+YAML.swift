import Foundation
import Logging
import Yams

extension APIConfig {
    /// Reads and validates the file at `path`.
    public static func load(path: String) throws -> APIConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, field: "", message: "cannot read the file (\((error as NSError).localizedDescription))")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses a configuration text; `file` is the name errors give it. Unknown keys are refused.
    public static func parse(yaml: String, file: String) throws -> APIConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(file: file, field: "", message: "not valid YAML: \(error)")
        }
        var config = APIConfig()
        guard let root else { return try config.validated(file: file) }
        let reader = YAMLReader(file: file)
        let top = try reader.mapping(root, field: "", keys: [
            "listen", "tls", "plain_http", "control_socket", "cors", "rate_limit", "ready", "websocket", "log_level",
        ])
        if let listen = top["listen"] {
            let m = try reader.mapping(listen, field: "listen", keys: ["host", "port"])
            if let host = m["host"] { config.listen.host = try reader.string(host, field: "listen.host") }
            if let port = m["port"] { config.listen.port = try reader.int(port, field: "listen.port", in: 1...65535) }
        }
        if let tls = top["tls"] {
            let m = try reader.mapping(tls, field: "tls", keys: ["certificate", "key"])
            guard let certificate = m["certificate"] else { throw reader.error(tls, field: "tls.certificate", "is required") }
            guard let key = m["key"] else { throw reader.error(tls, field: "tls.key", "is required") }
            config.tls = TLS(certificatePath: try reader.string(certificate, field: "tls.certificate"),
                             keyPath: try reader.string(key, field: "tls.key"))
        }
        if let plain = top["plain_http"] { config.plainHTTP = try reader.bool(plain, field: "plain_http") }
        if let socket = top["control_socket"] { config.controlSocket = try reader.string(socket, field: "control_socket") }
        if let cors = top["cors"] {
            let m = try reader.mapping(cors, field: "cors", keys: ["origins"])
            if let origins = m["origins"] {
                config.corsOrigins = try reader.sequence(origins, field: "cors.origins").enumerated().map { index, node in
                    let origin = try reader.string(node, field: "cors.origins[\(index)]")
                    guard origin.hasPrefix("http://") || origin.hasPrefix("https://"), !origin.hasSuffix("/") else {
                        throw reader.error(node, field: "cors.origins[\(index)]",
                                           "expected an origin such as https://console.example.org (scheme and host, no path)")
                    }
                    return origin
                }
            }
        }
        if let rate = top["rate_limit"] {
            let m = try reader.mapping(rate, field: "rate_limit", keys: ["per_token", "per_address"])
            if let node = m["per_token"] { config.rateLimit.perToken = try reader.bucket(node, field: "rate_limit.per_token") }
            if let node = m["per_address"] { config.rateLimit.perAddress = try reader.bucket(node, field: "rate_limit.per_address") }
        }
        if let ready = top["ready"] {
            let m = try reader.mapping(ready, field: "ready", keys: ["max_rss_mb", "min_free_disk_mb", "disk_path"])
            if let n = m["max_rss_mb"] { config.ready.maxRSSMegabytes = try reader.int(n, field: "ready.max_rss_mb", in: 1...1_048_576) }
            if let n = m["min_free_disk_mb"] {
                config.ready.minFreeDiskMegabytes = try reader.int(n, field: "ready.min_free_disk_mb", in: 0...1_073_741_824)
            }
            if let n = m["disk_path"] { config.ready.diskPath = try reader.string(n, field: "ready.disk_path") }
        }
        if let ws = top["websocket"] {
            let m = try reader.mapping(ws, field: "websocket", keys: ["queue", "ping_interval"])
            if let n = m["queue"] { config.webSocket.queueLength = try reader.int(n, field: "websocket.queue", in: 1...1_000_000) }
            if let n = m["ping_interval"] {
                config.webSocket.pingIntervalSeconds = try reader.double(n, field: "websocket.ping_interval", in: 0.1...3600)
            }
        }
        if let level = top["log_level"] {
            let text = try reader.string(level, field: "log_level")
            guard let parsed = Logger.Level(rawValue: text.lowercased()) else {
                throw reader.error(level, field: "log_level",
                                   "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            config.logLevel = parsed
        }
        return try config.validated(file: file, root: root)
    }

    /// Checks the rules that span fields.
    func validated(file: String, root: Node? = nil) throws -> APIConfig {
        if plainHTTP {
            guard Self.isLoopback(listen.host) else {
                throw ConfigError(file: file, field: "plain_http",
                                  message: "plain HTTP is only allowed on a loopback address (127.0.0.0/8, ::1, localhost); listen.host is '\(listen.host)': configure tls.certificate and tls.key instead")
            }
        } else if tls == nil {
            throw ConfigError(file: file, field: "tls",
                              message: "tls.certificate and tls.key are required (or plain_http: true with a loopback listen.host)")
        }
        return self
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }
}

/// Reads typed values out of Yams nodes, every error naming file, line and field.
private struct YAMLReader {
    let file: String

    func error(_ node: Node, field: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, column: node.mark?.column, field: field, message: message)
    }

    func mapping(_ node: Node, field: String, keys allowed: [String]) throws -> [String: Node] {
        guard let mapping = node.mapping else {
            throw error(node, field: field.isEmpty ? "" : field, "expected a mapping")
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw error(keyNode, field: field, "keys must be strings") }
            let path = field.isEmpty ? key : "\(field).\(key)"
            guard allowed.contains(key) else {
                throw error(keyNode, field: path, "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
            }
            guard result[key] == nil else { throw error(keyNode, field: path, "given twice") }
            result[key] = value
        }
        return result
    }

    func sequence(_ node: Node, field: String) throws -> [Node] {
        guard let sequence = node.sequence else { throw error(node, field: field, "expected a list") }
        return Array(sequence)
    }

    func string(_ node: Node, field: String) throws -> String {
        guard let scalar = node.scalar, !scalar.string.isEmpty else { throw error(node, field: field, "expected a non-empty string") }
        return scalar.string
    }

    func int(_ node: Node, field: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = node.int else { throw error(node, field: field, "expected an integer") }
        guard range.contains(value) else { throw error(node, field: field, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return value
    }

    func double(_ node: Node, field: String, in range: ClosedRange<Double>) throws -> Double {
        guard let value = node.float ?? node.int.map(Double.init) else { throw error(node, field: field, "expected a number") }
        guard range.contains(value) else { throw error(node, field: field, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return value
    }

    func bool(_ node: Node, field: String) throws -> Bool {
        guard let value = node.bool else { throw error(node, field: field, "expected true or false") }
        return value
    }

    func bucket(_ node: Node, field: String) throws -> APIConfig.Bucket {
        let m = try mapping(node, field: field, keys: ["rate", "burst"])
        guard let rate = m["rate"] else { throw error(node, field: "\(field).rate", "is required") }
        guard let burst = m["burst"] else { throw error(node, field: "\(field).burst", "is required") }
        return APIConfig.Bucket(ratePerSecond: try double(rate, field: "\(field).rate", in: 0.001...1_000_000),
                                burst: try double(burst, field: "\(field).burst", in: 1...1_000_000))
    }
}
