// Small value grammars: numeric comparisons, TCP flags, flow, flowbits,
// threshold / detection_filter.

extension RuleOptionParser {
    func numericTest(_ option: LexedOption) throws(RuleSyntaxError) -> NumericTest {
        let text = try plainValue(option)
        guard let test = Self.numericTest(text) else { throw invalid(option, "invalid value '\(text)'") }
        return test
    }

    /// `N`, `=N`, `!N`, `<N`, `>N`, `<=N`, `>=N`, and the exclusive ranges
    /// `N<>M` / `N-M` (Suricata); Snort 3's inclusive `N<=>M` becomes the
    /// exclusive range one wider on each side. Numbers are non-negative.
    static func numericTest(_ text: String) -> NumericTest? {
        let compact = String(text.unicodeScalars.filter { $0 != " " && $0 != "\t" })
        func number(_ part: Substring) -> Int? {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), part.utf8.count <= 10 else {
                return nil
            }
            return Int(part)
        }
        for (separator, inclusive) in [("<=>", true), ("<>", false), ("-", false)] {
            guard let found = compact.range(of: separator) else { continue }
            guard let low = number(compact[..<found.lowerBound]), let high = number(compact[found.upperBound...])
            else { return nil }
            let (lower, upper) = inclusive ? (low - 1, high + 1) : (low, high)
            guard lower < upper else { return nil }
            return NumericTest(.range, lower, high: upper)
        }
        for (prefix, op) in [("<=", NumericTest.Op.lessOrEqual), (">=", .greaterOrEqual), ("<", .less),
                             (">", .greater), ("!", .notEqual), ("=", .equal)] where compact.hasPrefix(prefix) {
            return number(compact.dropFirst(prefix.count)).map { NumericTest(op, $0) }
        }
        return number(Substring(compact)).map { NumericTest(.equal, $0) }
    }

    /// `flags:[!+*]FSRPAUCE120[+*!][,mask]`; the modifier may come before or after the letters.
    func tcpFlags(_ option: LexedOption) throws(RuleSyntaxError) -> TCPFlagsTest {
        let text = try plainValue(option)
        let parts = text.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        var letters = Substring(parts[0].trimmingRuleBlanks)
        var mode = TCPFlagsTest.Mode.exact
        for _ in 0..<2 {
            guard let modifier = [letters.first, letters.last].compactMap({ $0 }).first(where: { "+*!".contains($0) })
            else { break }
            guard mode == .exact else { throw invalid(option, "more than one modifier in '\(text)'") }
            switch modifier {
            case "+": mode = .all
            case "*": mode = .any
            default: mode = .not
            }
            if letters.first == modifier { letters.removeFirst() } else { letters.removeLast() }
        }
        guard !letters.isEmpty, let flags = Self.flagBits(letters) else {
            throw invalid(option, "invalid flags '\(text)'")
        }
        var ignore: UInt8 = 0
        if parts.count == 2 {
            let mask = Substring(parts[1].trimmingRuleBlanks)
            guard !mask.isEmpty, let bits = Self.flagBits(mask) else { throw invalid(option, "invalid mask '\(mask)'") }
            ignore = bits
        }
        return TCPFlagsTest(flags: flags, mode: mode, ignore: ignore)
    }

    private static func flagBits(_ letters: Substring) -> UInt8? {
        var bits: UInt8 = 0
        for letter in letters.uppercased() {
            switch letter {
            case "F": bits |= 0x01
            case "S": bits |= 0x02
            case "R": bits |= 0x04
            case "P": bits |= 0x08
            case "A": bits |= 0x10
            case "U": bits |= 0x20
            case "E", "2": bits |= 0x40
            case "C", "1": bits |= 0x80
            case "0": break
            default: return nil
            }
        }
        return bits
    }

    func flow(_ option: LexedOption) throws(RuleSyntaxError) -> FlowTest {
        var flow = FlowTest()
        for part in try plainValue(option).split(separator: ",") {
            let word = part.trimmingRuleBlanks.lowercased()
            switch word {
            case "to_server", "from_client": flow.toServer = true
            case "to_client", "from_server": flow.toClient = true
            case "established": flow.established = true
            case "not_established": flow.notEstablished = true
            case "stateless": flow.stateless = true
            case "only_stream": flow.onlyStream = true
            case "no_stream": flow.noStream = true
            case "": throw invalid(option, "empty item")
            default: throw unsupported(option, "flow:\(word)", "flow:\(word) is not supported")
            }
        }
        if flow.toServer && flow.toClient { throw invalid(option, "to_server and to_client together") }
        if flow.established && (flow.notEstablished || flow.stateless) {
            throw invalid(option, "established with not_established or stateless")
        }
        if flow.onlyStream && flow.noStream { throw invalid(option, "only_stream and no_stream together") }
        return flow
    }

    /// `set|unset|toggle,name[&name]`, `isset|isnotset,a|b` (any) or `a&b` (all), `noalert`.
    /// A single name in `isset`/`isnotset` is recorded with `all: true`.
    mutating func flowbits(_ option: LexedOption) throws(RuleSyntaxError) {
        let text = try plainValue(option)
        let parts = text.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        let command = parts[0].trimmingRuleBlanks.lowercased()
        let names = parts.count == 2 ? parts[1].trimmingRuleBlanks : ""
        func nameList(_ separator: Character) throws(RuleSyntaxError) -> [String] {
            let list = names.split(separator: separator, omittingEmptySubsequences: false).map(\.trimmingRuleBlanks)
            guard !list.isEmpty, list.allSatisfy({ !$0.isEmpty && !$0.contains(where: { $0 == " " || $0 == "\t" }) })
            else { throw invalid(option, "invalid flowbit names '\(names)'") }
            return list
        }
        switch command {
        case "noalert":
            guard names.isEmpty else { throw invalid(option, "noalert takes no name") }
            spec.flowbits.append(.noAlert)
        case "set", "unset", "toggle":
            guard !names.contains("|") else { throw invalid(option, "\(command) cannot take 'a|b'") }
            for name in try nameList("&") {
                switch command {
                case "set": spec.flowbits.append(.set(name))
                case "unset": spec.flowbits.append(.unset(name))
                default: spec.flowbits.append(.toggle(name))
                }
            }
        case "isset", "isnotset":
            if names.contains("|") && names.contains("&") { throw invalid(option, "mixes '|' and '&'") }
            let any = names.contains("|")
            let list = try nameList(any ? "|" : "&")
            spec.flowbits.append(command == "isset" ? .isSet(list, all: !any) : .isNotSet(list, all: !any))
        case "":
            throw invalid(option, "missing command")
        default:
            throw unsupported(option, "flowbits:\(command)", "flowbits:\(command) is not supported")
        }
    }

    /// `threshold: type T, track K, count N, seconds M` (any order) and
    /// `detection_filter: track K, count N, seconds M`.
    func threshold(_ option: LexedOption, detectionFilter: Bool) throws(RuleSyntaxError) -> ThresholdSpec {
        var fields: [String: String] = [:]
        for part in try plainValue(option).split(separator: ",") {
            let words = part.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count == 2 else {
                throw invalid(option, "expected 'name value', got '\(part.trimmingRuleBlanks)'")
            }
            let key = String(words[0]).lowercased()
            guard ["type", "track", "count", "seconds"].contains(key) else {
                throw invalid(option, "unknown field '\(key)'")
            }
            guard fields.updateValue(String(words[1]), forKey: key) == nil else {
                throw invalid(option, "\(key) given twice")
            }
        }
        let kind: ThresholdSpec.Kind
        if detectionFilter {
            guard fields["type"] == nil else { throw invalid(option, "detection_filter has no type") }
            kind = .detectionFilter
        } else {
            guard let type = fields["type"] else { throw invalid(option, "missing type") }
            switch type {
            case "limit": kind = .limit
            case "threshold": kind = .threshold
            case "both": kind = .both
            default: throw invalid(option, "unknown type '\(type)'")
            }
        }
        guard let trackText = fields["track"] else { throw invalid(option, "missing track") }
        guard let track = ThresholdSpec.Track(rawValue: trackText) else {
            throw invalid(option, "unknown track '\(trackText)'")
        }
        guard let countText = fields["count"], let count = Int(countText), count >= 1 else {
            throw invalid(option, "count must be a positive number")
        }
        guard let secondsText = fields["seconds"], let seconds = Int(secondsText), seconds >= 1 else {
            throw invalid(option, "seconds must be a positive number")
        }
        return ThresholdSpec(kind: kind, track: track, count: count, seconds: seconds)
    }
}
