import Foundation
import SocfwRegex
import SocfwWire

/// Loads rules files in the seed's YAML format:
///
/// ```yaml
/// rules:
///   - name: reject-telnet
///     action: REJECT          # ALLOW | DROP | REJECT | LOG | ALERT
///     priority: 10            # lower is evaluated first
///     enabled: true
///     conditions:
///       - { field: dst_port, operator: eq, value: 23 }
/// ```
///
/// Everything is validated before anything is returned: a bad file is
/// refused as a whole with file, line, column and field.
public enum RulesLoader {
    /// Loads a file, or every `*.yaml` / `*.yml` file of a directory in name order.
    public static func load(path: String) throws(ConfigError) -> [Rule] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(file: path, message: "rules path does not exist")
        }
        guard isDirectory.boolValue else { return try loadFile(path) }
        return try loadDirectory(path, replacing: nil)
    }

    /// Loads every `*.yaml` / `*.yml` file of a directory in name order. With
    /// `replacing`, the directory is loaded as it would be if that file (a
    /// path inside it, added in name order when it does not exist yet) held
    /// that text: rule management validates a change before writing it.
    static func loadDirectory(_ path: String, replacing: (file: String, text: String)?) throws(ConfigError) -> [Rule] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw ConfigError(file: path, message: "cannot list rules directory: \(describeFileError(error))")
        }
        var fileNames = Set(names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") })
        let replaced = replacing.map { ($0.file as NSString).lastPathComponent }
        if let replaced { fileNames.insert(replaced) }
        // Groups are shared by all files of the directory: read every file
        // first, then the rules.
        var roots: [YAMLNode] = []
        var groups: Groups = [:]
        for name in fileNames.sorted() {
            let root = if let replacing, name == replaced {
                try YAMLNode.parse(replacing.text, file: replacing.file)
            } else {
                try YAMLNode.load(file: (path as NSString).appendingPathComponent(name))
            }
            try collectGroups(root, into: &groups)
            roots.append(root)
        }
        var rules: [Rule] = []
        var seen: [String: String] = [:]
        for root in roots {
            let file = root.file
            for rule in try parse(root, groups: groups) {
                if let other = seen[rule.name] {
                    throw ConfigError(file: file, line: lineOf(rule), field: "name",
                                      message: "rule name '\(rule.name)' is already used at \(other)")
                }
                seen[rule.name] = rule.origin
                rules.append(rule)
            }
        }
        try checkLimits(rules)
        return rules
    }

    /// Limits of the compiled form that span files.
    static func checkLimits(_ rules: [Rule]) throws(ConfigError) {
        var patterns: Set<InterfacePattern> = []
        for rule in rules where rule.enabled {
            for case let .interface(_, list, _) in rule.conditions {
                patterns.formUnion(list)
                if patterns.count > RuleSet.maxInterfacePatterns {
                    throw ConfigError(file: rule.file, line: lineOf(rule), field: "conditions",
                                      message: "rules name more than \(RuleSet.maxInterfacePatterns) different interfaces "
                                          + "(use prefixes such as veth*)")
                }
            }
        }
    }

    public static func loadFile(_ file: String) throws(ConfigError) -> [Rule] {
        try parseWithOwnGroups(YAMLNode.load(file: file))
    }

    public static func parse(yaml: String, file: String) throws(ConfigError) -> [Rule] {
        try parseWithOwnGroups(YAMLNode.parse(yaml, file: file))
    }

    /// Named lists of values (`groups: { office_nets: [10.0.0.0/8], web: [80, 443] }`),
    /// used in conditions as `value: "@office_nets"`.
    typealias Groups = [String: (definition: YAMLNode, values: [YAMLNode])]

    static func parseWithOwnGroups(_ root: YAMLNode) throws(ConfigError) -> [Rule] {
        var groups: Groups = [:]
        try collectGroups(root, into: &groups)
        let rules = try parse(root, groups: groups)
        try checkLimits(rules)
        return rules
    }

    static func collectGroups(_ root: YAMLNode, into groups: inout Groups) throws(ConfigError) {
        if root.isNull { return }
        let top = try root.mapping(allowed: ["rules", "groups"])
        guard let node = top["groups"], !node.isNull else { return }
        for (name, list) in try node.mapping(allowed: nil) {
            guard !name.isEmpty, name.count <= 64,
                  name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" })
            else { throw list.error("group names are letters, digits, '_' and '-' (at most 64)") }
            if let other = groups[name] {
                throw list.error("group '\(name)' is already defined at \(other.definition.file):\(other.definition.line)")
            }
            let values = list.isSequence ? try list.sequence() : [list]
            guard !values.isEmpty else { throw list.error("group '\(name)' is empty") }
            groups[name] = (list, values)
        }
    }

    static func parse(_ root: YAMLNode, groups: Groups) throws(ConfigError) -> [Rule] {
        if root.isNull { return [] }
        let top = try root.mapping(allowed: ["rules", "groups"])
        guard let list = top["rules"], !list.isNull else { return [] }
        var rules: [Rule] = []
        var names: [String: Int] = [:]
        for node in try list.sequence() {
            let rule = try parseRule(node, groups: groups)
            if let line = names[rule.name] {
                throw ConfigError(file: node.file, line: node.line, column: node.column, field: "\(node.path).name",
                                  message: "rule name '\(rule.name)' is already used at line \(line)")
            }
            names[rule.name] = node.line
            rules.append(rule)
        }
        return rules
    }

    static func parseRule(_ node: YAMLNode, groups: Groups) throws(ConfigError) -> Rule {
        let m = try node.mapping(allowed: ["name", "id", "action", "priority", "enabled", "conditions", "description"])
        guard let nameNode = m["name"] else { throw node.error("missing required field 'name'") }
        let name = try nameNode.string()
        guard name.count <= 128, !name.contains(where: { $0.isNewline }) else {
            throw nameNode.error("name must be a single line of at most 128 characters")
        }
        guard let actionNode = m["action"] else { throw node.error("missing required field 'action'") }
        let action = try actionNode.oneOf(RuleAction.self, what: "action")
        let priority = try m["priority"]?.integer(in: -1_000_000...1_000_000) ?? 0
        let enabled = try m["enabled"]?.bool() ?? true
        let id = try m["id"]?.integer(in: 1...Int(Int32.max))
        let description = try m["description"].map { node throws(ConfigError) in try node.scalarString() }
        var conditions: [Condition] = []
        var specs: [ConditionSpec] = []
        if let list = m["conditions"], !list.isNull {
            for c in try list.sequence() {
                let (condition, spec) = try parseCondition(c, groups: groups)
                conditions.append(condition)
                specs.append(spec)
            }
        }
        let spec = RuleSpec(name: name, id: id, action: action, priority: priority, enabled: enabled,
                            description: description, conditions: specs)
        return Rule(name: name, id: id, action: action, priority: priority, enabled: enabled,
                    conditions: conditions, origin: "\(node.file):\(node.line)", file: node.file, spec: spec)
    }

    /// A condition, compiled, and as written.
    static func parseCondition(_ node: YAMLNode, groups: Groups) throws(ConfigError) -> (Condition, ConditionSpec) {
        let m = try node.mapping(allowed: ["field", "operator", "value"])
        guard let fieldNode = m["field"] else { throw node.error("missing required field 'field'") }
        guard let opNode = m["operator"] else { throw node.error("missing required field 'operator'") }
        guard let valueNode = m["value"] else { throw node.error("missing required field 'value'") }
        let field = try fieldNode.oneOf(RuleField.self, what: "field")
        let op = try opNode.oneOf(RuleOperator.self, what: "operator")
        let written: RuleValue
        if valueNode.isSequence {
            var texts: [String] = []
            for item in try valueNode.sequence() { texts.append(try item.scalarString()) }
            written = .list(texts)
        } else {
            written = .one(try valueNode.scalarString())
        }
        let condition = try compileCondition(field: field, op: op, opNode: opNode, valueNode: valueNode, groups: groups)
        return (condition, ConditionSpec(field: field.rawValue, operator: op.rawValue, value: written))
    }

    static func compileCondition(field: RuleField, op: RuleOperator, opNode: YAMLNode, valueNode: YAMLNode,
                                 groups: Groups) throws(ConfigError) -> Condition {
        var values: [YAMLNode] = []
        var usesGroup = false
        for v in valueNode.isSequence ? try valueNode.sequence() : [valueNode] {
            guard case .scalar(let scalar) = v.node, scalar.string.hasPrefix("@") else {
                values.append(v)
                continue
            }
            let name = String(scalar.string.dropFirst())
            guard let group = groups[name] else {
                let known = groups.keys.sorted().map { "@\($0)" }.joined(separator: ", ")
                throw v.error("unknown group '@\(name)'" + (known.isEmpty ? " (no groups are defined)" : " (defined: \(known))"))
            }
            usesGroup = true
            values += group.values
        }
        guard !values.isEmpty else { throw valueNode.error("the list of values is empty") }
        if usesGroup, op != .in, op != .cidr {
            throw opNode.error("a group is a list of values: use operator 'in' (or 'cidr' for addresses)")
        }
        if values.count > 1 || valueNode.isSequence, op != .in, op != .cidr {
            throw valueNode.error("operator '\(op.rawValue)' takes one value; use 'in' for a list")
        }
        if op == .contains || op == .matches, field != .payload {
            throw opNode.error("operator '\(op.rawValue)' only applies to field 'payload'")
        }
        switch field {
        case .payload:
            let v = values[0]
            let text = try v.string()
            switch op {
            case .contains:
                switch BytePattern.parse(text) {
                case let .success(pattern): return .payloadContains(pattern)
                case let .failure(error): throw v.error("bad 'contains' pattern: \(error.message)")
                }
            case .matches:
                do {
                    return .payloadMatches(PayloadRegex(try CompiledRegex(text)))
                } catch {
                    throw v.error("bad regular expression: \(error.message) at offset \(error.offset)")
                }
            default:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field 'payload' (use contains or matches)")
            }
        case .inInterface, .outInterface:
            switch op {
            case .eq, .ne, .in:
                var patterns: [InterfacePattern] = []
                for v in values {
                    let text = try v.string()
                    guard let p = InterfacePattern(text) else {
                        throw v.error("'\(text)' is not an interface name (at most 15 characters, no '/', ':' or spaces; "
                                      + "a trailing '*' or '+' matches a prefix, e.g. veth*)")
                    }
                    patterns.append(p)
                }
                return .interface(input: field == .inInterface, patterns: patterns, negated: op == .ne)
            default:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field '\(field.rawValue)' (use eq, ne or in)")
            }
        case .srcIP, .dstIP:
            let source = field == .srcIP
            switch op {
            case .eq, .ne:
                let v = values[0]
                guard let a = IPAddress(try v.string()) else { throw v.error("'\(try v.string())' is not an IP address") }
                return .address(source: source, prefixes: [IPPrefix(network: a, length: a.bitWidth)], negated: op == .ne)
            case .in, .cidr:
                var prefixes: [IPPrefix] = []
                for v in values {
                    let text = try v.string()
                    guard let p = IPPrefix(text, strict: true) else {
                        if IPPrefix(text) != nil {
                            throw v.error("'\(text)' has host bits set after the prefix length")
                        }
                        throw v.error("'\(text)' is not an IP address or prefix (e.g. 198.18.0.0/15, 2001:db8::/32)")
                    }
                    prefixes.append(p)
                }
                return .address(source: source, prefixes: prefixes, negated: false)
            case .gt, .lt, .contains, .matches:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field '\(field.rawValue)' (use eq, ne, in or cidr)")
            }
        case .srcPort, .dstPort:
            let source = field == .srcPort
            switch op {
            case .eq, .ne:
                let port = try values[0].integer(in: 0...65535)
                return .port(source: source, ranges: [UInt16(port)...UInt16(port)], negated: op == .ne)
            case .gt:
                let port = try values[0].integer(in: 0...65534)
                return .port(source: source, ranges: [UInt16(port + 1)...65535], negated: false)
            case .lt:
                let port = try values[0].integer(in: 1...65535)
                return .port(source: source, ranges: [0...UInt16(port - 1)], negated: false)
            case .in:
                var ranges: [ClosedRange<UInt16>] = []
                for v in values { ranges.append(try parsePortRange(v)) }
                return .port(source: source, ranges: ranges, negated: false)
            case .cidr, .contains, .matches:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field '\(field.rawValue)' (use eq, ne, gt, lt or in)")
            }
        case .tcpFlags:
            switch op {
            case .eq, .ne, .in:
                var ranges: [ClosedRange<UInt32>] = []
                for v in values {
                    let f = UInt32(try parseTCPFlags(v))
                    ranges.append(f...f)
                }
                return .numeric(.tcpFlags, ranges: ranges, negated: op == .ne)
            case .gt, .lt, .cidr, .contains, .matches:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field 'tcp_flags' (use eq, ne or in)")
            }
        case .icmpType, .icmpCode, .ttl, .hopLimit, .length, .dscp:
            let (numeric, maximum): (NumericField, UInt32) = switch field {
            case .icmpType: (.icmpType, 255)
            case .icmpCode: (.icmpCode, 255)
            case .ttl, .hopLimit: (.ttl, 255)
            case .length: (.length, 65535)
            default: (.dscp, 63)
            }
            switch op {
            case .eq, .ne:
                let v = UInt32(try values[0].integer(in: 0...Int(maximum)))
                return .numeric(numeric, ranges: [v...v], negated: op == .ne)
            case .gt:
                let v = UInt32(try values[0].integer(in: 0...Int(maximum) - 1))
                return .numeric(numeric, ranges: [(v + 1)...maximum], negated: false)
            case .lt:
                let v = UInt32(try values[0].integer(in: 1...Int(maximum)))
                return .numeric(numeric, ranges: [0...(v - 1)], negated: false)
            case .in:
                var ranges: [ClosedRange<UInt32>] = []
                for v in values { ranges.append(try parseRange(v, maximum: maximum)) }
                return .numeric(numeric, ranges: ranges, negated: false)
            case .cidr, .contains, .matches:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field '\(field.rawValue)' (use eq, ne, gt, lt or in)")
            }
        case .ctState:
            switch op {
            case .eq, .ne, .in:
                var mask: UInt8 = 0
                for v in values {
                    let state = try v.oneOf(ConnectionState.allCases.map { ($0.name, $0) }, what: "connection state")
                    mask |= 1 << state.rawValue
                }
                return .connectionState(mask: mask, negated: op == .ne)
            case .gt, .lt, .cidr, .contains, .matches:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field 'ct_state' (use eq, ne or in)")
            }
        case .ctDirection:
            switch op {
            case .eq, .ne:
                let direction = try values[0].oneOf([("original", FlowDirection.original), ("reply", .reply)], what: "direction")
                return .connectionDirection(direction, negated: op == .ne)
            case .gt, .lt, .in, .cidr, .contains, .matches:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field 'ct_direction' (use eq or ne)")
            }
        case .protocol:
            switch op {
            case .eq, .ne:
                return .protocolNumber(numbers: [try parseProtocol(values[0])], negated: op == .ne)
            case .in:
                var numbers: [UInt8] = []
                for v in values { numbers.append(try parseProtocol(v)) }
                return .protocolNumber(numbers: numbers, negated: false)
            case .gt, .lt, .cidr, .contains, .matches:
                throw opNode.error("operator '\(op.rawValue)' makes no sense for field 'protocol' (use eq, ne or in)")
            }
        }
    }

    static let protocolNames: [String: UInt8] = [
        "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51, "icmpv6": 58, "ipv6-icmp": 58,
        "sctp": 132, "udplite": 136,
    ]

    static func parseProtocol(_ node: YAMLNode) throws(ConfigError) -> UInt8 {
        let text = try node.string()
        if let n = protocolNames[text.lowercased()] { return n }
        if let n = Int(text), (0...255).contains(n) { return UInt8(n) }
        throw node.error("unknown protocol '\(text)' (expected tcp, udp, icmp, icmpv6, ... or a number 0-255)")
    }

    static let tcpFlagNames: [String: UInt8] = [
        "fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20, "ece": 0x40, "cwr": 0x80,
    ]

    /// `syn`, `syn,ack` or `syn|ack`: exactly these flags set, all others clear.
    static func parseTCPFlags(_ node: YAMLNode) throws(ConfigError) -> UInt8 {
        let text = try node.string()
        var flags: UInt8 = 0
        for name in text.lowercased().split(whereSeparator: { $0 == "," || $0 == "|" }) {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let bit = tcpFlagNames[trimmed] else {
                throw node.error("unknown TCP flag '\(trimmed)' (expected fin, syn, rst, psh, ack, urg, ece, cwr)")
            }
            flags |= bit
        }
        guard flags != 0 else { throw node.error("no TCP flags given") }
        return flags
    }

    /// `7` or `10-20`, within 0...maximum.
    static func parseRange(_ node: YAMLNode, maximum: UInt32) throws(ConfigError) -> ClosedRange<UInt32> {
        let text = try node.string()
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2, let lo = UInt32(parts[0]), let hi = parts.count == 2 ? UInt32(parts[1]) : lo,
              lo <= hi, hi <= maximum else {
            throw node.error("'\(text)' is not a value or range within 0-\(maximum) (e.g. 10 or 10-20)")
        }
        return lo...hi
    }

    /// `80` or `1024-65535`.
    static func parsePortRange(_ node: YAMLNode) throws(ConfigError) -> ClosedRange<UInt16> {
        let text = try node.string()
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2, let lo = UInt16(parts[0]), let hi = parts.count == 2 ? UInt16(parts[1]) : lo else {
            throw node.error("'\(text)' is not a port (0-65535) or a port range like 1024-65535")
        }
        guard lo <= hi else { throw node.error("port range '\(text)' is empty (start is after end)") }
        return lo...hi
    }

    private static func lineOf(_ rule: Rule) -> Int {
        Int(rule.origin.split(separator: ":").last ?? "") ?? 0
    }
}
