import Foundation
import Testing
import SocfwCore
import SocfwWire

/// A summary built field by field, for rule tests that need no bytes.
func packet(_ src: String, _ dst: String, proto: UInt8 = 6, sport: UInt16 = 40000, dport: UInt16 = 80) -> PacketSummary {
    var p = PacketSummary()
    p.source = IPAddress(src)!
    p.destination = IPAddress(dst)!
    p.ipVersion = p.source.isV6 ? 6 : 4
    p.l4Protocol = proto
    p.l4Parsed = true
    if proto == 6 || proto == 17 {
        p.sourcePort = sport
        p.destinationPort = dport
    }
    return p
}

@Suite struct RulesTests {
    static let sample = """
        rules:
          - name: allow-admin
            action: ALLOW
            priority: 1
            conditions:
              - { field: src_ip, operator: cidr, value: 198.18.9.0/24 }
          - name: log-web
            action: LOG
            priority: 5
            conditions:
              - { field: dst_port, operator: in, value: [80, 443, 8000-8999] }
          - name: drop-telnet
            action: DROP
            priority: 10
            conditions:
              - { field: protocol, operator: eq, value: tcp }
              - { field: dst_port, operator: eq, value: 23 }
          - name: reject-high-udp
            action: REJECT
            priority: 10
            conditions:
              - { field: protocol, operator: eq, value: udp }
              - { field: dst_port, operator: gt, value: 60000 }
          - name: disabled-drop-all
            action: DROP
            priority: 0
            enabled: false
          - name: alert-v6-net
            action: ALERT
            priority: 20
            conditions:
              - { field: dst_ip, operator: cidr, value: ["2001:db8::/32", "fd53:6f63::/32"] }
          - name: drop-not-tcp-to-host
            action: DROP
            priority: 30
            conditions:
              - { field: dst_ip, operator: eq, value: 198.18.2.2 }
              - { field: protocol, operator: ne, value: tcp }
        """

    func ruleSet(default action: RuleAction = .allow) throws -> RuleSet {
        RuleSet(rules: try RulesLoader.parse(yaml: Self.sample, file: "rules.yaml"), defaultAction: action)
    }

    struct Case: Sendable, CustomStringConvertible {
        var packet: PacketSummary
        var verdict: Verdict
        var decidedBy: String?
        var events: [String]
        var description: String { "\(packet.source)->\(packet.destination):\(packet.destinationPort)/\(packet.l4Protocol)" }
    }

    static let cases: [Case] = [
        Case(packet: packet("198.18.1.2", "198.18.2.2", dport: 23), verdict: .drop, decidedBy: "drop-telnet", events: []),
        Case(packet: packet("198.18.9.7", "198.18.2.2", dport: 23), verdict: .accept, decidedBy: "allow-admin", events: []),
        Case(packet: packet("198.18.1.2", "198.18.2.2", dport: 80), verdict: .accept, decidedBy: nil, events: ["log-web"]),
        Case(packet: packet("198.18.1.2", "198.18.2.3", proto: 17, dport: 61000), verdict: .reject,
             decidedBy: "reject-high-udp", events: []),
        Case(packet: packet("198.18.1.2", "198.18.2.3", proto: 17, dport: 60000), verdict: .accept, decidedBy: nil, events: []),
        Case(packet: packet("fd53:6f63:1::2", "fd53:6f63:2::2", dport: 8080), verdict: .accept, decidedBy: nil,
             events: ["log-web", "alert-v6-net"]),
        Case(packet: packet("198.18.1.2", "198.18.2.2", proto: 1), verdict: .drop, decidedBy: "drop-not-tcp-to-host", events: []),
        Case(packet: packet("198.18.1.2", "198.18.2.2", proto: 6, dport: 22), verdict: .accept, decidedBy: nil, events: []),
    ]

    @Test(arguments: cases)
    func firstMatchingTerminalRuleDecidesAndLogRulesContinue(_ c: Case) throws {
        let set = try ruleSet()
        var events: [String] = []
        let d = set.evaluate(c.packet) { events.append(set.rules[$0].name) }
        #expect(d.verdict == c.verdict)
        #expect((d.ruleIndex >= 0 ? set.rules[d.ruleIndex].name : nil) == c.decidedBy)
        #expect(events == c.events)
    }

    @Test func disabledRulesAreSkippedAndPriorityOrders() throws {
        let set = try ruleSet()
        #expect(set.loadedCount == 7)
        #expect(!set.rules.contains { $0.name == "disabled-drop-all" })
        #expect(set.rules.map(\.priority) == set.rules.map(\.priority).sorted())
        // Equal priorities keep file order.
        let ten = set.rules.filter { $0.priority == 10 }.map(\.name)
        #expect(ten == ["drop-telnet", "reject-high-udp"])
    }

    @Test func defaultActionAppliesWhenNothingMatches() throws {
        let set = try ruleSet(default: .drop)
        let d = set.evaluate(packet("198.18.1.2", "198.18.2.9", dport: 22)) { _ in }
        #expect(d.verdict == .drop && d.ruleIndex == -1)
        // Only address, port and protocol conditions were tried: the same for the whole flow.
        #expect(d.flowInvariant)
    }

    struct FieldCase: Sendable, CustomStringConvertible {
        var condition: String
        var matching: PacketSummary
        var notMatching: PacketSummary
        var description: String { condition }
    }

    static func with(_ p: PacketSummary, _ change: (inout PacketSummary) -> Void) -> PacketSummary {
        var q = p
        change(&q)
        return q
    }

    static let base = packet("198.18.1.2", "198.18.2.2", proto: 6, dport: 80)
    static let icmp = packet("198.18.1.2", "198.18.2.2", proto: 1)

    static let fieldCases: [FieldCase] = [
        FieldCase(condition: "{ field: tcp_flags, operator: eq, value: syn }",
                  matching: with(base) { $0.tcpFlags = .syn }, notMatching: with(base) { $0.tcpFlags = [.syn, .ack] }),
        FieldCase(condition: "{ field: tcp_flags, operator: in, value: [\"syn,ack\", rst] }",
                  matching: with(base) { $0.tcpFlags = [.syn, .ack] }, notMatching: with(base) { $0.tcpFlags = .ack }),
        FieldCase(condition: "{ field: tcp_flags, operator: ne, value: \"fin|psh|urg\" }",
                  matching: with(base) { $0.tcpFlags = .syn }, notMatching: with(base) { $0.tcpFlags = [.fin, .psh, .urg] }),
        FieldCase(condition: "{ field: icmp_type, operator: eq, value: 8 }",
                  matching: with(icmp) { $0.icmpType = 8 }, notMatching: with(base) { $0.icmpType = 8 }),
        FieldCase(condition: "{ field: icmp_code, operator: in, value: [\"9-13\"] }",
                  matching: with(icmp) { $0.icmpCode = 13 }, notMatching: with(icmp) { $0.icmpCode = 3 }),
        FieldCase(condition: "{ field: ttl, operator: lt, value: 2 }",
                  matching: with(base) { $0.ttl = 1 }, notMatching: with(base) { $0.ttl = 2 }),
        FieldCase(condition: "{ field: hop_limit, operator: gt, value: 250 }",
                  matching: with(base) { $0.ttl = 255 }, notMatching: with(base) { $0.ttl = 250 }),
        FieldCase(condition: "{ field: length, operator: gt, value: 1500 }",
                  matching: with(base) { $0.ipLength = 9000 }, notMatching: with(base) { $0.ipLength = 1500 }),
        FieldCase(condition: "{ field: dscp, operator: in, value: [46, \"8-15\"] }",
                  matching: with(base) { $0.dscp = 46 }, notMatching: with(base) { $0.dscp = 0 }),
    ]

    @Test(arguments: fieldCases)
    func headerFieldConditionsMatchTheirValue(_ c: FieldCase) throws {
        let rules = try RulesLoader.parse(yaml: "rules:\n  - { name: r, action: DROP, conditions: [ \(c.condition) ] }\n",
                                          file: "f.yaml")
        let set = RuleSet(rules: rules, defaultAction: .allow)
        #expect(set.evaluate(c.matching) { _ in }.verdict == .drop)
        #expect(set.evaluate(c.notMatching) { _ in }.verdict == .accept)
        #expect(set.evaluateSimple(c.matching) { _ in }.verdict == .drop)
        #expect(set.evaluateSimple(c.notMatching) { _ in }.verdict == .accept)
    }

    @Test func namedGroupsAreExpandedWhereTheyAreUsed() throws {
        let rules = try RulesLoader.parse(yaml: """
            groups:
              office_nets: [198.18.9.0/24, "fd53:6f63:9::/48"]
              admin_ports: [22, "8000-8100"]
            rules:
              - name: office-admin
                action: ALLOW
                priority: 1
                conditions:
                  - { field: src_ip, operator: cidr, value: "@office_nets" }
                  - { field: dst_port, operator: in, value: ["@admin_ports", 3389] }
              - { name: no-admin, action: DROP, priority: 2, conditions: [ { field: dst_port, operator: in, value: "@admin_ports" } ] }
            """, file: "g.yaml")
        let set = RuleSet(rules: rules, defaultAction: .allow)
        #expect(set.evaluate(packet("198.18.9.7", "198.18.2.2", dport: 8050)) { _ in }.verdict == .accept)
        #expect(set.evaluate(packet("fd53:6f63:9::7", "fd53:6f63:2::2", dport: 3389)) { _ in }.ruleIndex == 0)
        #expect(set.evaluate(packet("198.18.1.7", "198.18.2.2", dport: 22)) { _ in }.verdict == .drop)
        #expect(set.evaluate(packet("198.18.1.7", "198.18.2.2", dport: 80)) { _ in }.verdict == .accept)
    }

    @Test func groupsAreSharedAcrossTheFilesOfARulesDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("socfw-groups-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "groups:\n  web: [80, 443]\n".write(to: dir.appendingPathComponent("00-groups.yaml"), atomically: true, encoding: .utf8)
        try "rules:\n  - { name: w, action: DROP, conditions: [ { field: dst_port, operator: in, value: \"@web\" } ] }\n"
            .write(to: dir.appendingPathComponent("10-rules.yaml"), atomically: true, encoding: .utf8)
        let rules = try RulesLoader.load(path: dir.path)
        #expect(rules.count == 1)
        #expect(RuleSet(rules: rules, defaultAction: .allow).evaluate(packet("198.18.1.2", "198.18.2.2", dport: 443)) { _ in }.verdict == .drop)
        try "groups:\n  web: [8080]\n".write(to: dir.appendingPathComponent("20-more.yaml"), atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try RulesLoader.load(path: dir.path) }
        do { _ = try RulesLoader.load(path: dir.path) } catch {
            #expect(error.description.contains("group 'web' is already defined at \(dir.path)/00-groups.yaml:2"))
        }
    }

    @Test func portConditionsNeverMatchPacketsWithoutPorts() throws {
        let rules = try RulesLoader.parse(yaml: """
            rules:
              - { name: not-80, action: DROP, conditions: [ { field: dst_port, operator: ne, value: 80 } ] }
            """, file: "r.yaml")
        let set = RuleSet(rules: rules, defaultAction: .allow)
        #expect(set.evaluate(packet("198.18.1.2", "198.18.2.2", proto: 1)) { _ in }.verdict == .accept)
        #expect(set.evaluate(packet("198.18.1.2", "198.18.2.2", dport: 81)) { _ in }.verdict == .drop)
    }

    struct BadRule: Sendable, CustomStringConvertible {
        var yaml: String
        var line: Int
        var field: String
        var message: String
        var description: String { message }
    }

    static let badRules: [BadRule] = [
        BadRule(yaml: "rules:\n  - name: a\n    action: DROPP\n", line: 3, field: "rules[0].action", message: "unknown action 'DROPP'"),
        BadRule(yaml: "rules:\n  - action: DROP\n", line: 2, field: "rules[0]", message: "missing required field 'name'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: dst_port, operator: eq, value: 70000 }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "70000 is out of range 0...65535"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: dst_prt, operator: eq, value: 1 }\n",
                line: 5, field: "rules[0].conditions[0].field", message: "unknown field 'dst_prt'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: src_ip, operator: gt, value: 1.2.3.4 }\n",
                line: 5, field: "rules[0].conditions[0].operator", message: "makes no sense for field 'src_ip'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: src_ip, operator: cidr, value: 10.0.0.1/8 }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "host bits set"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: dst_ip, operator: eq, value: \"1.2.3.4; flush ruleset\" }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "is not an IP address"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n  - name: a\n    action: ALLOW\n", line: 4, field: "rules[1].name",
                message: "already used at line 2"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    priority: high\n", line: 4, field: "rules[0].priority",
                message: "expected an integer"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    colour: red\n", line: 4, field: "rules[0].colour",
                message: "unknown key 'colour'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: tcp_flags, operator: eq, value: \"syn,ak\" }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "unknown TCP flag 'ak'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: dscp, operator: eq, value: 64 }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "64 is out of range 0...63"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: ttl, operator: cidr, value: 1 }\n",
                line: 5, field: "rules[0].conditions[0].operator", message: "makes no sense for field 'ttl'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: length, operator: in, value: [\"20-10\"] }\n",
                line: 5, field: "rules[0].conditions[0].value[0]", message: "is not a value or range"),
        BadRule(yaml: "groups:\n  web: [80]\nrules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: dst_port, operator: in, value: \"@wbe\" }\n",
                line: 7, field: "rules[0].conditions[0].value", message: "unknown group '@wbe' (defined: @web)"),
        BadRule(yaml: "groups:\n  web: [80]\nrules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: dst_port, operator: eq, value: \"@web\" }\n",
                line: 7, field: "rules[0].conditions[0].operator", message: "a group is a list of values"),
        BadRule(yaml: "groups:\n  nets: [10.0.0.0/33]\nrules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: src_ip, operator: cidr, value: \"@nets\" }\n",
                line: 2, field: "groups.nets[0]", message: "is not an IP address or prefix"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: protocol, operator: eq, value: tcpp }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "unknown protocol 'tcpp'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: payload, operator: eq, value: x }\n",
                line: 5, field: "rules[0].conditions[0].operator", message: "makes no sense for field 'payload' (use contains or matches)"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: dst_port, operator: contains, value: 1 }\n",
                line: 5, field: "rules[0].conditions[0].operator", message: "only applies to field 'payload'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: payload, operator: matches, value: \"a(b\" }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "bad regular expression: missing closing parenthesis at offset 3"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: payload, operator: contains, value: \"|0g|\" }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "'0g' is not a hex byte"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: payload, operator: contains, value: \"ab|00\" }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "unterminated '|'"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: in_interface, operator: eq, value: averyveryverylongname0 }\n",
                line: 5, field: "rules[0].conditions[0].value", message: "is not an interface name"),
        BadRule(yaml: "rules:\n  - name: a\n    action: DROP\n    conditions:\n      - { field: out_interface, operator: gt, value: eth0 }\n",
                line: 5, field: "rules[0].conditions[0].operator", message: "makes no sense for field 'out_interface' (use eq, ne or in)"),
    ]

    @Test(arguments: badRules)
    func badRulesAreRefusedWithFileLineAndField(_ bad: BadRule) {
        do {
            _ = try RulesLoader.parse(yaml: bad.yaml, file: "/etc/socfw/rules.d/10-local.yaml")
            Issue.record("accepted: \(bad.yaml)")
        } catch {
            #expect(error.line == bad.line, "\(error)")
            #expect(error.field == bad.field, "\(error)")
            #expect(error.description.contains(bad.message), "\(error)")
            #expect(error.description.hasPrefix("/etc/socfw/rules.d/10-local.yaml:\(bad.line):"), "\(error)")
        }
    }
}

typealias TestRNG = SplitMix64

@Suite struct RuleLimitsTests {
    @Test func moreInterfaceNamesThanMasksHoldIsALoadError() {
        let rules = (0..<64).map { "  - { name: r\($0), action: DROP, conditions: [ { field: in_interface, operator: eq, value: if\($0) } ] }" }
        do {
            _ = try RulesLoader.parse(yaml: "rules:\n" + rules.joined(separator: "\n") + "\n", file: "many.yaml")
            Issue.record("64 interface names were accepted")
        } catch {
            #expect(error.description.contains("more than 63 different interfaces"), "\(error)")
            #expect(error.line == 65, "\(error)")
        }
        let fine = rules.prefix(63).joined(separator: "\n") + "\n"
        #expect((try? RulesLoader.parse(yaml: "rules:\n" + fine, file: "ok.yaml"))?.count == 63)
    }
}
