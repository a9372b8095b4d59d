// What loading a rule set did: counts, skip reasons per keyword, and the
// first skipped rules in detail, as text for people and JSON for tools.

/// The outcome of loading one or more rule files.
///
/// Invariant: `loaded + skipped == rulesSeen`.
public struct RuleLoadReport: Sendable, Equatable {
    /// The files read, in order.
    public var files: [String] = []
    /// Active rule lines (continuations joined), whatever became of them.
    public var rulesSeen = 0
    public var loaded = 0
    public var skipped = 0
    /// Skipped rules per `RuleSkip.keyword` (`byte_test`, `protocol dns`, `syntax`, ...).
    public var skippedByKeyword: [String: Int] = [:]
    /// Rules disabled with a leading `#` (`#alert ...`); not counted in `rulesSeen`.
    public var commentedOut = 0
    /// Blank lines and other comments.
    public var blankOrCommentLines = 0
    /// The first `sampleLimit` skips in load order, with origin, sid, reason and column.
    public var samples: [RuleSkip] = []
    public var sampleLimit: Int

    public init(sampleLimit: Int = 200) {
        self.sampleLimit = sampleLimit
    }

    mutating func recordLoaded() {
        rulesSeen += 1
        loaded += 1
    }

    mutating func recordSkipped(_ skip: RuleSkip) {
        rulesSeen += 1
        skipped += 1
        skippedByKeyword[skip.keyword, default: 0] += 1
        if samples.count < sampleLimit { samples.append(skip) }
    }

    /// Keywords by descending count, ties by name.
    public var skippedKeywordsByCount: [(keyword: String, count: Int)] {
        skippedByKeyword.map { (keyword: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.keyword < $1.keyword }
    }

    /// A human summary: totals, skip reasons by count, then the sampled skips.
    public var text: String {
        var lines = ["\(rulesSeen) rules in \(files.count) file(s): \(loaded) loaded, \(skipped) skipped, "
                     + "\(commentedOut) commented out"]
        if !skippedByKeyword.isEmpty {
            lines.append("skipped by keyword:")
            for (keyword, count) in skippedKeywordsByCount {
                lines.append("  \(String(repeating: " ", count: max(0, 6 - String(count).count)))\(count)  \(keyword)")
            }
        }
        if !samples.isEmpty {
            lines.append(samples.count < skipped ? "first \(samples.count) skipped rules:" : "skipped rules:")
            for sample in samples { lines.append("  \(sample)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `{"files":[...],"rules_seen":N,"loaded":N,"skipped":N,"skipped_per_keyword":{...},
    /// "commented_out":N,"blank_or_comment_lines":N,"samples":[{"file","line","column","sid","keyword","message"}]}`;
    /// keywords in descending count order.
    public var json: String {
        var out = "{\"files\":[" + files.map(Self.quoted).joined(separator: ",") + "]"
        out += ",\"rules_seen\":\(rulesSeen),\"loaded\":\(loaded),\"skipped\":\(skipped)"
        out += ",\"skipped_per_keyword\":{"
        out += skippedKeywordsByCount.map { "\(Self.quoted($0.keyword)):\($0.count)" }.joined(separator: ",")
        out += "},\"commented_out\":\(commentedOut),\"blank_or_comment_lines\":\(blankOrCommentLines)"
        out += ",\"samples\":["
        out += samples.map { sample in
            "{\"file\":\(Self.quoted(sample.origin.file)),\"line\":\(sample.origin.line)"
                + ",\"column\":\(sample.column.map(String.init) ?? "null")"
                + ",\"sid\":\(sample.sid.map(String.init) ?? "null")"
                + ",\"keyword\":\(Self.quoted(sample.keyword)),\"message\":\(Self.quoted(sample.message))}"
        }.joined(separator: ",")
        return out + "]}"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
