// The option list of one rule -> the fields of `SignatureSpec`.
//
// Options are applied in order into a local spec; any error leaves the
// function, so a skipped rule never yields a partial signature. Payload
// keywords live in RuleOptions+Content.swift and RuleOptions+Pcre.swift,
// the small value grammars (numbers, flags, flow, thresholds) in
// RuleOptions+Values.swift.

struct RuleOptionParser {
    let rule: LexedRule
    let dialect: RuleDialect
    let classifications: ClassificationTable
    var spec: SignatureSpec

    /// The sticky buffer in force (`http.uri;`, Snort 3 `http_uri;`); nil
    /// before any, which means the payload.
    var sticky: SignatureBuffer? = nil
    /// The content that `nocase`, `depth`, `http_uri` ... modify.
    var lastContent: LastContent? = nil
    /// The last content or pcre step: the anchor of relative keywords that
    /// have no buffer of their own.
    var lastMatchStep: Int? = nil

    private var seen: Set<String> = []
    private var explicitPriority: Int? = nil
    private var classPriority: Int? = nil
    private var criticalSeverity = false

    struct LastContent {
        var step: Int
        var modifiers: ContentModifiers = []
        /// Placed by a sticky buffer, so Suricata's `http_uri`-style modifiers may not move it.
        var fromSticky: Bool
    }

    struct ContentModifiers: OptionSet {
        let rawValue: UInt16
        static let nocase = ContentModifiers(rawValue: 1 << 0)
        static let offset = ContentModifiers(rawValue: 1 << 1)
        static let depth = ContentModifiers(rawValue: 1 << 2)
        static let distance = ContentModifiers(rawValue: 1 << 3)
        static let within = ContentModifiers(rawValue: 1 << 4)
        static let fastPattern = ContentModifiers(rawValue: 1 << 5)
        static let startsWith = ContentModifiers(rawValue: 1 << 6)
        static let endsWith = ContentModifiers(rawValue: 1 << 7)
        static let buffer = ContentModifiers(rawValue: 1 << 8)
        static let absolute: ContentModifiers = [.offset, .depth, .startsWith]
        static let relative: ContentModifiers = [.distance, .within]
    }

    init(rule: LexedRule, header: RuleHeader, dialect: RuleDialect, classifications: ClassificationTable,
         origin: SignatureOrigin) {
        self.rule = rule
        self.dialect = dialect
        self.classifications = classifications
        var spec = SignatureSpec(action: header.action, proto: header.proto, sid: 0, message: "", origin: origin)
        spec.source = header.source
        spec.sourcePorts = header.sourcePorts
        spec.destination = header.destination
        spec.destinationPorts = header.destinationPorts
        spec.bidirectional = header.bidirectional
        self.spec = spec
    }

    mutating func parse() throws(RuleSyntaxError) -> SignatureSpec {
        for option in rule.options {
            try apply(option)
        }
        guard seen.contains("sid") else {
            throw RuleSyntaxError(message: "missing sid", column: nil, keyword: "missing sid")
        }
        // The HTTP buffers of the IR are request-side; Suricata and Snort
        // read `http.header`, `http.cookie`, `http.content_type` ... of the
        // response when the rule looks at the to_client direction.
        if spec.flow.toClient, let step = spec.steps.first(where: { $0.buffer.isHTTP }) {
            let name = step.buffer.name
            let flowColumn = rule.options.first(where: { $0.keyword == "flow" })?.column
            throw RuleSyntaxError(message: "\(name) on responses (flow:to_client) is not supported",
                                  column: flowColumn, keyword: "\(name) to_client")
        }
        spec.priority = explicitPriority ?? classPriority ?? 3
        spec.severity = criticalSeverity ? .critical : SignatureSeverity(priority: spec.priority)
        return spec
    }

    private mutating func apply(_ option: LexedOption) throws(RuleSyntaxError) {
        switch option.keyword {
        case "msg":
            try once(option)
            spec.message = try quotedText(option)
        case "sid":
            try once(option)
            spec.sid = try unsigned32(option)
            guard spec.sid > 0 else { throw invalid(option, "sid must be greater than 0") }
        case "rev":
            try once(option)
            spec.rev = try unsigned32(option)
        case "gid":
            try once(option)
            spec.gid = try unsigned32(option)
        case "classtype":
            try once(option)
            let name = try plainValue(option)
            guard let entry = classifications[name: name] else {
                throw RuleSyntaxError(message: "unknown classtype \(name)", column: option.column,
                                      keyword: "unknown classtype \(name)")
            }
            spec.classtype = name
            spec.category = entry.description
            classPriority = entry.priority
        case "priority":
            try once(option)
            guard let value = Int(try plainValue(option)), (1...255).contains(value) else {
                throw invalid(option, "priority must be a number from 1 to 255")
            }
            explicitPriority = value
        case "reference":
            try reference(option)
        case "metadata":
            try metadata(option)
        case "target":
            let value = try plainValue(option)
            guard value == "src_ip" || value == "dest_ip" else {
                throw invalid(option, "target must be src_ip or dest_ip")
            }
        case "service", "rem":
            break  // informational (Snort 3)
        case "rawbytes", "prefilter":
            try noValue(option)  // hints only: payload keywords here are always raw, prefiltering is automatic
        case "noalert":
            try noValue(option)
            spec.flowbits.append(.noAlert)
        case "content":
            try content(option, buffer: nil)
        case "uricontent":
            try content(option, buffer: .httpURI)
        case "nocase", "offset", "depth", "distance", "within", "fast_pattern", "startswith", "endswith":
            try separateContentModifier(option)
        case "pcre":
            try pcre(option)
        case "bsize", "bufferlen":
            try bufferSize(option)
        case "urilen":
            try uriLength(option)
        case "isdataat":
            try dataAt(option)
        case "flow":
            try once(option)
            spec.flow = try flow(option)
        case "flowbits":
            try flowbits(option)
        case "dsize":
            try once(option)
            spec.dsize = try numericTest(option)
        case "ttl":
            try once(option)
            spec.ttl = try numericTest(option)
        case "itype":
            try once(option)
            spec.icmpType = try numericTest(option)
        case "icode":
            try once(option)
            spec.icmpCode = try numericTest(option)
        case "flags":
            try once(option)
            spec.tcpFlags = try tcpFlags(option)
        case "threshold":
            try once(option)
            spec.threshold = try threshold(option, detectionFilter: false)
        case "detection_filter":
            try once(option)
            spec.detectionFilter = try threshold(option, detectionFilter: true)
        default:
            try bufferKeyword(option)
        }
    }

    // MARK: informational options

    private mutating func reference(_ option: LexedOption) throws(RuleSyntaxError) {
        let value = try plainValue(option)
        guard let comma = value.firstIndex(of: ",") else { throw invalid(option, "reference must be 'type,value'") }
        let kind = value[..<comma].trimmingRuleBlanks
        let target = value[value.index(after: comma)...].trimmingRuleBlanks
        guard !kind.isEmpty, !target.isEmpty else { throw invalid(option, "reference must be 'type,value'") }
        spec.references.append("\(kind),\(target)")
    }

    /// Entries are kept raw. ET's `confidence High|Medium|Low` sets
    /// `confidence` to 0.9 / 0.6 / 0.3; `signature_severity Critical` raises
    /// the severity to `.critical` (priority alone never yields it).
    private mutating func metadata(_ option: LexedOption) throws(RuleSyntaxError) {
        let value = try plainValue(option)
        for part in value.split(separator: ",") {
            let entry = part.trimmingRuleBlanks
            if entry.isEmpty { continue }
            spec.metadata.append(entry)
            if entry.hasPrefix("confidence ") {
                switch entry.dropFirst("confidence ".count).trimmingRuleBlanks.lowercased() {
                case "high": spec.confidence = 0.9
                case "medium": spec.confidence = 0.6
                case "low": spec.confidence = 0.3
                default: break
                }
            } else if entry.hasPrefix("signature_severity ") {
                let level = entry.dropFirst("signature_severity ".count).trimmingRuleBlanks.lowercased()
                criticalSeverity = level == "critical"
            }
        }
    }

    // MARK: value helpers

    /// Refuses a second `sid`, `flow`, `dsize`, ... in the same rule.
    private mutating func once(_ option: LexedOption) throws(RuleSyntaxError) {
        guard seen.insert(option.keyword).inserted else { throw invalid(option, "\(option.keyword) given twice") }
    }

    func invalid(_ option: LexedOption, _ message: String) -> RuleSyntaxError {
        RuleSyntaxError(message: "\(option.keyword): \(message)", column: option.column)
    }

    func unsupported(_ option: LexedOption, _ keyword: String? = nil, _ detail: String? = nil) -> RuleSyntaxError {
        let name = keyword ?? option.keyword
        return RuleSyntaxError(message: detail ?? "keyword \(name) is not supported", column: option.column,
                               keyword: name)
    }

    func noValue(_ option: LexedOption) throws(RuleSyntaxError) {
        if let value = option.value, !value.isEmpty { throw invalid(option, "takes no value") }
    }

    func plainValue(_ option: LexedOption) throws(RuleSyntaxError) -> String {
        guard let value = option.value, !value.isEmpty else { throw invalid(option, "missing value") }
        return rule.text(value)
    }

    func unsigned32(_ option: LexedOption) throws(RuleSyntaxError) -> UInt32 {
        let text = try plainValue(option)
        guard let value = UInt32(text) else { throw invalid(option, "invalid number '\(text)'") }
        return value
    }

    /// `"text"` with `\"`, `\;`, `\\` (any `\x` -> `x`) unescaped; unquoted text as is.
    func quotedText(_ option: LexedOption) throws(RuleSyntaxError) -> String {
        guard let range = option.value, !range.isEmpty else { return "" }
        let bytes = rule.bytes[range]
        guard bytes.first == UInt8(ascii: "\"") else { return rule.text(range) }
        guard bytes.count >= 2, bytes.last == UInt8(ascii: "\"") else { throw invalid(option, "unterminated quote") }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = range.lowerBound + 1
        let end = range.upperBound - 1
        while i < end {
            if rule.bytes[i] == UInt8(ascii: "\\"), i + 1 < end {
                i += 1
            }
            out.append(rule.bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Without leading and trailing blanks (space, tab).
    var trimmingRuleBlanks: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
