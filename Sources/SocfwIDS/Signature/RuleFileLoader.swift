import Foundation

// Reads `.rules` files: joins `\` continuation lines, sorts lines into rules,
// commented-out rules and other comments, parses each rule and refuses a
// second rule with the same (gid, sid).

/// The signatures of a rule set and the report of how they were loaded.
public struct RuleLoadResult: Sendable {
    public var signatures: [SignatureSpec]
    public var report: RuleLoadReport

    public init(signatures: [SignatureSpec] = [], report: RuleLoadReport = RuleLoadReport()) {
        self.signatures = signatures
        self.report = report
    }
}

/// A rule file or directory that could not be read.
public enum RuleFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read rules: \(reason)"
        }
    }
}

/// Loads rule files with one `RuleParser`.
public struct RuleFileLoader: Sendable {
    public var parser: RuleParser
    /// How many skipped rules the report keeps in detail.
    public var sampleLimit: Int

    public init(parser: RuleParser = RuleParser(), sampleLimit: Int = 200) {
        self.parser = parser
        self.sampleLimit = sampleLimit
    }

    /// Loads files and directories in the order given; a directory contributes
    /// its `*.rules` files (not recursively), sorted by name. Rules from later
    /// files lose to earlier ones on a duplicate (gid, sid).
    public func load(paths: [String]) throws(RuleFileError) -> RuleLoadResult {
        var files: [String] = []
        for path in paths { files += try Self.ruleFiles(at: path) }
        var accumulator = Accumulator(sampleLimit: sampleLimit)
        for file in files {
            let bytes: [UInt8]
            do {
                bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw .unreadable(path: file, reason: Self.reason(error))
            }
            accumulator.add(bytes: bytes, file: file, parser: parser)
        }
        return accumulator.result
    }

    public func load(path: String) throws(RuleFileError) -> RuleLoadResult {
        try load(paths: [path])
    }

    /// Loads rules from text as if it were the file `file`.
    public func load(text: String, file: String) -> RuleLoadResult {
        var accumulator = Accumulator(sampleLimit: sampleLimit)
        accumulator.add(bytes: Array(text.utf8), file: file, parser: parser)
        return accumulator.result
    }

    static func ruleFiles(at path: String) throws(RuleFileError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw .unreadable(path: path, reason: reason(error))
        }
        let base = path.hasSuffix("/") ? path : path + "/"
        return names.filter { $0.hasSuffix(".rules") }.sorted().map { base + $0 }
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? error.localizedDescription
    }

    /// Lines -> rules -> signatures, across files.
    struct Accumulator {
        var signatures: [SignatureSpec] = []
        var report: RuleLoadReport
        private var firstOrigin: [UInt64: SignatureOrigin] = [:]

        init(sampleLimit: Int) {
            report = RuleLoadReport(sampleLimit: sampleLimit)
        }

        var result: RuleLoadResult { RuleLoadResult(signatures: signatures, report: report) }

        mutating func add(bytes: [UInt8], file: String, parser: RuleParser) {
            report.files.append(file)
            var pending: [UInt8] = []
            var pendingLine = 0
            var lineNumber = 0
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
                lineNumber += 1
                var lineEnd = end
                if lineEnd > start, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                let line = bytes[start..<lineEnd]
                start = end + 1
                if pending.isEmpty { pendingLine = lineNumber }
                // `\` at the end of a line continues the rule on the next one; the
                // backslash is dropped and nothing is inserted, as in Suricata.
                if line.last == UInt8(ascii: "\\") {
                    pending += line.dropLast()
                    continue
                }
                if pending.isEmpty {
                    add(line: Array(line), file: file, lineNumber: lineNumber, parser: parser)
                } else {
                    pending += line
                    add(line: pending, file: file, lineNumber: pendingLine, parser: parser)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            if !pending.isEmpty { add(line: pending, file: file, lineNumber: pendingLine, parser: parser) }
        }

        private mutating func add(line: [UInt8], file: String, lineNumber: Int, parser: RuleParser) {
            let first = RuleLexer.skipBlanks(line, from: 0, to: line.count)
            if first == line.count {
                report.blankOrCommentLines += 1
                return
            }
            if line[first] == UInt8(ascii: "#") {
                if Self.isRule(line, from: first + 1) {
                    report.commentedOut += 1
                } else {
                    report.blankOrCommentLines += 1
                }
                return
            }
            let origin = SignatureOrigin(file: file, line: lineNumber)
            switch parser.parse(bytes: line, origin: origin) {
            case .success(let signature):
                let key = UInt64(signature.gid) << 32 | UInt64(signature.sid)
                if let earlier = firstOrigin[key] {
                    report.recordSkipped(RuleSkip(
                        origin: origin, sid: signature.sid, keyword: "duplicate sid",
                        message: "duplicate sid \(signature.gid):\(signature.sid) (first loaded at \(earlier))",
                        column: nil))
                } else {
                    firstOrigin[key] = origin
                    signatures.append(signature)
                    report.recordLoaded()
                }
            case .failure(let skip):
                report.recordSkipped(skip)
            }
        }

        /// `#alert ...`, `# drop ...`: a rule someone disabled.
        static func isRule(_ line: [UInt8], from start: Int) -> Bool {
            let wordStart = RuleLexer.skipBlanks(line, from: start, to: line.count)
            var wordEnd = wordStart
            while wordEnd < line.count, line[wordEnd] >= UInt8(ascii: "a"), line[wordEnd] <= UInt8(ascii: "z") {
                wordEnd += 1
            }
            guard wordEnd < line.count, RuleLexer.isBlank(line[wordEnd]) else { return false }
            let word = String(decoding: line[wordStart..<wordEnd], as: UTF8.self)
            return RuleHeader.action(named: word) != nil
        }
    }
}
