import SocfwIDS
import SocfwRegex
import SocfwWire

/// One signature of socfw's own YAML format, with the example payloads it
/// ships with (`examples` must match, `benign` must not; the tests run them).
public struct SeedSignature: Sendable {
    public var specs: [SignatureSpec]
    public var examples: [[UInt8]]
    public var benign: [[UInt8]]
    /// The buffer `examples` and `benign` are for.
    public var field: SignatureBuffer
}

/// socfw's seed signature format (Docs/signatures.md):
///
/// ```yaml
/// signatures:
///   - id: 9000001
///     name: "SQL injection: UNION SELECT"
///     severity: high               # low | medium | high | critical
///     protocol: [http]             # ip, tcp, udp, icmp, http (list)
///     pattern: '(?i)union\s+(all\s+)?select'
///     pattern_type: regex          # regex | exact | binary (hex)
///     contains: [union, select]    # optional literals that must also occur (prefilter)
///     prefilter: ["'", "\""]       # or: literals of which any must occur (for alternations)
///     field: http.uri              # payload (default) or an HTTP buffer
///     ports: [80, 8080]            # the server's ports (default any)
///     direction: to_server         # to_server | to_client | any
///     confidence: 0.9              # 0..1
///     action: drop                 # alert | drop | reject
///     nocase: true                 # exact patterns
///     examples: ["/?id=1 UNION SELECT password FROM users"]
///     benign: ["/products?id=12"]
/// ```
public enum SeedSignatureLoader {
    static let keys = [
        "id", "name", "severity", "protocol", "pattern", "pattern_type", "contains", "field", "ports", "direction",
        "confidence", "action", "nocase", "examples", "benign", "classtype", "reference", "prefilter",
    ]

    public static func load(file: String) throws(ConfigError) -> [SeedSignature] {
        try parse(YAMLNode.load(file: file))
    }

    public static func parse(yaml: String, file: String) throws(ConfigError) -> [SeedSignature] {
        try parse(YAMLNode.parse(yaml, file: file))
    }

    static func parse(_ root: YAMLNode) throws(ConfigError) -> [SeedSignature] {
        let top = try root.mapping(allowed: ["signatures"])
        guard let list = top["signatures"] else { return [] }
        var result: [SeedSignature] = []
        var seen: [UInt32: Int] = [:]
        for node in try list.sequence() {
            let s = try signature(node)
            if let line = seen[s.specs[0].sid] {
                throw node.error("duplicate id \(s.specs[0].sid) (first at line \(line))")
            }
            seen[s.specs[0].sid] = node.line
            result.append(s)
        }
        return result
    }

    static func signature(_ node: YAMLNode) throws(ConfigError) -> SeedSignature {
        let m = try node.mapping(allowed: keys)
        func required(_ key: String) throws(ConfigError) -> YAMLNode {
            guard let v = m[key] else { throw node.error("missing '\(key)'") }
            return v
        }
        let sid = UInt32(try required("id").integer(in: 1...Int(UInt32.max)))
        let name = try required("name").string()
        let severity = try m["severity"]?.oneOf(SignatureSeverity.self, what: "severity") ?? .medium
        let action: SignatureAction = try m["action"]?.oneOf(
            [("alert", .alert), ("drop", .drop), ("reject", .reject)], what: "action") ?? .alert
        let field: SignatureBuffer
        if let f = m["field"] {
            let text = try f.string()
            guard let b = SignatureBuffer.allCases.first(where: { $0.name == text }) else {
                let names = SignatureBuffer.allCases.map(\.name).joined(separator: ", ")
                throw f.error("unknown field '\(text)' (expected one of \(names))")
            }
            field = b
        } else {
            field = .payload
        }
        var protocols: [SignatureProtocol] = []
        if let p = m["protocol"] {
            let items = p.isSequence ? try p.sequence() : [p]
            for item in items {
                let proto = try item.oneOf([("ip", SignatureProtocol.ip), ("tcp", .tcp), ("udp", .udp),
                                            ("icmp", .icmp), ("http", .http)], what: "protocol")
                if field.isHTTP && proto != .http && proto != .tcp {
                    throw item.error("field \(field.name) needs protocol http or tcp")
                }
                if !protocols.contains(proto) { protocols.append(proto) }
            }
            if protocols.isEmpty { throw p.error("must name at least one protocol") }
        } else {
            protocols = [field.isHTTP ? .http : .tcp]
        }
        var ports = PortMatch.all
        if let p = m["ports"] {
            var ranges: [ClosedRange<UInt16>] = []
            for item in p.isSequence ? try p.sequence() : [p] {
                let port = UInt16(try item.integer(in: 1...65535))
                ranges.append(port...port)
            }
            ports = PortMatch(include: ranges)
        }
        let direction = try m["direction"]?.oneOf([("to_server", 0), ("to_client", 1), ("any", 2)],
                                                  what: "direction") ?? 0
        var confidence: Double? = nil
        if let c = m["confidence"] {
            guard let v = Double(try c.scalarString()), (0...1).contains(v) else {
                throw c.error("confidence must be a number from 0 to 1")
            }
            confidence = v
        }
        let nocase = try m["nocase"]?.bool() ?? false
        let patternNode = try required("pattern")
        let pattern = try patternNode.string()
        let type = try m["pattern_type"]?.oneOf([("regex", 0), ("exact", 1), ("binary", 2)],
                                                what: "pattern_type") ?? 0
        var steps: [DetectionStep] = []
        if let c = m["contains"] {
            for item in c.isSequence ? try c.sequence() : [c] {
                var content = ContentMatch(bytes: Array(try item.string().utf8), buffer: field)
                content.nocase = true
                steps.append(.content(content))
            }
        }
        switch type {
        case 0:
            do {
                _ = try CompiledRegex(pattern, options: [])
            } catch {
                throw patternNode.error("invalid regular expression: \(error)")
            }
            steps.append(.pcre(PcreMatch(pattern: pattern, buffer: field)))
        case 1:
            var content = ContentMatch(bytes: Array(pattern.utf8), buffer: field)
            content.nocase = nocase
            content.fastPattern = true
            steps.append(.content(content))
        default:
            guard let bytes = hexBytes(pattern) else {
                throw patternNode.error("binary patterns are hex bytes, e.g. '90 90 90' or '909090'")
            }
            var content = ContentMatch(bytes: bytes, buffer: field)
            content.fastPattern = true
            steps.append(.content(content))
        }
        var prefilter: [ContentMatch] = []
        if let list = m["prefilter"] {
            for item in list.isSequence ? try list.sequence() : [list] {
                var literal = ContentMatch(bytes: Array(try item.string().utf8), buffer: field)
                literal.nocase = true
                prefilter.append(literal)
            }
        }
        let origin = SignatureOrigin(file: node.file, line: node.line)
        var specs: [SignatureSpec] = []
        for proto in protocols {
            var s = SignatureSpec(action: action, proto: proto, sid: sid, message: name, origin: origin)
            s.gid = 1
            s.severity = severity
            s.priority = severity.eveSeverity
            s.confidence = confidence
            s.classtype = try m["classtype"]?.string()
            if let r = m["reference"] { s.references = [try r.string()] }
            s.steps = steps
            s.prefilter = prefilter
            switch direction {
            case 0:
                s.destinationPorts = ports
                if proto != .ip && proto != .icmp && proto != .udp { s.flow.toServer = true }
            case 1:
                s.sourcePorts = ports
                if proto != .ip && proto != .icmp && proto != .udp { s.flow.toClient = true }
            default:
                s.destinationPorts = ports
                s.bidirectional = true
            }
            specs.append(s)
        }
        func payloads(_ key: String) throws(ConfigError) -> [[UInt8]] {
            guard let n = m[key] else { return [] }
            var out: [[UInt8]] = []
            for item in try n.sequence() { out.append(Array(try item.scalarString().utf8)) }
            return out
        }
        return SeedSignature(specs: specs, examples: try payloads("examples"), benign: try payloads("benign"),
                             field: field)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = text.filter { !$0.isWhitespace && $0 != "|" }
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = digits.startIndex
        while i < digits.endIndex {
            let j = digits.index(i, offsetBy: 2)
            guard let b = UInt8(digits[i..<j], radix: 16) else { return nil }
            out.append(b)
            i = j
        }
        return out
    }
}
