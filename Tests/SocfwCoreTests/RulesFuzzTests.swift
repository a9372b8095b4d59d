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

    @Test func mutatedRulesFilesNeverCrashTheLoader() {
        var rng = TestRNG(seed: 99)
        var refused = 0
        var loaded = 0
        for _ in 0..<3000 {
            let text = mutate(RulesTests.sample, &rng)
            do {
                let rules = try RulesLoader.parse(yaml: text, file: "fuzz.yaml")
                _ = RuleSet(rules: rules, defaultAction: .allow)
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
