import Foundation
import Testing
import SocfwIDS

// classification.config parsing and the built-in table.

@Suite struct ClassificationConfigTests {
    @Test func parsesEntriesCommentsAndCommasInDescriptions() throws {
        let text = """
            # comment
            config classification: not-suspicious,Not Suspicious Traffic,3

            config classification: bad-unknown,Potentially Bad Traffic, 2
            config classification:odd,A, b, c,4
            """
        let table = try ClassificationTable.parse(text, file: "c.config")
        #expect(table[name: "not-suspicious"] == Classification(name: "not-suspicious", description: "Not Suspicious Traffic", priority: 3))
        #expect(table[name: "bad-unknown"]?.priority == 2)
        #expect(table[name: "odd"] == Classification(name: "odd", description: "A, b, c", priority: 4))
        #expect(table.entries.count == 3)
    }

    @Test func malformedLinesNameFileAndLine() {
        let cases = [
            "config classification: x,y",
            "config classification: x,y,high",
            "config reference: url http://",
            "classification: x,y,1",
            "config classification: bad name,y,1",
        ]
        for line in cases {
            #expect(throws: ClassificationConfigError.malformedLine(
                file: "c.config", line: 2, reason: "expected 'config classification: name,description,priority'"
            ), "\(line)") {
                try ClassificationTable.parse("# header\n\(line)\n", file: "c.config")
            }
        }
    }

    @Test func defaultTableEqualsSuricataShippedFile() throws {
        let path = (ProcessInfo.processInfo.environment["SOCFW_ET_RULES"] ?? "/work/shared/data/rulesets/et-open")
            + "/classification.config"
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipped: \(path) not present")
            return
        }
        let shipped = try ClassificationTable.load(path: path)
        // ET's copy lacks only Suricata's inappropriate-content.
        var expected = ClassificationTable.default
        #expect(expected[name: "inappropriate-content"]?.priority == 1)
        expected = ClassificationTable(expected.entries.values.filter { $0.name != "inappropriate-content" })
        #expect(shipped == expected)
    }

    @Test func unreadableFileIsAnError() {
        #expect(throws: ClassificationConfigError.unreadable(file: "/nonexistent/c.config",
                                                             reason: "no such file or not readable")) {
            try ClassificationTable.load(path: "/nonexistent/c.config")
        }
    }

    @Test func parserUsesACustomTable() throws {
        var table = ClassificationTable.default
        table.merge(ClassificationTable([Classification(name: "local", description: "Local", priority: 4)]))
        let parser = RuleParser(classifications: table)
        let spec = try parser.parse("alert ip any any -> any any (classtype:local; sid:1;)",
                                    origin: SignatureOrigin(file: "t", line: 1)).get()
        #expect(spec.priority == 4)
        #expect(spec.category == "Local")
        #expect(spec.severity == .low)
    }
}
