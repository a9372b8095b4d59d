import Testing
import SocfwCore

/// Mutated rules and configuration files must be refused with an error or
/// loaded, never crash the loader.
@Suite struct RulesFuzzTests {
    static let alphabet: [Character] = Array("abcdefgxyz0123456789 :-_[]{},.\"'#/\n\t&*!|>%@`?") + ["\u{0}", "é"]

    func mutate(_ text: String, _ rng: inout TestRNG) -> String {
        var chars = Array(text)
        for _ in 0...rng.below(4) {
            guard !chars.isEmpty else { break }
            let i = rng.below(chars.count)
            switch rng.below(4) {
            case 0: chars[i] = Self.alphabet[rng.below(Self.alphabet.count)]
            case 1: chars.remove(at: i)
            case 2: chars.insert(Self.alphabet[rng.below(Self.alphabet.count)], at: i)
            default: chars = Array(chars[..<i])
            }
        }
        return String(chars)
    }

    @Test(arguments: [RulesTests.sample, RuleFeatureTests.rules])
    func mutatedRulesFilesNeverCrashTheLoader(_ seed: String) {
        var rng = TestRNG(seed: 99)
        var refused = 0
        var loaded = 0
        let probe = ipv4Packet(src: [198, 18, 1, 2], dst: [198, 18, 2, 2], proto: 6, dport: 22,
                               payload: Array("GET /admin UNION select".utf8), tcpFlags: 0x18)
        for _ in 0..<3000 {
            let text = mutate(seed, &rng)
            do {
                let rules = try RulesLoader.parse(yaml: text, file: "fuzz.yaml")
                // What loads also compiles and evaluates.
                var p = Pipeline(ruleSet: RuleSet(rules: rules, defaultAction: .allow), malformedAction: .drop)
                p.interfaceName = { $0 == 2 ? "wan0" : "lan0" }
                _ = probe.withUnsafeBytes { p.process($0, timestampNanoseconds: 1, inInterface: 2, outInterface: 3) { _ in } }
                loaded += 1
            } catch {
                refused += 1
                #expect(error.file == "fuzz.yaml")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(refused > 0 && loaded > 0)
    }

    @Test func mutatedConfigFilesNeverCrashTheParser() {
        let base = """
            mode: bridge
            queues: { count: 2, first: 0, max_length: 4096, copy_range: 1500, bypass: false }
            marks: { mask: 0xff, reject: 0x1 }
            nftables: { table: socfw, diversion: auto }
            default_action: DROP
            """
        var rng = TestRNG(seed: 5)
        for _ in 0..<3000 {
            let text = mutate(base, &rng)
            do {
                let c = try SocfwConfig.parse(yaml: text, file: "fuzz.yaml")
                #expect(NftablesConfig.isValidName(c.nftables.table))
            } catch {
                #expect(error.file == "fuzz.yaml")
            }
        }
    }
}

/// Every field with every operator: either a condition or a load error that
/// names the operator's field, never a silent false.
@Suite struct FieldOperatorMatrixTests {
    static let values: [RuleField: String] = [
        .srcIP: "10.0.0.0/8", .dstIP: "2001:db8::/32", .srcPort: "80", .dstPort: "443", .protocol: "tcp",
        .ctState: "new", .ctDirection: "reply", .tcpFlags: "syn", .icmpType: "8", .icmpCode: "3", .ttl: "64",
        .hopLimit: "64", .length: "100", .dscp: "10", .inInterface: "eth0", .outInterface: "veth*", .payload: "abc",
    ]
    static let allowed: [RuleField: Set<RuleOperator>] = [
        .srcIP: [.eq, .ne, .in, .cidr], .dstIP: [.eq, .ne, .in, .cidr], .srcPort: [.eq, .ne, .gt, .lt, .in],
        .dstPort: [.eq, .ne, .gt, .lt, .in], .protocol: [.eq, .ne, .in], .ctState: [.eq, .ne, .in],
        .ctDirection: [.eq, .ne], .tcpFlags: [.eq, .ne, .in], .icmpType: [.eq, .ne, .gt, .lt, .in],
        .icmpCode: [.eq, .ne, .gt, .lt, .in], .ttl: [.eq, .ne, .gt, .lt, .in], .hopLimit: [.eq, .ne, .gt, .lt, .in],
        .length: [.eq, .ne, .gt, .lt, .in], .dscp: [.eq, .ne, .gt, .lt, .in], .inInterface: [.eq, .ne, .in],
        .outInterface: [.eq, .ne, .in], .payload: [.contains, .matches],
    ]

    @Test(arguments: RuleField.allCases)
    func everyOperatorIsAConditionOrAnError(_ field: RuleField) {
        for op in RuleOperator.allCases {
            var value = Self.values[field]!
            // eq/ne take an address, not a prefix.
            if (field == .srcIP || field == .dstIP) && (op == .eq || op == .ne) { value = "10.0.0.1" }
            let v = op == .in ? "[\"\(value)\"]" : "\"\(value)\""
            let yaml = "rules:\n  - name: r\n    action: DROP\n    conditions:\n      - { field: \(field.rawValue), operator: \(op.rawValue), value: \(v) }\n"
            let shouldLoad = Self.allowed[field]!.contains(op)
            do {
                let rules = try RulesLoader.parse(yaml: yaml, file: "m.yaml")
                #expect(shouldLoad, "\(field.rawValue) \(op.rawValue) loaded")
                #expect(rules.first?.conditions.count == 1)
            } catch {
                #expect(!shouldLoad, "\(field.rawValue) \(op.rawValue): \(error)")
                #expect(error.field == "rules[0].conditions[0].operator", "\(field.rawValue) \(op.rawValue): \(error)")
            }
        }
    }
}
