import SocfwWire

// The rule header: `alert tcp $HOME_NET any -> $EXTERNAL_NET [80,8080:8090]`.
//
// Address and port groups follow Suricata's semantics (detect-engine-address.c):
// a group is flattened into the items it includes and the items it excludes,
// however the negations are nested through lists and variables, and then
// means "(the included items, or everything if there are none) minus the
// excluded items". So `[$EXTERNAL_NET,1.2.3.4]` with EXTERNAL_NET `!$HOME_NET`
// is 1.2.3.4 minus HOME_NET, as in Suricata. Only a negated group that itself
// has exclusions (`![10.0.0.0/8,!10.1.0.0/16]`) has no such form and is refused.

/// The parsed header of one rule.
struct RuleHeader: Equatable {
    var action: SignatureAction
    var proto: SignatureProtocol
    var source = AddressMatch.all
    var sourcePorts = PortMatch.all
    var destination = AddressMatch.all
    var destinationPorts = PortMatch.all
    var bidirectional = false
}

/// An address or port group in flattened form (see the note at the top).
struct HeaderGroup<Element: Equatable & Sendable>: Equatable, Sendable {
    var include: [Element] = []
    var exclude: [Element] = []
    /// Everything (minus `exclude`); `include` is then empty.
    var any = false

    static var all: HeaderGroup { HeaderGroup(any: true) }
}

extension RuleHeader {
    /// `rejectsrc`/`rejectdst`/`rejectboth` are Suricata's reject variants;
    /// `block` is Snort 3's name for dropping the packet and the rest of its flow.
    static func action(named name: String) -> SignatureAction? {
        switch name {
        case "alert": .alert
        case "drop", "block": .drop
        case "reject", "rejectsrc", "rejectdst", "rejectboth": .reject
        case "pass": .pass
        default: nil
        }
    }

    /// `http1` is Suricata 7's name for HTTP/1.x only, which is what `.http` means.
    static func proto(named name: String) -> SignatureProtocol? {
        switch name {
        case "ip": .ip
        case "tcp": .tcp
        case "udp": .udp
        case "icmp": .icmp
        case "http", "http1": .http
        case "tcp-pkt": .tcpPacket
        case "tcp-stream": .tcpStream
        default: nil
        }
    }
}

/// Parses headers against a fixed set of variables, resolved once.
struct RuleHeaderParser: Sendable {
    private var addressVariables: [String: Result<HeaderGroup<IPPrefix>, RuleSyntaxError>] = [:]
    private var portVariables: [String: Result<HeaderGroup<ClosedRange<UInt16>>, RuleSyntaxError>] = [:]

    init(variables: RuleVariables) {
        for name in variables.addresses.keys {
            var visiting: Set<String> = []
            addressVariables[name] = Result { () throws(RuleSyntaxError) in
                try Self.resolve(name, definitions: variables.addresses, visiting: &visiting,
                                 element: Self.addressElement)
            }
        }
        for name in variables.ports.keys {
            var visiting: Set<String> = []
            portVariables[name] = Result { () throws(RuleSyntaxError) in
                try Self.resolve(name, definitions: variables.ports, visiting: &visiting, element: Self.portElement)
            }
        }
    }

    func parse(_ rule: LexedRule) throws(RuleSyntaxError) -> RuleHeader {
        guard let action = RuleHeader.action(named: rule.action) else {
            throw RuleSyntaxError(message: "unknown action '\(rule.action)'", column: rule.actionColumn,
                                  keyword: "action \(rule.action)")
        }
        let tokens = try Self.tokens(rule.bytes, rule.header)
        guard let protoToken = tokens.first else {
            throw RuleSyntaxError(message: "missing protocol", column: rule.headerColumn)
        }
        let protoName = String(decoding: rule.bytes[protoToken], as: UTF8.self).lowercased()
        guard let proto = RuleHeader.proto(named: protoName) else {
            throw RuleSyntaxError(message: "protocol \(protoName) is not supported", column: protoToken.lowerBound + 1,
                                  keyword: "protocol \(protoName)")
        }
        var header = RuleHeader(action: action, proto: proto)
        // Snort 3 service rules (`alert http ( ... )`) have no addresses.
        if tokens.count == 1 { return header }
        guard tokens.count == 6 else {
            throw RuleSyntaxError(message: "header must be 'protocol source port direction destination port'",
                                  column: rule.headerColumn)
        }
        let direction = String(decoding: rule.bytes[tokens[3]], as: UTF8.self)
        switch direction {
        case "->": header.bidirectional = false
        case "<>": header.bidirectional = true
        default:
            throw RuleSyntaxError(message: "invalid direction '\(direction)' (expected -> or <>)",
                                  column: tokens[3].lowerBound + 1)
        }
        header.source = try addresses(rule.bytes, tokens[1])
        header.sourcePorts = try ports(rule.bytes, tokens[2])
        header.destination = try addresses(rule.bytes, tokens[4])
        header.destinationPorts = try ports(rule.bytes, tokens[5])
        return header
    }

    func addresses(_ bytes: [UInt8], _ range: Range<Int>) throws(RuleSyntaxError) -> AddressMatch {
        let group = try Self.located(range) { () throws(RuleSyntaxError) in
            try Self.group(bytes[range], column: range.lowerBound + 1, element: Self.addressElement) {
                (name) throws(RuleSyntaxError) in
                guard let resolved = addressVariables[name] else { throw Self.undefined(name) }
                return try resolved.get()
            }
        }
        return AddressMatch(include: group.include, exclude: group.exclude, any: group.any)
    }

    func ports(_ bytes: [UInt8], _ range: Range<Int>) throws(RuleSyntaxError) -> PortMatch {
        let group = try Self.located(range) { () throws(RuleSyntaxError) in
            try Self.group(bytes[range], column: range.lowerBound + 1, element: Self.portElement) {
                (name) throws(RuleSyntaxError) in
                guard let resolved = portVariables[name] else { throw Self.undefined(name) }
                return try resolved.get()
            }
        }
        return PortMatch(include: group.include, exclude: group.exclude, any: group.any)
    }

    /// Errors from variable definitions carry no column; point at the header field.
    private static func located<T>(
        _ range: Range<Int>, _ body: () throws(RuleSyntaxError) -> T
    ) throws(RuleSyntaxError) -> T {
        do {
            return try body()
        } catch {
            var located = error
            located.column = located.column ?? range.lowerBound + 1
            throw located
        }
    }

    // MARK: tokens

    /// Splits at blanks outside brackets (`[1.2.3.4, 5.6.7.8]` is one token).
    static func tokens(_ bytes: [UInt8], _ range: Range<Int>) throws(RuleSyntaxError) -> [Range<Int>] {
        var tokens: [Range<Int>] = []
        var depth = 0
        var start: Int? = nil
        for i in range {
            let byte = bytes[i]
            if byte == UInt8(ascii: "[") { depth += 1 } else if byte == UInt8(ascii: "]") { depth -= 1 }
            if RuleLexer.isBlank(byte) && depth <= 0 {
                if let s = start { tokens.append(s..<i); start = nil }
            } else if start == nil {
                start = i
            }
        }
        if let s = start { tokens.append(s..<range.upperBound) }
        if depth > 0, let open = bytes[range].firstIndex(of: UInt8(ascii: "[")) {
            throw RuleSyntaxError(message: "missing ']' in the header", column: open + 1)
        }
        return tokens
    }

    // MARK: groups

    static func undefined(_ name: String) -> RuleSyntaxError {
        RuleSyntaxError(message: "undefined variable $\(name)", column: nil, keyword: "undefined variable $\(name)")
    }

    static func addressElement(_ text: String) -> IPPrefix? {
        IPPrefix(text, strict: false)
    }

    /// `80`, `80:90`, `1024:`, `:1023`.
    static func portElement(_ text: String) -> ClosedRange<UInt16>? {
        guard let colon = text.firstIndex(of: ":") else { return UInt16(text).map { $0...$0 } }
        let low = text[..<colon], high = text[text.index(after: colon)...]
        guard let lower = low.isEmpty ? 0 : UInt16(low), let upper = high.isEmpty ? UInt16.max : UInt16(high),
              lower <= upper, !(low.isEmpty && high.isEmpty)
        else { return nil }
        return lower...upper
    }

    private static func resolve<E>(
        _ name: String, definitions: [String: String], visiting: inout Set<String>,
        element: (String) -> E?
    ) throws(RuleSyntaxError) -> HeaderGroup<E> {
        guard let text = definitions[name] else { throw undefined(name) }
        guard visiting.insert(name).inserted else {
            throw RuleSyntaxError(message: "variable $\(name) refers to itself", column: nil,
                                  keyword: "recursive variable $\(name)")
        }
        defer { visiting.remove(name) }
        let bytes = Array(text.utf8)
        do {
            return try group(bytes[...], column: nil, element: element) { (inner) throws(RuleSyntaxError) in
                try resolve(inner, definitions: definitions, visiting: &visiting, element: element)
            }
        } catch {
            if error.keyword != "syntax" { throw error }
            throw RuleSyntaxError(message: "in $\(name) (\(text)): \(error.message)", column: nil)
        }
    }

    static func group<E>(
        _ text: ArraySlice<UInt8>, column: Int?, element: (String) -> E?,
        variable: (String) throws(RuleSyntaxError) -> HeaderGroup<E>
    ) throws(RuleSyntaxError) -> HeaderGroup<E> {
        let compact = Array(text.filter { !RuleLexer.isBlank($0) })
        var parser = GroupParser<E>(text: compact, column: column)
        let result = try parser.expression(depth: 0, element: element, variable: variable)
        guard parser.index == compact.count else {
            throw parser.error("unexpected '\(String(decoding: compact[parser.index...], as: UTF8.self))'")
        }
        return result
    }
}

/// Recursive descent over `!`, `[...]`, `$VAR`, `any` and single elements.
private struct GroupParser<E: Equatable & Sendable> {
    let text: [UInt8]
    let column: Int?
    var index = 0

    func error(_ message: String) -> RuleSyntaxError {
        RuleSyntaxError(message: "\(message) in '\(String(decoding: text, as: UTF8.self))'", column: column)
    }

    mutating func expression(
        depth: Int, element: (String) -> E?, variable: (String) throws(RuleSyntaxError) -> HeaderGroup<E>
    ) throws(RuleSyntaxError) -> HeaderGroup<E> {
        guard depth < 32 else { throw error("groups nested too deeply") }
        var negations = 0
        while index < text.count, text[index] == UInt8(ascii: "!") {
            negations += 1
            index += 1
        }
        let group = try primary(depth: depth, element: element, variable: variable)
        return negations % 2 == 1 ? try negate(group) : group
    }

    private mutating func primary(
        depth: Int, element: (String) -> E?, variable: (String) throws(RuleSyntaxError) -> HeaderGroup<E>
    ) throws(RuleSyntaxError) -> HeaderGroup<E> {
        guard index < text.count else { throw error("missing value") }
        if text[index] == UInt8(ascii: "[") {
            index += 1
            var items: [HeaderGroup<E>] = []
            while true {
                items.append(try expression(depth: depth + 1, element: element, variable: variable))
                guard index < text.count else { throw error("missing ']'") }
                let byte = text[index]
                index += 1
                if byte == UInt8(ascii: "]") { break }
                guard byte == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
            }
            return Self.flatten(items)
        }
        let start = index
        while index < text.count, text[index] != UInt8(ascii: ","), text[index] != UInt8(ascii: "]"),
              text[index] != UInt8(ascii: "["), text[index] != UInt8(ascii: "!") {
            index += 1
        }
        let word = String(decoding: text[start..<index], as: UTF8.self)
        if word.isEmpty { throw error("missing value") }
        if word.first == "$" {
            let name = String(word.dropFirst())
            guard !name.isEmpty else { throw error("empty variable name") }
            return try variable(name)
        }
        if word.lowercased() == "any" { return .all }
        guard let value = element(word) else { throw error("invalid value '\(word)'") }
        return HeaderGroup(include: [value])
    }

    private func negate(_ group: HeaderGroup<E>) throws(RuleSyntaxError) -> HeaderGroup<E> {
        if group.any {
            guard !group.exclude.isEmpty else { throw error("'!any' matches nothing") }
            return HeaderGroup(include: group.exclude)
        }
        guard group.exclude.isEmpty else { throw error("negating a group that has exclusions is not supported") }
        return HeaderGroup(exclude: group.include, any: true)
    }

    private static func flatten(_ items: [HeaderGroup<E>]) -> HeaderGroup<E> {
        var result = HeaderGroup<E>()
        var anyPositive = false
        for item in items {
            if item.any {
                if item.exclude.isEmpty { anyPositive = true }
            } else {
                result.include.append(contentsOf: item.include)
            }
            result.exclude.append(contentsOf: item.exclude)
        }
        if anyPositive || result.include.isEmpty {
            result.any = true
            result.include = []
        }
        return result
    }
}
