// `pcre`, and the buffer-anchored tests `bsize`/`bufferlen`, `urilen`, `isdataat`.

extension RuleOptionParser {
    /// `pcre:[!]"/pattern/flags"`. The value is taken from its first to its
    /// last quote and the pattern from the first to the last slash, so quotes
    /// and escaped slashes inside stay as written (PCRE reads `\/` and `\"`
    /// as the characters themselves).
    mutating func pcre(_ option: LexedOption) throws(RuleSyntaxError) {
        guard let range = option.value, !range.isEmpty else { throw invalid(option, "missing value") }
        var start = range.lowerBound
        var negated = false
        if rule.bytes[start] == UInt8(ascii: "!") {
            negated = true
            start = RuleLexer.skipBlanks(rule.bytes, from: start + 1, to: range.upperBound)
        }
        let end = range.upperBound
        guard end - start >= 2, rule.bytes[start] == UInt8(ascii: "\""), rule.bytes[end - 1] == UInt8(ascii: "\"")
        else { throw invalid(option, "the value must be quoted") }
        let inner = (start + 1)..<(end - 1)
        guard let first = inner.first, rule.bytes[first] == UInt8(ascii: "/"),
              let closing = rule.bytes[inner].lastIndex(of: UInt8(ascii: "/")), closing > first
        else { throw invalid(option, "expected \"/pattern/flags\"") }
        guard closing > first + 1 else { throw invalid(option, "empty pattern") }

        var match = PcreMatch(pattern: rule.text((first + 1)..<closing))
        match.negated = negated
        var flagBuffer: SignatureBuffer? = nil
        for index in (closing + 1)..<inner.upperBound {
            let flag = rule.bytes[index]
            var buffer: SignatureBuffer? = nil
            switch flag {
            case UInt8(ascii: "i"): match.caseless = true
            case UInt8(ascii: "s"): match.dotAll = true
            case UInt8(ascii: "m"): match.multiline = true
            case UInt8(ascii: "x"): match.extended = true
            case UInt8(ascii: "A"): match.anchored = true
            case UInt8(ascii: "E"): match.dollarEndOnly = true
            case UInt8(ascii: "G"): match.ungreedy = true
            case UInt8(ascii: "R"): match.relative = true
            case UInt8(ascii: "U"): buffer = .httpURI
            case UInt8(ascii: "I"): buffer = .httpRawURI
            case UInt8(ascii: "P"): buffer = .httpClientBody
            case UInt8(ascii: "H"): buffer = .httpHeader
            case UInt8(ascii: "D"): buffer = .httpRawHeader
            case UInt8(ascii: "M"): buffer = .httpMethod
            case UInt8(ascii: "C"): buffer = .httpCookie
            case UInt8(ascii: "V"): buffer = .httpUserAgent
            case UInt8(ascii: "W"), UInt8(ascii: "Z"): buffer = .httpHost  // Z: raw host, no buffer of its own
            case UInt8(ascii: "O"), UInt8(ascii: "B"):
                break  // O: match-limit override; B: rawbytes (payload is always raw here)
            case UInt8(ascii: "S"), UInt8(ascii: "Y"), UInt8(ascii: "Q"):
                // stat code, stat message, response body
                throw unsupported(option, "pcre/\(Self.shown(flag))",
                                  "pcre flag \(Self.shown(flag)) (a response buffer) is not supported")
            default:
                throw RuleSyntaxError(message: "pcre: unknown flag '\(Self.shown(flag))'", column: index + 1)
            }
            if let buffer {
                if let flagBuffer, flagBuffer != buffer {
                    throw invalid(option, "flags name two buffers (\(flagBuffer.name), \(buffer.name))")
                }
                flagBuffer = buffer
            }
        }
        if let flagBuffer, let sticky, sticky != flagBuffer {
            throw invalid(option, "flag for \(flagBuffer.name) used in sticky buffer \(sticky.name)")
        }
        match.buffer = flagBuffer ?? anchorBuffer(relative: match.relative)
        spec.steps.append(.pcre(match))
        lastMatchStep = spec.steps.count - 1
    }

    /// The buffer of a keyword without its own: the sticky buffer, else for a
    /// relative keyword the buffer of the match it is relative to (Suricata
    /// puts `content:"x"; http_uri; pcre:"/y/R";` on the URI), else the payload.
    func anchorBuffer(relative: Bool) -> SignatureBuffer {
        if let sticky { return sticky }
        if relative, let step = lastMatchStep { return spec.steps[step].buffer }
        return .payload
    }

    /// `bsize:N`, `bsize:<N`, `bsize:N<>M` (Suricata); `bufferlen:...` (Snort 3).
    mutating func bufferSize(_ option: LexedOption) throws(RuleSyntaxError) {
        let text = try plainValue(option)
        let parts = text.split(separator: ",").map(\.trimmingRuleBlanks)
        guard let first = parts.first else { throw invalid(option, "missing value") }
        for extra in parts.dropFirst() {
            guard extra == "relative" else { throw invalid(option, "unknown argument '\(extra)'") }
            throw unsupported(option, option.keyword, "\(option.keyword) relative is not supported")
        }
        guard let range = Self.numericTest(first) else { throw invalid(option, "invalid value '\(text)'") }
        spec.steps.append(.size(BufferSize(buffer: sticky ?? .payload, range: range)))
    }

    /// `urilen:N`, `<N`, `>N`, `N<>M`, with `,norm` (default) or `,raw`.
    mutating func uriLength(_ option: LexedOption) throws(RuleSyntaxError) {
        let text = try plainValue(option)
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingRuleBlanks)
        var buffer = SignatureBuffer.httpURI
        if parts.count == 2 {
            switch parts[1] {
            case "norm": buffer = .httpURI
            case "raw": buffer = .httpRawURI
            default: throw invalid(option, "expected norm or raw, got '\(parts[1])'")
            }
        } else if parts.count > 2 {
            throw invalid(option, "invalid value '\(text)'")
        }
        guard let range = Self.numericTest(parts[0]) else { throw invalid(option, "invalid value '\(text)'") }
        spec.steps.append(.size(BufferSize(buffer: buffer, range: range)))
    }

    /// `isdataat:[!]N[,relative][,rawbytes]`.
    mutating func dataAt(_ option: LexedOption) throws(RuleSyntaxError) {
        var text = try plainValue(option)
        var negated = false
        if text.hasPrefix("!") {
            negated = true
            text.removeFirst()
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingRuleBlanks)
        guard let offset = Int(parts[0]), (0...65535).contains(offset) else {
            throw invalid(option, "invalid offset '\(parts[0])'")
        }
        var relative = false
        for extra in parts.dropFirst() {
            switch extra {
            case "relative": relative = true
            case "rawbytes": break
            default: throw invalid(option, "unknown argument '\(extra)'")
            }
        }
        let test = DataAtTest(buffer: anchorBuffer(relative: relative), offset: offset, relative: relative,
                              negated: negated)
        spec.steps.append(.dataAt(test))
    }
}
