// Suricata / Snort 3 rule text -> `SignatureSpec`.
//
// A rule is parsed completely or not at all: the first option the parser
// cannot represent exactly (an unsupported keyword, a response-side buffer,
// a malformed value) makes it return a `RuleSkip` naming that keyword, so a
// loaded signature never matches more or less than its text says.

/// Which rule language the option list is written in. The two differ where it
/// matters: Suricata's `http_uri;` modifies the content *before* it, Snort 3's
/// `http_uri;` is a sticky buffer for the contents *after* it; Snort 3 puts
/// content modifiers inside the option (`content:"x",nocase,depth 4;`).
public enum RuleDialect: String, Sendable, CaseIterable {
    case suricata
    case snort3
    /// Decided per rule: Snort 3 if the rule has a `service:` option, a content
    /// with comma modifiers, or an `http_*` buffer keyword before its first
    /// content or pcre; Suricata otherwise.
    case auto
}

/// Why a rule was not loaded.
public struct RuleSkip: Error, Sendable, Equatable, CustomStringConvertible {
    public var origin: SignatureOrigin
    /// The rule's sid when it could be read.
    public var sid: UInt32?
    /// The report bucket: the unsupported keyword (`byte_test`, `file.data`,
    /// `flow:only_frag`), `protocol dns`, `undefined variable $X`,
    /// `unknown classtype`, `duplicate sid`, or `syntax` for malformed text.
    public var keyword: String
    /// What is wrong, for a human.
    public var message: String
    /// 1-based byte column in the (continuation-joined) rule, where known.
    public var column: Int?

    public init(origin: SignatureOrigin, sid: UInt32?, keyword: String, message: String, column: Int?) {
        self.origin = origin
        self.sid = sid
        self.keyword = keyword
        self.message = message
        self.column = column
    }

    /// `file:line:column: message (sid N)`.
    public var description: String {
        var text = "\(origin)"
        if let column { text += ":\(column)" }
        text += ": \(message)"
        if let sid { text += " (sid \(sid))" }
        return text
    }
}

/// Parses one rule line at a time. Immutable and `Sendable`: variables are
/// resolved once in `init`, so one parser can serve many threads.
public struct RuleParser: Sendable {
    public let variables: RuleVariables
    public let classifications: ClassificationTable
    public let dialect: RuleDialect
    private let headerParser: RuleHeaderParser

    public init(variables: RuleVariables = .init(), classifications: ClassificationTable = .default,
                dialect: RuleDialect = .auto) {
        self.variables = variables
        self.classifications = classifications
        self.dialect = dialect
        self.headerParser = RuleHeaderParser(variables: variables)
    }

    /// Parses one rule (continuation lines already joined, no leading `#`).
    public func parse(_ line: String, origin: SignatureOrigin) -> Result<SignatureSpec, RuleSkip> {
        parse(bytes: Array(line.utf8), origin: origin)
    }

    /// The same on raw bytes: rule files are not required to be valid UTF-8
    /// and contents keep their bytes exactly.
    public func parse(bytes: [UInt8], origin: SignatureOrigin) -> Result<SignatureSpec, RuleSkip> {
        let rule: LexedRule
        do {
            rule = try RuleLexer.split(bytes)
        } catch {
            return .failure(skip(error, sid: Self.scanSid(bytes), origin: origin))
        }
        let sid = Self.sid(of: rule)
        do {
            let header = try headerParser.parse(rule)
            let dialect = self.dialect == .auto ? Self.detectDialect(rule) : self.dialect
            var options = RuleOptionParser(rule: rule, header: header, dialect: dialect,
                                           classifications: classifications, origin: origin)
            return .success(try options.parse())
        } catch {
            return .failure(skip(error, sid: sid, origin: origin))
        }
    }

    private func skip(_ error: RuleSyntaxError, sid: UInt32?, origin: SignatureOrigin) -> RuleSkip {
        RuleSkip(origin: origin, sid: sid, keyword: error.keyword, message: error.message, column: error.column)
    }

    // MARK: dialect

    public static func detectDialect(_ rule: LexedRule) -> RuleDialect {
        var sawMatch = false
        for option in rule.options {
            switch option.keyword {
            case "service":
                return .snort3
            case "content", "uricontent":
                if let value = option.value, let last = rule.bytes[value].last, last != UInt8(ascii: "\"") {
                    return .snort3
                }
                sawMatch = true
            case "pcre":
                sawMatch = true
            default:
                if !sawMatch && RuleOptionParser.legacyBuffers[option.keyword] != nil { return .snort3 }
            }
        }
        return .suricata
    }

    // MARK: sid for reports

    static func sid(of rule: LexedRule) -> UInt32? {
        guard let option = rule.options.first(where: { $0.keyword == "sid" }), let value = option.value else {
            return nil
        }
        return UInt32(rule.text(value))
    }

    /// Finds `sid:N` in text the lexer could not split, for the report only.
    static func scanSid(_ bytes: [UInt8]) -> UInt32? {
        let key: [UInt8] = Array("sid:".utf8)
        var i = 0
        while i + key.count <= bytes.count {
            if bytes[i] == key[0], bytes[i..<(i + key.count)].elementsEqual(key),
               i == 0 || !RuleLexer.isKeywordByte(bytes[i - 1]) {
                var j = RuleLexer.skipBlanks(bytes, from: i + key.count, to: bytes.count)
                var value: UInt64 = 0
                let start = j
                while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39, value <= UInt64(UInt32.max) {
                    value = value * 10 + UInt64(bytes[j] - 0x30)
                    j += 1
                }
                if j > start, value <= UInt64(UInt32.max) { return UInt32(value) }
            }
            i += 1
        }
        return nil
    }
}
