import Testing
import SocfwCore

@Suite struct ConfigTests {
    @Test func defaultsApplyWhenTheFileIsEmpty() throws {
        let c = try SocfwConfig.parse(yaml: "", file: "/etc/socfw/socfwd.yaml")
        #expect(c.mode == .router)
        #expect(c.queues.bypass)
        #expect(c.queues.failOpen)
        #expect(c.marks.mask == 0xff && c.marks.reject == 1)
        #expect(c.defaultAction == .allow)
        #expect(c.malformedAction == .drop)
    }

    @Test func everyOptionIsRead() throws {
        let yaml = """
            mode: bridge
            queues:
              count: 3
              first: 10
              max_length: 2048
              copy_range: 1500
              fail_open: false
              bypass: false
              gso: false
              receive_buffer_bytes: 1048576
              batch_size: 32
              batch_verdicts: false
            marks: { mask: 0xff00, reject: 0x100, bypass: 0x200 }
            nftables: { table: fw_test, diversion: xtables, priority: -10 }
            rules: rules.d
            default_action: DROP
            malformed_action: ALLOW
            eve: /var/log/socfw/eve.json
            log_level: debug
            """
        let c = try SocfwConfig.parse(yaml: yaml, file: "/etc/socfw/socfwd.yaml")
        #expect(c.mode == .bridge)
        #expect(c.queues.count == 3 && c.queues.first == 10 && c.queues.maxLength == 2048)
        #expect(c.queues.copyRange == 1500 && !c.queues.failOpen && !c.queues.bypass && !c.queues.gso)
        #expect(c.queues.receiveBufferBytes == 1_048_576 && c.queues.batchSize == 32 && !c.queues.batchVerdicts)
        #expect(c.marks.mask == 0xff00 && c.marks.reject == 0x100 && c.marks.bypass == 0x200)
        #expect(c.nftables.table == "fw_test" && c.nftables.diversion == .xtables && c.nftables.priority == -10)
        #expect(c.rulesPath == "/etc/socfw/rules.d")  // relative to the config file
        #expect(c.defaultAction == .drop && c.malformedAction == .allow)
        #expect(c.evePath == "/var/log/socfw/eve.json" && c.logLevel == .debug)
    }

    struct Bad: Sendable, CustomStringConvertible {
        var yaml: String
        var line: Int
        var field: String
        var message: String
        var description: String { message }
    }

    static let badConfigs: [Bad] = [
        Bad(yaml: "mode: router\nqueus: {count: 2}\n", line: 2, field: "queus", message: "unknown key 'queus'"),
        Bad(yaml: "mode: switch\n", line: 1, field: "mode", message: "unknown mode 'switch'"),
        Bad(yaml: "queues:\n  count: 0\n", line: 2, field: "queues.count", message: "out of range 1...64"),
        Bad(yaml: "queues:\n  bypass: maybe\n", line: 2, field: "queues.bypass", message: "expected true or false"),
        Bad(yaml: "default_action: LOG\n", line: 1, field: "default_action", message: "must be ALLOW, DROP or REJECT"),
        Bad(yaml: "marks: { mask: 0xff, reject: 0x100 }\n", line: 1, field: "marks.reject", message: "outside mask"),
        Bad(yaml: "nftables: { table: \"x; flush ruleset\" }\n", line: 1, field: "nftables.table", message: "table name must be"),
        Bad(yaml: "mode: [router\n", line: 2, field: "", message: "YAML syntax error"),
    ]

    @Test(arguments: badConfigs)
    func badConfigurationIsRefusedWithLineAndField(_ bad: Bad) {
        do {
            _ = try SocfwConfig.parse(yaml: bad.yaml, file: "socfwd.yaml")
            Issue.record("accepted: \(bad.yaml)")
        } catch {
            #expect(error.file == "socfwd.yaml")
            #expect(error.line == bad.line, "\(error)")
            #expect(error.field == bad.field, "\(error)")
            #expect(error.description.contains(bad.message), "\(error)")
            #expect(error.description.hasPrefix("socfwd.yaml:\(bad.line)"), "\(error)")
        }
    }

    @Test func missingFileSaysSo() {
        #expect(throws: ConfigError.self) { try SocfwConfig.load(file: "/nonexistent/socfwd.yaml") }
        do {
            _ = try SocfwConfig.load(file: "/nonexistent/socfwd.yaml")
        } catch {
            #expect(error.description.contains("/nonexistent/socfwd.yaml"))
            #expect(error.description.contains("cannot read"))
        }
    }
}
