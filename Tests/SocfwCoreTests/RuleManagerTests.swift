import Foundation
import Synchronization
import Testing
import SocfwCore

/// A fresh rules directory per test, removed when the test ends.
private final class RulesDirectory {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("socfw-rulemgr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: file(name), atomically: false, encoding: .utf8)
    }

    func bytes(_ name: String) -> Data? { FileManager.default.contents(atPath: file(name)) }
}

@Suite struct RuleManagerTests {
    static let base = """
        groups:
          web: [80, 443]
        rules:
          - name: base-allow-admin
            action: ALLOW
            priority: 1
            conditions:
              - { field: src_ip, operator: cidr, value: 198.18.9.0/24 }
          - name: base-drop-telnet
            action: DROP
            enabled: false
            conditions:
              - { field: dst_port, operator: eq, value: 23 }
        """

    static let managed = """
        rules:
          - name: m-one
            action: LOG
            conditions:
              - { field: dst_port, operator: in, value: ["@web"] }
          - name: m-two
            action: DROP
            priority: 5
          - name: m-three
            action: ALERT
        """

    /// A directory with `10-base.yaml` and, unless `managed` is nil, `90-managed.yaml`.
    private func setUp(managed: String? = Self.managed) throws -> (RulesDirectory, RuleManager) {
        let dir = try RulesDirectory()
        try dir.write("10-base.yaml", Self.base)
        if let managed { try dir.write("90-managed.yaml", managed) }
        return (dir, RuleManager(rulesDirectory: dir.path))
    }

    private func managedNames(_ rules: [Rule], _ dir: RulesDirectory) -> [String] {
        rules.filter { $0.file == dir.file("90-managed.yaml") }.map(\.name)
    }

    /// The error `body` throws, or nil (recorded as a failure) when it does not throw.
    func refusal(_ body: () throws(ConfigError) -> [Rule], sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
        do {
            let rules = try body()
            Issue.record("expected a refusal, got \(rules.map(\.name))", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test func listCoversEveryFileInLoadOrderAndMarksManagedRules() throws {
        let (dir, manager) = try setUp()
        let list = try manager.list()
        #expect(list.map(\.spec.name) == ["base-allow-admin", "base-drop-telnet", "m-one", "m-two", "m-three"])
        #expect(list.map(\.managed) == [false, false, true, true, true])
        #expect(list[1].spec.enabled == false)
        #expect(list[1].origin == dir.file("10-base.yaml") + ":9")
        #expect(list[2].file == dir.file("90-managed.yaml"))
        #expect(list[2].spec.conditions == [ConditionSpec(field: "dst_port", operator: "in", value: .list(["@web"]))])
        #expect(list.map(\.spec) == (try RulesLoader.load(path: dir.path)).map(\.spec))
    }

    @Test func addCreatesTheManagedFileAndTheLoaderAgrees() throws {
        let (dir, manager) = try setUp(managed: nil)
        let spec = RuleSpec(name: "block-smb", id: 4242, action: .reject, priority: -3, description: "SMB from outside",
                            conditions: [ConditionSpec(field: "dst_port", operator: "in", value: .list(["139", "445", "8000-8100"])),
                                         ConditionSpec(field: "protocol", operator: "eq", value: .one("tcp"))])
        let rules = try manager.add(spec)
        #expect(rules.map(\.name) == ["base-allow-admin", "base-drop-telnet", "block-smb"])
        #expect(rules.last?.spec == spec)
        #expect(rules.last?.id == 4242)
        let onDisk = try RulesLoader.load(path: dir.path)
        #expect(onDisk == rules)
        #expect(try RulesLoader.loadFile(dir.file("90-managed.yaml")).map(\.spec) == [spec])
        let text = String(decoding: dir.bytes("90-managed.yaml") ?? Data(), as: UTF8.self)
        #expect(text.hasPrefix("# Written by socfwd (rule management)"))
        let mode = (try FileManager.default.attributesOfItem(atPath: dir.file("90-managed.yaml"))[.posixPermissions] as? Int)
        #expect(mode == 0o640)
        #expect(try manager.list().last?.managed == true)
    }

    @Test func addAppendsAfterExistingManagedRulesAndKeepsTheirSpecs() throws {
        let (dir, manager) = try setUp()
        let before = try RulesLoader.load(path: dir.path).map(\.spec)
        let rules = try manager.add(RuleSpec(name: "m-four", action: .allow))
        #expect(managedNames(rules, dir) == ["m-one", "m-two", "m-three", "m-four"])
        #expect(Array(rules.map(\.spec).prefix(before.count)) == before)
    }

    @Test func writtenSpecsReadBackEqual() throws {
        let (dir, manager) = try setUp(managed: nil)
        let specs = [
            RuleSpec(name: "all-fields", id: 2_147_483_647, action: .alert, priority: -1_000_000, enabled: false,
                     description: "", conditions: [
                         ConditionSpec(field: "src_ip", operator: "cidr", value: .list(["10.0.0.0/8", "fd53:6f63::/32"])),
                         ConditionSpec(field: "dst_ip", operator: "eq", value: .one("2001:db8::1")),
                         ConditionSpec(field: "tcp_flags", operator: "in", value: .list(["syn", "syn,ack", "fin|psh|urg"])),
                         ConditionSpec(field: "dscp", operator: "in", value: .list(["46", "8-15"])),
                         ConditionSpec(field: "ttl", operator: "lt", value: .one("0x10")),
                         ConditionSpec(field: "ct_state", operator: "in", value: .list(["new", "established"])),
                         ConditionSpec(field: "in_interface", operator: "eq", value: .one("veth*")),
                         ConditionSpec(field: "payload", operator: "contains", value: .one("GET |2f|admin")),
                     ]),
            RuleSpec(name: "regex", action: .log, priority: 1_000_000, description: "a \\d+ \"quoted\" regex",
                     conditions: [ConditionSpec(field: "payload", operator: "matches", value: .one(#"^(GET|POST) /[a-z]+\?x=\d+"#))]),
            RuleSpec(name: "group-user", action: .drop,
                     conditions: [ConditionSpec(field: "dst_port", operator: "in", value: .list(["@web", "22"]))]),
        ]
        for spec in specs { _ = try manager.add(spec) }
        #expect(try RulesLoader.load(path: dir.path).filter { $0.file == dir.file("90-managed.yaml") }.map(\.spec) == specs)
        #expect(try manager.list().filter(\.managed).map(\.spec) == specs)
    }

    @Test func updateReplacesInPlaceAndMayRename() throws {
        let (dir, manager) = try setUp()
        let new = RuleSpec(name: "m-two-renamed", action: .reject, priority: 7, description: "was m-two",
                           conditions: [ConditionSpec(field: "dst_port", operator: "gt", value: .one("60000"))])
        let rules = try manager.update(name: "m-two", to: new)
        #expect(managedNames(rules, dir) == ["m-one", "m-two-renamed", "m-three"])
        #expect(rules.first { $0.name == "m-two-renamed" }?.spec == new)
        #expect(try RulesLoader.load(path: dir.path) == rules)

        var same = new
        same.priority = 8
        #expect(try manager.update(name: "m-two-renamed", to: same).first { $0.name == "m-two-renamed" }?.priority == 8)
    }

    @Test func deleteRemovesTheRuleAndAnEmptyListIsWritten() throws {
        let (dir, manager) = try setUp()
        #expect(managedNames(try manager.delete(name: "m-two"), dir) == ["m-one", "m-three"])
        _ = try manager.delete(name: "m-one")
        let rules = try manager.delete(name: "m-three")
        #expect(rules.map(\.name) == ["base-allow-admin", "base-drop-telnet"])
        let text = String(decoding: dir.bytes("90-managed.yaml") ?? Data(), as: UTF8.self)
        #expect(text.hasSuffix("rules: []\n"))
        #expect(try RulesLoader.load(path: dir.path) == rules)
    }

    @Test func setEnabledDisablesAndEnables() throws {
        let (dir, manager) = try setUp()
        #expect(try manager.setEnabled(name: "m-three", false).first { $0.name == "m-three" }?.enabled == false)
        #expect(try RulesLoader.load(path: dir.path).first { $0.name == "m-three" }?.enabled == false)
        #expect(try manager.setEnabled(name: "m-three", true).first { $0.name == "m-three" }?.enabled == true)
        #expect(try manager.list().first { $0.spec.name == "m-three" }?.spec.enabled == true)
    }

    @Test func refusedChangesNameTheProblemAndLeaveTheFileByteIdentical() throws {
        let (dir, manager) = try setUp()
        let managedPath = dir.file("90-managed.yaml")
        let original = dir.bytes("90-managed.yaml")
        func check(_ body: () throws(ConfigError) -> [Rule], file: String? = nil, field: String? = nil, says: String,
                   sourceLocation: SourceLocation = #_sourceLocation) {
            guard let error = refusal(body, sourceLocation: sourceLocation) else { return }
            #expect(error.description.contains(says), "\(error)", sourceLocation: sourceLocation)
            if let file { #expect(error.file == file, "\(error)", sourceLocation: sourceLocation) }
            if let field { #expect(error.field == field, "\(error)", sourceLocation: sourceLocation) }
            #expect(dir.bytes("90-managed.yaml") == original, sourceLocation: sourceLocation)
        }
        func rule(_ field: String, _ op: String, _ value: RuleValue) -> RuleSpec {
            RuleSpec(name: "new", action: .drop, conditions: [
                ConditionSpec(field: "protocol", operator: "eq", value: .one("tcp")),
                ConditionSpec(field: field, operator: op, value: value),
            ])
        }
        check({ () throws(ConfigError) in try manager.add(rule("dst_prot", "eq", .one("80"))) },
              file: managedPath, field: "rules[3].conditions[1].field", says: "unknown field 'dst_prot'")
        check({ () throws(ConfigError) in try manager.add(rule("dst_port", "eq", .one("70000"))) },
              file: managedPath, field: "rules[3].conditions[1].value", says: "90-managed.yaml")
        check({ () throws(ConfigError) in try manager.add(rule("dst_port", "eq", .one("70000"))) },
              says: "70000 is out of range 0...65535")
        check({ () throws(ConfigError) in try manager.add(rule("src_ip", "gt", .one("10.0.0.1"))) },
              field: "rules[3].conditions[1].operator", says: "makes no sense")
        check({ () throws(ConfigError) in try manager.add(rule("src_ip", "cidr", .one("@nope"))) },
              file: managedPath, field: "rules[3].conditions[1].value", says: "unknown group '@nope' (defined: @web)")
        check({ () throws(ConfigError) in try manager.add(RuleSpec(name: "base-drop-telnet", action: .allow)) },
              file: managedPath, says: "already used at \(dir.file("10-base.yaml")):9")
        check({ () throws(ConfigError) in try manager.add(RuleSpec(name: "m-two", action: .allow)) },
              says: "already used at \(managedPath):6")
        check({ () throws(ConfigError) in try manager.add(RuleSpec(name: "", action: .allow)) },
              field: "rules[3].name", says: "must not be empty")
        check({ () throws(ConfigError) in try manager.update(name: "m-one", to: RuleSpec(name: "base-allow-admin", action: .allow)) },
              says: "cannot rename 'm-one' to 'base-allow-admin'")
        let elsewhere = (file: dir.file("10-base.yaml"), says: "not in the managed file 90-managed.yaml: edit it there")
        check({ () throws(ConfigError) in try manager.delete(name: "base-allow-admin") },
              file: elsewhere.file, says: elsewhere.says)
        check({ () throws(ConfigError) in try manager.setEnabled(name: "base-allow-admin", false) },
              file: elsewhere.file, says: elsewhere.says)
        check({ () throws(ConfigError) in try manager.update(name: "base-allow-admin", to: RuleSpec(name: "x", action: .drop)) },
              file: elsewhere.file, says: elsewhere.says)
        check({ () throws(ConfigError) in try manager.delete(name: "ghost") }, says: "no rule named 'ghost'")
        #expect(try RulesLoader.load(path: dir.path).count == 5)
    }

    @Test(arguments: [
        "quote \" and backslash \\ and \\\" together",
        "line one\nline two\r\n  - name: injected\n    action: ALLOW",
        "key: value # not a comment",
        "\" }\n  - { name: evil, action: ALLOW }\n#",
        "tab\there, bell \u{07}, nul-free controls \u{1B}[31m, DEL \u{7F}, NEL \u{85}",
        "separators \u{2028} \u{2029}, bom \u{FEFF}, non-BMP 😀, accents é",
        "'single' and {braces} [brackets] & anchors *alias !tag %directive @at `tick` |pipe >fold",
        "   leading and trailing spaces   ",
    ])
    func userTextCannotAddStructure(text: String) throws {
        let (dir, manager) = try setUp()
        // In the description it must round-trip exactly.
        let spec = RuleSpec(name: "described", action: .log, description: text)
        let rules = try manager.add(spec)
        #expect(rules.count == 6)
        #expect(rules.last?.spec == spec)
        #expect(try RulesLoader.load(path: dir.path).map(\.spec) == rules.map(\.spec))
        // As a name: round-trips, or the loader refuses it (names are single lines).
        let named = RuleSpec(name: text, action: .log)
        do {
            let rules = try manager.add(named)
            #expect(rules.count == 7)
            #expect(rules.last?.spec == named)
        } catch {
            #expect(text.contains { $0.isNewline }, "\(error)")
        }
        // As a value: never more rules, whatever happens.
        let valued = RuleSpec(name: "valued", action: .drop,
                              conditions: [ConditionSpec(field: "in_interface", operator: "eq", value: .list([text, "eth0"]))])
        _ = try? manager.add(valued)
        #expect(try RulesLoader.load(path: dir.path).count <= 7)
        #expect(try RulesLoader.load(path: dir.path).allSatisfy { $0.name != "evil" && $0.name != "injected" })
    }

    @Test func controlCharactersIncludingNULRoundTrip() throws {
        let (dir, manager) = try setUp()
        let spec = RuleSpec(name: "controls", action: .log, description: "before\u{0}after\u{1}\u{1F}\u{9F}\u{FFFE}")
        #expect(try manager.add(spec).last?.spec == spec)
        #expect(try RulesLoader.load(path: dir.path).last?.spec == spec)
    }

    @Test func concurrentAddsAllLand() throws {
        let (dir, manager) = try setUp()
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            do {
                _ = try manager.add(RuleSpec(name: "concurrent-\(i)", action: .drop, priority: i))
            } catch {
                failures.withLock { $0.append("\(i): \(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let names = Set(try RulesLoader.load(path: dir.path).map(\.name))
        #expect(names.count == 5 + 32)
        #expect((0..<32).allSatisfy { names.contains("concurrent-\($0)") })
    }

    @Test func staleTemporaryFilesFromACrashAreHarmless() throws {
        let (dir, manager) = try setUp()
        let mine = ".90-managed.yaml.tmp-\(getpid())"
        try dir.write(mine, "rules: [ this is not valid yaml")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dir.file(mine))
        try dir.write(".90-managed.yaml.tmp-1", "garbage: {")
        #expect(try manager.list().count == 5)
        let rules = try manager.add(RuleSpec(name: "after-crash", action: .allow))
        #expect(rules.count == 6)
        #expect(try RulesLoader.load(path: dir.path) == rules)
        #expect(!FileManager.default.fileExists(atPath: dir.file(mine)))
        let mode = try FileManager.default.attributesOfItem(atPath: dir.file("90-managed.yaml"))[.posixPermissions] as? Int
        #expect(mode == 0o640)
    }

    @Test func groupsDefinedInTheManagedFileAreKept() throws {
        let (dir, manager) = try setUp(managed: """
            groups:
              "dns-servers": [198.18.0.53, "2001:db8::53"]
              ssh: 22
            rules:
              - name: dns
                action: ALLOW
                conditions:
                  - { field: dst_ip, operator: in, value: "@dns-servers" }
            """)
        _ = try manager.add(RuleSpec(name: "ssh", action: .allow,
                                     conditions: [ConditionSpec(field: "dst_port", operator: "in", value: .one("@ssh"))]))
        let rules = try RulesLoader.load(path: dir.path)
        #expect(rules.map(\.name) == ["base-allow-admin", "base-drop-telnet", "dns", "ssh"])
        #expect(rules[3].conditions == [.port(source: false, ranges: [22...22], negated: false)])
    }

    @Test func needsAnExistingRulesDirectory() throws {
        let dir = try RulesDirectory()
        let missing = RuleManager(rulesDirectory: dir.file("absent"))
        #expect(throws: ConfigError(file: dir.file("absent"), message: "rules directory does not exist")) {
            try missing.list()
        }
        try dir.write("rules.yaml", Self.base)
        let single = RuleManager(rulesDirectory: dir.file("rules.yaml"))
        let error = refusal { () throws(ConfigError) in try single.add(RuleSpec(name: "x", action: .drop)) }
        #expect(error?.message.contains("rule management needs a rules directory") == true)
        #expect(dir.bytes("rules.yaml") == Data(Self.base.utf8))
    }

    @Test func aBrokenOtherFileRefusesChangesWithItsOwnLocation() throws {
        let (dir, manager) = try setUp()
        let original = dir.bytes("90-managed.yaml")
        try dir.write("20-broken.yaml", "rules:\n  - name: b\n    action: DROPP\n")
        let error = refusal { () throws(ConfigError) in try manager.add(RuleSpec(name: "x", action: .drop)) }
        #expect(error?.file == dir.file("20-broken.yaml"))
        #expect(error?.field == "rules[0].action")
        #expect(dir.bytes("90-managed.yaml") == original)
    }
}
