// `content`, its modifiers, and the keywords that choose a buffer.

extension RuleOptionParser {
    /// Sticky buffers in both dialects: the contents, pcres, `bsize` and
    /// `isdataat` after them inspect this buffer. Suricata's dotted names, the
    /// underscore names Suricata 4/5 used for the same sticky buffers, and
    /// Snort 3's `http_raw_request`; `pkt_data` returns to the payload.
    static let stickyBuffers: [String: SignatureBuffer] = [
        "pkt_data": .payload,
        "http.uri": .httpURI,
        "http.uri.raw": .httpRawURI,
        "http.method": .httpMethod,
        "http.request_line": .httpRequestLine, "http_request_line": .httpRequestLine,
        "http_raw_request": .httpRequestLine,
        "http.header": .httpHeader,
        "http.header.raw": .httpRawHeader,
        "http.cookie": .httpCookie,
        "http.user_agent": .httpUserAgent,
        "http.host": .httpHost,
        // No raw-host buffer: the normalised host is the closest.
        "http.host.raw": .httpHost,
        "http.request_body": .httpClientBody,
        "http.protocol": .httpProtocol, "http_protocol": .httpProtocol,
        "http.referer": .httpReferer, "http_referer": .httpReferer,
        "http.content_type": .httpContentType, "http_content_type": .httpContentType,
        "http.accept": .httpAccept, "http_accept": .httpAccept,
        "http.accept_lang": .httpAcceptLanguage, "http_accept_lang": .httpAcceptLanguage,
        "http.accept_enc": .httpAcceptEncoding, "http_accept_enc": .httpAcceptEncoding,
        "http.connection": .httpConnection, "http_connection": .httpConnection,
        "http.content_len": .httpContentLength, "http_content_len": .httpContentLength,
        "http.header_names": .httpHeaderNames, "http_header_names": .httpHeaderNames,
        "http.start": .httpStart, "http_start": .httpStart,
    ]

    /// Suricata content modifiers (they move the content before them) that
    /// Snort 3 uses as sticky buffers (for the contents after them).
    static let legacyBuffers: [String: SignatureBuffer] = [
        "http_uri": .httpURI,
        "http_raw_uri": .httpRawURI,
        "http_method": .httpMethod,
        "http_header": .httpHeader,
        "http_raw_header": .httpRawHeader,
        "http_cookie": .httpCookie,
        "http_user_agent": .httpUserAgent,
        "http_host": .httpHost,
        "http_raw_host": .httpHost,
        "http_client_body": .httpClientBody,
    ]

    /// Keywords not handled elsewhere: buffer selectors, or unsupported.
    mutating func bufferKeyword(_ option: LexedOption) throws(RuleSyntaxError) {
        let keyword = option.keyword
        if let buffer = Self.stickyBuffers[keyword] {
            guard option.value == nil else {
                throw unsupported(option, keyword, "\(keyword) with an argument is not supported")
            }
            sticky = buffer
        } else if let buffer = Self.legacyBuffers[keyword] {
            guard option.value == nil else {
                throw unsupported(option, keyword, "\(keyword) with an argument is not supported")
            }
            if dialect == .snort3 {
                sticky = buffer
            } else {
                try moveLastContent(to: buffer, option)
            }
        } else {
            throw unsupported(option)
        }
    }

    /// Suricata's `content:"x"; http_uri;`.
    private mutating func moveLastContent(to buffer: SignatureBuffer, _ option: LexedOption) throws(RuleSyntaxError) {
        guard var last = lastContent, case .content(var match) = spec.steps[last.step] else {
            throw invalid(option, "needs a preceding content")
        }
        guard !last.fromSticky else {
            throw invalid(option, "cannot move a content that is in a sticky buffer")
        }
        guard !last.modifiers.contains(.buffer) else {
            throw invalid(option, "the content already has a buffer modifier")
        }
        last.modifiers.insert(.buffer)
        match.buffer = buffer
        spec.steps[last.step] = .content(match)
        lastContent = last
    }

    // MARK: content

    mutating func content(_ option: LexedOption, buffer forced: SignatureBuffer?) throws(RuleSyntaxError) {
        guard let range = option.value, !range.isEmpty else { throw invalid(option, "missing value") }
        let (bytes, negated, rest) = try contentString(range, option)
        if let forced, let sticky, forced != sticky {
            throw invalid(option, "cannot be used in sticky buffer \(sticky.name)")
        }
        var match = ContentMatch(bytes: bytes, buffer: forced ?? sticky ?? .payload)
        match.negated = negated
        spec.steps.append(.content(match))
        lastContent = LastContent(step: spec.steps.count - 1, fromSticky: sticky != nil || forced != nil)
        lastMatchStep = spec.steps.count - 1
        guard !rest.isEmpty else { return }
        guard rule.bytes[rest.lowerBound] == UInt8(ascii: ","), dialect == .snort3 else {
            throw invalid(option, "unexpected text after the content string")
        }
        // Snort 3: `content:"x",nocase,depth 4,offset 2;`
        for part in rule.bytes[(rest.lowerBound + 1)..<rest.upperBound].split(separator: UInt8(ascii: ","),
                                                                            omittingEmptySubsequences: false) {
            let text = String(decoding: part, as: UTF8.self).trimmingRuleBlanks
            let name: String, argument: String?
            if let blank = text.firstIndex(where: { $0 == " " || $0 == "\t" }) {
                name = String(text[..<blank])
                argument = text[blank...].trimmingRuleBlanks
            } else {
                name = text
                argument = nil
            }
            try applyContentModifier(name, argument: argument, option)
        }
    }

    /// `nocase;`, `depth:4;`, `fast_pattern:only;` ... after a content.
    mutating func separateContentModifier(_ option: LexedOption) throws(RuleSyntaxError) {
        try applyContentModifier(option.keyword, argument: option.value.map(rule.text), option)
    }

    private mutating func applyContentModifier(_ name: String, argument: String?,
                                               _ option: LexedOption) throws(RuleSyntaxError) {
        guard var last = lastContent, case .content(var match) = spec.steps[last.step] else {
            throw RuleSyntaxError(message: "\(name) needs a preceding content", column: option.column)
        }
        func fail(_ message: String) -> RuleSyntaxError {
            RuleSyntaxError(message: "\(name): \(message)", column: option.column)
        }
        func mark(_ modifier: ContentModifiers) throws(RuleSyntaxError) {
            guard !last.modifiers.contains(modifier) else { throw fail("given twice for the same content") }
            if !ContentModifiers.relative.isDisjoint(with: modifier.union(last.modifiers))
                && !ContentModifiers.absolute.isDisjoint(with: modifier.union(last.modifiers)) {
                throw fail("offset/depth/startswith cannot be mixed with distance/within on one content")
            }
            last.modifiers.insert(modifier)
        }
        func number(_ range: ClosedRange<Int>) throws(RuleSyntaxError) -> Int {
            guard let argument, let value = Int(argument.trimmingRuleBlanks) else {
                throw fail("expects a number, got '\(argument ?? "")'")
            }
            guard range.contains(value) else { throw fail("\(value) is out of range") }
            return value
        }
        func noArgument() throws(RuleSyntaxError) {
            if let argument, !argument.trimmingRuleBlanks.isEmpty { throw fail("takes no value") }
        }
        let length = match.bytes.count
        switch name {
        case "nocase":
            try noArgument()
            try mark(.nocase)
            match.nocase = true
        case "offset":
            match.offset = try number(0...65535)
            try mark(.offset)
        case "depth":
            let depth = try number(1...65535)
            guard depth >= length else { throw fail("\(depth) is smaller than the content length \(length)") }
            try mark(.depth)
            match.depth = depth
        case "distance":
            match.distance = try number(-65535...65535)
            try mark(.distance)
        case "within":
            let within = try number(1...65535)
            guard within >= length else { throw fail("\(within) is smaller than the content length \(length)") }
            try mark(.within)
            match.within = within
        case "fast_pattern", "fast_pattern_only":
            // `fast_pattern:only` and `fast_pattern:offset,length` only tune which
            // part of the content is prefiltered; the content is matched in full anyway.
            if let argument, name == "fast_pattern" {
                let text = argument.trimmingRuleBlanks
                let parts = text.split(separator: ",", omittingEmptySubsequences: false)
                guard text.isEmpty || text == "only"
                    || (parts.count == 2 && parts.allSatisfy({ Int($0.trimmingRuleBlanks).map { $0 >= 0 } ?? false }))
                else { throw fail("expects 'only' or 'offset,length', got '\(text)'") }
            } else {
                try noArgument()
            }
            try mark(.fastPattern)
            match.fastPattern = true
        case "fast_pattern_offset", "fast_pattern_length":
            _ = try number(0...65535)
        case "startswith":
            try noArgument()
            guard last.modifiers.isDisjoint(with: [.offset, .depth, .distance, .within]) else {
                throw fail("cannot be combined with offset, depth, distance or within")
            }
            try mark(.startsWith)
            match.offset = 0
            match.depth = length
        case "endswith":
            try noArgument()
            try mark(.endsWith)
            match.endsWith = true
        default:
            throw fail("unknown content modifier")
        }
        if (name == "offset" || name == "depth") && last.modifiers.contains(.startsWith) {
            throw fail("cannot be combined with startswith")
        }
        spec.steps[last.step] = .content(match)
        lastContent = last
    }

    /// The bytes of `[!]"text|48 49|text"`, and the range after the closing quote.
    private func contentString(_ range: Range<Int>, _ option: LexedOption)
        throws(RuleSyntaxError) -> ([UInt8], Bool, Range<Int>) {
        let bytes = rule.bytes
        let end = range.upperBound
        var i = range.lowerBound
        var negated = false
        if bytes[i] == UInt8(ascii: "!") {
            negated = true
            i = RuleLexer.skipBlanks(bytes, from: i + 1, to: end)
        }
        guard i < end, bytes[i] == UInt8(ascii: "\"") else { throw invalid(option, "the value must be quoted") }
        i += 1
        var out: [UInt8] = []
        out.reserveCapacity(end - i)
        var inHex = false
        var highNibble: UInt8? = nil
        var closed = false
        while i < end {
            let byte = bytes[i]
            if inHex {
                if byte == UInt8(ascii: "\"") {
                    break
                } else if byte == UInt8(ascii: "|") {
                    guard highNibble == nil else {
                        throw RuleSyntaxError(message: "content: odd number of hex digits", column: i + 1)
                    }
                    inHex = false
                } else if let nibble = Self.hexValue(byte) {
                    if let high = highNibble {
                        out.append(high << 4 | nibble)
                        highNibble = nil
                    } else {
                        highNibble = nibble
                    }
                } else if !(RuleLexer.isBlank(byte) && highNibble == nil) {
                    throw RuleSyntaxError(message: "content: invalid hex '\(Self.shown(byte))'", column: i + 1)
                }
                i += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                closed = true
            case UInt8(ascii: "|"):
                inHex = true
            case UInt8(ascii: "\\"):
                guard i + 1 < end, [UInt8(ascii: "\""), UInt8(ascii: ";"), UInt8(ascii: "\\"),
                                    UInt8(ascii: ":")].contains(bytes[i + 1])
                else {
                    let next = i + 1 < end ? Self.shown(bytes[i + 1]) : ""
                    throw RuleSyntaxError(message: "content: invalid escape '\\\(next)'", column: i + 1)
                }
                out.append(bytes[i + 1])
                i += 1
            default:
                out.append(byte)
            }
            i += 1
            if closed { break }
        }
        guard closed else {
            throw invalid(option, inHex ? "unterminated hex sequence" : "unterminated quote")
        }
        guard !out.isEmpty else { throw invalid(option, "empty content") }
        return (out, negated, RuleLexer.trimmed(bytes, i..<end))
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func shown(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }
}
