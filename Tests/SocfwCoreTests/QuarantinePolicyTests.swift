import Testing
import SocfwCore
import SocfwWire

@Suite struct QuarantinePolicyTests {
    @Test func aTargetListIsReadLineByLineWithCommentsAndBlanks() {
        let text = "# blocklist\r\n203.0.113.7\r\n  198.51.100.0/24  # scanners\n\n\t2001:db8::/48\n#only a comment\nbad entry\n192.0.2.1"
        #expect(QuarantinePolicy.targets(inList: Array(text.utf8))
                == ["203.0.113.7", "198.51.100.0/24", "2001:db8::/48", "bad entry", "192.0.2.1"])
        #expect(QuarantinePolicy.targets(inList: Array("".utf8)).isEmpty)
        #expect(QuarantinePolicy.targets(inList: Array("\n\n # x\n".utf8)).isEmpty)
    }

    var policy: QuarantinePolicy {
        var p = QuarantinePolicy()
        p.allowlist = [IPPrefix("192.0.2.0/24")!, IPPrefix("2001:db8:ff::/48")!, IPPrefix("198.18.1.1/32")!]
        return p
    }

    @Test(arguments: [
        ("203.0.113.7", "203.0.113.7/32"), ("198.51.100.0/24", "198.51.100.0/24"), ("2001:db8::7", "2001:db8::7/128"),
        ("2001:DB8:0:0::/64", "2001:db8::/64"), ("10.1.0.0/16", "10.1.0.0/16"),
    ])
    func goodTargetsBecomeCanonicalPrefixes(_ text: String, _ expected: String) throws {
        #expect(try policy.validate(text).get().description == expected)
    }

    @Test(arguments: [
        ("1.2.3.4; flush ruleset", "is not an IP address"), ("999.1.1.1", "is not an IP address"),
        ("0.0.0.0/0", "too wide"), ("::/0", "too wide"), ("10.0.0.0/8", "too wide"), ("2001::/16", "too wide"),
        ("10.0.0.1/16", "host bits"), ("010.1.1.1", "is not an IP address"), ("", "is not an IP address"),
        ("192.0.2.77", "overlaps 192.0.2.0/24"), ("192.0.0.0/16", "overlaps 192.0.2.0/24"),
        ("2001:db8:ff:1::/64", "overlaps 2001:db8:ff::/48"), ("198.18.0.0/16", "overlaps 198.18.1.1/32"),
        ("1.2.3.4 ", "is not an IP address"), ("host.example", "is not an IP address"), ("1.2.3.4/33", "is not an IP address or prefix"),
    ])
    func badTargetsAreRefusedWithAReason(_ text: String, _ reason: String) {
        switch policy.validate(text) {
        case .success(let p): Issue.record("accepted '\(text)' as \(p)")
        case .failure(let r): #expect(r.message.contains(reason), "\(text): \(r.message)")
        }
    }

    @Test func durationsAndEscalation() throws {
        #expect(try QuarantinePolicy.parseDuration("90s").get() == 90)
        #expect(try QuarantinePolicy.parseDuration("2h").get() == 7200)
        #expect(try QuarantinePolicy.parseDuration("permanent").get() == nil)
        for bad in ["0", "-1h", "1y", "h", "99999w", ""] {
            #expect(throws: QuarantinePolicy.Refusal.self) { try QuarantinePolicy.parseDuration(bad).get() }
        }
        let p = policy
        #expect(p.duration(requestedSeconds: .some(60), priorOffences: 5) == 60)
        #expect(p.duration(requestedSeconds: .some(nil), priorOffences: 0) == nil)
        #expect(p.duration(requestedSeconds: nil, priorOffences: 0) == 3600)
        #expect(p.duration(requestedSeconds: nil, priorOffences: 2) == Int64(24 * 3600))
        #expect(p.duration(requestedSeconds: nil, priorOffences: 9) == nil)
    }

    @Test func expiryIsJitteredWithinTheWindowAndStable() {
        let p = policy
        let target = IPPrefix("203.0.113.0/24")!
        let e = p.expiry(from: 1_000_000_000_000, seconds: 60, target: target)!
        #expect(e >= 1_000_000_000_000 + 60_000_000_000 && e < 1_000_000_000_000 + 90_000_000_000)
        #expect(p.expiry(from: 1_000_000_000_000, seconds: 60, target: target) == e)
        #expect(p.expiry(from: 0, seconds: nil, target: target) == nil)
        let spread = Set((0..<100).map { p.expiry(from: 0, seconds: 60, target: IPPrefix(network: IPAddress(v4: 0x0a00_0000 | UInt32($0)), length: 32))! / 1_000_000_000 })
        #expect(spread.count > 10, "expiry moments should spread over the jitter window")
    }
}

@Suite struct QuarantineConfigTests {
    @Test func theSectionIsReadAndValidated() throws {
        let c = try SocfwConfig.parse(yaml: """
            quarantine:
              database: state/socfw.db
              minimum_prefix_v4: 24
              allowlist: [192.0.2.0/24, "2001:db8:ff::/48", 198.18.1.1]
              escalation: [10m, 1h, permanent]
              escalation_window: 1d
              expiry_jitter: 10s
            """, file: "/etc/socfw/socfwd.yaml")
        #expect(c.quarantine.database == "/etc/socfw/state/socfw.db")
        #expect(c.quarantine.policy.minimumPrefixV4 == 24)
        #expect(c.quarantine.policy.allowlist.map(\.description) == ["192.0.2.0/24", "2001:db8:ff::/48", "198.18.1.1/32"])
        #expect(c.quarantine.policy.escalation == [600, 3600, nil])
        #expect(c.quarantine.policy.escalationWindowSeconds == 86400)
        for (yaml, field) in [("quarantine:\n  allowlist: [10.0.0.1/8]\n", "quarantine.allowlist[0]"),
                              ("quarantine:\n  duration: soon\n", "quarantine.duration"),
                              ("quarantine:\n  escalation_window: permanent\n", "quarantine.escalation_window")] {
            do {
                _ = try SocfwConfig.parse(yaml: yaml, file: "c.yaml")
                Issue.record("accepted \(yaml)")
            } catch {
                #expect(error.field == field, "\(error)")
            }
        }
        #expect(throws: ConfigError.self) { try SocfwConfig.parse(yaml: "default_action: QUARANTINE\n", file: "c.yaml") }
    }

    @Test func aQuarantineRuleDropsAndSaysSoInItsEvent() throws {
        let set = RuleSet(rules: try RulesLoader.parse(yaml: """
            rules:
              - { name: cut-off-scanner, action: QUARANTINE, conditions: [ { field: dst_port, operator: eq, value: 23 } ] }
            """, file: "q.yaml"), defaultAction: .allow)
        var p = Pipeline(ruleSet: set, malformedAction: .drop)
        var events: [Event] = []
        let bytes = ipv4Packet(src: [198, 18, 1, 2], dst: [198, 18, 2, 2], proto: 6, dport: 23)
        let r = bytes.withUnsafeBytes { p.process($0, timestampNanoseconds: 1) { events.append($0) } }
        #expect(r.verdict == .drop)
        #expect(events.count == 1 && events[0].ruleAction == .quarantine && events[0].packet.source == IPAddress("198.18.1.2"))
    }
}
