import Foundation
import Testing
import SocfwIDS

// Loading rule files: line handling, duplicates, reports, and the real ET
// Open and Snort 3 community sets (read from /work/shared/data/rulesets, or
// SOCFW_ET_RULES / SOCFW_SNORT_RULES; skipped with a note when absent).

enum RuleSetFixture {
    static let defaultET = "/work/shared/data/rulesets/et-open"
    static let defaultSnort = "/work/shared/data/rulesets/snort-community/snort3-community.rules"

    static var etPath: String { ProcessInfo.processInfo.environment["SOCFW_ET_RULES"] ?? defaultET }
    static var snortPath: String { ProcessInfo.processInfo.environment["SOCFW_SNORT_RULES"] ?? defaultSnort }

    static func exists(_ path: String) -> Bool {
        if FileManager.default.fileExists(atPath: path) { return true }
        print("skipped: rule set \(path) is not present")
        return false
    }
}

@Suite struct RuleFileLoaderTextTests {
    private let text = #"""
        # Example rules

        alert tcp any any -> any 80 (msg:"one"; content:"a"; sid:1;)
        #alert tcp any any -> any 80 (msg:"disabled"; sid:2;)
        # drop udp any any -> any 53 (msg:"disabled too"; sid:3;)
        alert tcp any any -> any 80 (msg:"two"; \
            content:"b"; \
            sid:4;)
        alert dns any any -> any any (msg:"dns"; sid:5;)
        alert tcp any any -> any 80 (msg:"dup"; content:"c"; sid:1;)
        alert tcp any any -> any 80 (msg:"other gid"; gid:2; sid:1;)
        alert tcp any any -> any 80 (msg:"bt"; byte_test:1,=,1,0; sid:6;)
        garbage line
        alert tcp any any -> any 80 (msg:"broken"; content:"x; sid:7;)
        """#

    @Test func countsLinesRulesAndSkips() throws {
        let result = RuleFileLoader().load(text: text, file: "local.rules")
        let report = result.report
        #expect(report.files == ["local.rules"])
        #expect(report.rulesSeen == 8)
        #expect(report.loaded == 3)
        #expect(report.skipped == 5)
        #expect(report.commentedOut == 2)
        #expect(report.blankOrCommentLines == 2)
        #expect(report.skippedByKeyword == ["protocol dns": 1, "duplicate sid": 1, "byte_test": 1, "syntax": 2])
        #expect(result.signatures.map(\.sid) == [1, 4, 1])
        #expect(result.signatures.map(\.gid) == [1, 1, 2])
        #expect(result.signatures[1].origin == SignatureOrigin(file: "local.rules", line: 6))
        #expect(result.signatures[1].steps.count == 1)
        #expect(report.samples.map(\.origin.line) == [9, 10, 12, 13, 14])
        #expect(report.samples[1].message == "duplicate sid 1:1 (first loaded at local.rules:3)")
        #expect(report.samples[1].sid == 1)
        #expect(report.samples[4].sid == 7)
    }

    @Test func reportRenderings() throws {
        let rules = """
            alert tcp any any -> any 80 (msg:"one"; sid:1;)
            alert dns any any -> any any (msg:"dns \\"q\\""; sid:5;)
            #alert tcp any any -> any 80 (sid:2;)
            """
        let report = RuleFileLoader().load(text: rules, file: "a.rules").report
        #expect(report.json == #"{"files":["a.rules"],"rules_seen":2,"loaded":1,"skipped":1,"skipped_per_keyword":{"protocol dns":1},"commented_out":1,"blank_or_comment_lines":0,"samples":[{"file":"a.rules","line":2,"column":7,"sid":5,"keyword":"protocol dns","message":"protocol dns is not supported"}]}"#)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(json["rules_seen"] as? Int == 2)
        #expect(report.text == """
            2 rules in 1 file(s): 1 loaded, 1 skipped, 1 commented out
            skipped by keyword:
                   1  protocol dns
            skipped rules:
              a.rules:2:7: protocol dns is not supported (sid 5)

            """)
    }

    @Test func sampleLimitBoundsTheDetail() {
        let rules = (1...10).map { "alert dns any any -> any any (sid:\($0);)" }.joined(separator: "\n")
        let report = RuleFileLoader(sampleLimit: 3).load(text: rules, file: "x").report
        #expect(report.skipped == 10)
        #expect(report.samples.count == 3)
        #expect(report.text.contains("first 3 skipped rules:"))
    }

    @Test func continuationAtEndOfFileAndCRLF() {
        let result = RuleFileLoader().load(text: "alert tcp any any -> any any (sid:1;)\r\nalert tcp any any -> any any (\\\nsid:2;)\\", file: "x")
        #expect(result.report.rulesSeen == 2)
        #expect(result.report.loaded == 2)
    }
}

@Suite struct RuleFileLoaderFileTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "socfw-rules-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func directoryFilesAreLoadedSortedAndEarlierFilesWin() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "alert tcp any any -> any any (msg:\"b\"; sid:1;)\n".write(toFile: dir + "/b.rules", atomically: true, encoding: .utf8)
        try "alert tcp any any -> any any (msg:\"a\"; sid:1;)\nalert tcp any any -> any any (sid:2;)\n"
            .write(toFile: dir + "/a.rules", atomically: true, encoding: .utf8)
        try "not rules".write(toFile: dir + "/classification.config", atomically: true, encoding: .utf8)
        let result = try RuleFileLoader().load(path: dir)
        #expect(result.report.files == [dir + "/a.rules", dir + "/b.rules"])
        #expect(result.signatures.map(\.message) == ["a", ""])
        #expect(result.report.skippedByKeyword == ["duplicate sid": 1])
        #expect(result.report.samples.first?.origin == SignatureOrigin(file: dir + "/b.rules", line: 1))
    }

    @Test func missingFileIsAnErrorNamingIt() {
        #expect(throws: RuleFileError.unreadable(path: "/nonexistent/x.rules", reason: "no such file or directory")) {
            try RuleFileLoader().load(paths: ["/nonexistent/x.rules"])
        }
    }

    @Test func invalidUTF8IsKeptAsBytes() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bytes = Array("alert tcp any any -> any any (content:\"".utf8)
        bytes += [0xFF, 0xC0]
        bytes += Array("\"; sid:1;)\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/bin.rules"))
        let result = try RuleFileLoader().load(path: dir + "/bin.rules")
        #expect(result.signatures.first?.steps == [.content(ContentMatch(bytes: [0xFF, 0xC0]))])
    }
}

@Suite struct RealRuleSetTests {
    @Test func etOpenLoadsCompletely() throws {
        let path = RuleSetFixture.etPath
        guard RuleSetFixture.exists(path) else { return }
        let clock = ContinuousClock()
        var result = RuleLoadResult()
        let elapsed = try clock.measure { result = try RuleFileLoader().load(path: path) }
        let report = result.report
        print("ET Open (\(path)) in \(elapsed):\n\(report.text.split(separator: "\n").prefix(40).joined(separator: "\n"))")
        if path == RuleSetFixture.defaultET {
            #expect(report.rulesSeen == 15_021)
            #expect(report.commentedOut == 10_384)
        }
        #expect(report.loaded + report.skipped == report.rulesSeen)
        #expect(report.loaded * 2 > report.rulesSeen)
        #expect(result.signatures.count == report.loaded)
        #expect(report.skippedByKeyword["syntax", default: 0] == 0)
        #expect(report.skippedByKeyword["duplicate sid", default: 0] == 0)
        let keys = result.signatures.map { UInt64($0.gid) << 32 | UInt64($0.sid) }
        #expect(Set(keys).count == keys.count)
    }

    @Test func snortCommunityLoadsCompletely() throws {
        let path = RuleSetFixture.snortPath
        guard RuleSetFixture.exists(path) else { return }
        let clock = ContinuousClock()
        var result = RuleLoadResult()
        let elapsed = try clock.measure { result = try RuleFileLoader().load(path: path) }
        let report = result.report
        print("Snort 3 community (\(path)) in \(elapsed):\n\(report.text.split(separator: "\n").prefix(40).joined(separator: "\n"))")
        if path == RuleSetFixture.defaultSnort {
            #expect(report.rulesSeen == 4_017)
        }
        #expect(report.loaded + report.skipped == report.rulesSeen)
        #expect(report.loaded * 2 > report.rulesSeen)
        #expect(report.skippedByKeyword["syntax", default: 0] == 0)
        let keys = result.signatures.map { UInt64($0.gid) << 32 | UInt64($0.sid) }
        #expect(Set(keys).count == keys.count)
        // Every Snort 3 rule with comma modifiers or service: was read in the Snort dialect:
        // no content was left in the payload right after a Snort `http_uri;`.
        let uriRule = try #require(result.signatures.first { $0.steps.contains { $0.buffer == .httpURI } })
        #expect(uriRule.steps.contains { $0.buffer == .httpURI })
    }
}
