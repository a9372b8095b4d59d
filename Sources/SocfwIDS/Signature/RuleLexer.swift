// Splits one rule (continuation lines already joined) into its action, its
// header and its option list, without interpreting any of them.
//
//   alert tcp $HOME_NET any -> any 80 (msg:"x"; content:"a\;b"; sid:1;)
//   ^action ^header---------------------^ ^options-------------------^
//
// Option values end at the first `;` not escaped by a backslash, which is
// exactly how Suricata splits them (detect-parse.c, SigParseOptions). Quotes
// are deliberately not tracked there: ET sid 2029732 carries an unescaped `"`
// inside its pcre (`pcre:"/^["']?post/Ri";`) and loads in Suricata, while a
// quote-tracking splitter would run past the `;` into the next options. Only
// when the quotes of a value are unbalanced at that `;` (a Snort 3 style
// unescaped `;` inside a quoted string) does the lexer look further, and it
// takes the later `;` only if what follows it looks like the next option.

/// A malformed rule, with the 1-based byte column where the problem was seen.
public struct RuleSyntaxError: Error, Equatable {
    public var message: String
    public var column: Int?
    /// The report bucket: `syntax` unless a keyword is at fault.
    public var keyword: String = "syntax"

    public init(message: String, column: Int?, keyword: String = "syntax") {
        self.message = message
        self.column = column
        self.keyword = keyword
    }
}

/// One `keyword[:value];` of the option list.
public struct LexedOption: Equatable {
    /// Lowercased (Suricata and Snort match keywords without regard to case).
    public var keyword: String
    /// The value between `:` and `;`, blanks trimmed; nil for `keyword;`.
    public var value: Range<Int>?
    /// 1-based byte column of the keyword in the rule.
    public var column: Int
}

/// A rule split into parts; ranges index `bytes`.
public struct LexedRule {
    public var bytes: [UInt8]
    public var action: String
    public var actionColumn: Int
    /// Between the action and `(`, trimmed.
    public var header: Range<Int>
    public var headerColumn: Int
    public var options: [LexedOption]

    public func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    public func value(of option: LexedOption) -> String {
        option.value.map(text) ?? ""
    }
}

public enum RuleLexer {
    public static func split(_ bytes: [UInt8]) throws(RuleSyntaxError) -> LexedRule {
        let end = bytes.count
        var i = skipBlanks(bytes, from: 0, to: end)
        let actionStart = i
        while i < end, isKeywordByte(bytes[i]) { i += 1 }
        guard i > actionStart else {
            throw RuleSyntaxError(message: "expected an action (alert, drop, reject, pass)", column: actionStart + 1)
        }
        let action = String(decoding: bytes[actionStart..<i], as: UTF8.self).lowercased()

        guard let open = bytes[i...].firstIndex(of: UInt8(ascii: "(")) else {
            throw RuleSyntaxError(message: "missing '(' before the options", column: end + 1)
        }
        var closeSearch = end
        while closeSearch > open + 1, isBlank(bytes[closeSearch - 1]) { closeSearch -= 1 }
        guard closeSearch > open + 1, bytes[closeSearch - 1] == UInt8(ascii: ")") else {
            throw RuleSyntaxError(message: "rule does not end with ')'", column: closeSearch + 1)
        }
        let close = closeSearch - 1
        let header = trimmed(bytes, i..<open)
        let options = try splitOptions(bytes, body: (open + 1)..<close)
        return LexedRule(bytes: bytes, action: action, actionColumn: actionStart + 1, header: header,
                         headerColumn: header.lowerBound + 1, options: options)
    }

    static func splitOptions(_ bytes: [UInt8], body: Range<Int>) throws(RuleSyntaxError) -> [LexedOption] {
        var options: [LexedOption] = []
        options.reserveCapacity(24)
        var i = body.lowerBound
        let end = body.upperBound
        while true {
            i = skipBlanks(bytes, from: i, to: end)
            if i >= end { break }
            let keywordStart = i
            while i < end, bytes[i] != UInt8(ascii: ":"), bytes[i] != UInt8(ascii: ";") { i += 1 }
            let keywordRange = trimmed(bytes, keywordStart..<i)
            guard !keywordRange.isEmpty, bytes[keywordRange].allSatisfy(isKeywordByte) else {
                let shown = String(decoding: bytes[keywordRange].prefix(40), as: UTF8.self)
                throw RuleSyntaxError(message: shown.isEmpty ? "empty option" : "invalid option name '\(shown)'",
                                      column: keywordStart + 1)
            }
            let keyword = lowercasedKeyword(bytes[keywordRange])
            guard i < end else {
                throw RuleSyntaxError(message: "option '\(keyword)' is not terminated by ';'", column: keywordStart + 1)
            }
            if bytes[i] == UInt8(ascii: ";") {
                options.append(LexedOption(keyword: keyword, value: nil, column: keywordStart + 1))
                i += 1
                continue
            }
            let valueStart = i + 1
            let valueEnd = try valueEnd(bytes, from: valueStart, to: end, keyword: keyword, column: keywordStart + 1)
            options.append(LexedOption(keyword: keyword, value: trimmed(bytes, valueStart..<valueEnd),
                                       column: keywordStart + 1))
            i = valueEnd + 1
        }
        return options
    }

    /// Index of the `;` ending the value that starts at `start`.
    private static func valueEnd(_ bytes: [UInt8], from start: Int, to end: Int, keyword: String,
                                 column: Int) throws(RuleSyntaxError) -> Int {
        guard let first = firstUnescapedSemicolon(bytes, from: start, to: end) else {
            throw RuleSyntaxError(message: "option '\(keyword)' is not terminated by ';'", column: column)
        }
        // A pcre's value runs from the first to the last quote whatever lies
        // between, so it is never re-split (the sid 2029732 case).
        if keyword == "pcre" || quotesBalanced(bytes, start..<first) { return first }
        if let later = semicolonOutsideQuotes(bytes, from: start, to: end), later > first,
           looksLikeOptionStart(bytes, from: later + 1, to: end) {
            return later
        }
        return first
    }

    private static func firstUnescapedSemicolon(_ bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        var i = start
        while i < end {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: ";"): return i
            default: i += 1
            }
        }
        return nil
    }

    private static func quotesBalanced(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        var inside = false
        var i = range.lowerBound
        while i < range.upperBound {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2; continue
            case UInt8(ascii: "\""): inside.toggle()
            default: break
            }
            i += 1
        }
        return !inside
    }

    private static func semicolonOutsideQuotes(_ bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        var inside = false
        var i = start
        while i < end {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2; continue
            case UInt8(ascii: "\""): inside.toggle()
            case UInt8(ascii: ";") where !inside: return i
            default: break
            }
            i += 1
        }
        return nil
    }

    /// True at the end of the option list or before `name:` / `name;`.
    private static func looksLikeOptionStart(_ bytes: [UInt8], from start: Int, to end: Int) -> Bool {
        var i = skipBlanks(bytes, from: start, to: end)
        if i >= end { return true }
        let nameStart = i
        while i < end, isKeywordByte(bytes[i]) { i += 1 }
        guard i > nameStart else { return false }
        i = skipBlanks(bytes, from: i, to: end)
        return i < end && (bytes[i] == UInt8(ascii: ":") || bytes[i] == UInt8(ascii: ";"))
    }

    // MARK: byte helpers shared by the option parsers

    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    @inline(__always)
    static func isKeywordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    static func skipBlanks(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
        var i = start
        while i < end, isBlank(bytes[i]) { i += 1 }
        return i
    }

    static func trimmed(_ bytes: [UInt8], _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isBlank(bytes[lower]) { lower += 1 }
        while upper > lower, isBlank(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    private static func lowercasedKeyword(_ slice: ArraySlice<UInt8>) -> String {
        if slice.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
            return String(decoding: slice.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
        }
        return String(decoding: slice, as: UTF8.self)
    }
}
