import Foundation
import Testing
import SocfwWire
import SocfwIDS

// Random damage to real rules: truncations, byte flips, inserted quotes,
// semicolons, brackets, backslashes. The parser must never crash and must
// always answer loaded or skipped (the loader's counts must add up).

@Suite struct RuleParserFuzzTests {
    /// Real ET lines when the rule set is present, otherwise a few built-in ones.
    private func seedRules() -> [[UInt8]] {
        let builtIn = [
            #"alert http $EXTERNAL_NET any -> $HOME_NET any (msg:"ET PHISHING Common Unhidebody Function Observed in Phishing Landing"; flow:established,to_client; file.data; content:"function unhideBody()"; nocase; fast_pattern; content:"method="; nocase; pcre:"/^["']?post/Ri"; classtype:social-engineering; sid:2029732; rev:2;)"#,
            #"alert tcp $HOME_NET 20034 -> $EXTERNAL_NET any ( msg:"x"; flow:to_client,established; flowbits:isset,a; content:"BN|10 00 02 00|",depth 6; content:"|05 00|",depth 2,offset 8; classtype:trojan-activity; sid:115; rev:15; )"#,
            #"alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"y"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/gate.php"; endswith; bsize:<20; http.header; content:"User-Agent|3a 20|x"; pcre:"/^\d{4}/R"; threshold: type limit, track by_src, seconds 60, count 1; classtype:trojan-activity; sid:2000001; rev:1; metadata:confidence High;)"#,
            #"alert ip [1.2.3.4,!5.6.7.8,[10.0.0.0/8]] any -> $HOME_NET [80,1024:,!8080] (msg:"z"; dsize:>10; flags:S,12; ttl:<5; sid:3; rev:1;)"#,
        ].map { Array($0.utf8) }
        let path = RuleSetFixture.etPath
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return builtIn }
        var lines: [[UInt8]] = []
        for name in names.sorted() where name.hasSuffix(".rules") {
            guard let data = FileManager.default.contents(atPath: path + "/" + name) else { continue }
            for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated()
            where index % 7 == 0 && line.first == UInt8(ascii: "a") {
                lines.append(Array(line))
            }
        }
        return lines.isEmpty ? builtIn : builtIn + lines
    }

    private static let inserts: [UInt8] = Array(#"";[](){}|\!:,$/ -><>#"#.utf8) + [0x00, 0xFF, 0x0A]

    private func mutate(_ rule: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = rule
        for _ in 0...random.below(3) {
            guard !bytes.isEmpty else { break }
            let at = random.below(bytes.count)
            switch random.below(6) {
            case 0: bytes.removeSubrange(at...)
            case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
            case 2: bytes.insert(Self.inserts[random.below(Self.inserts.count)], at: at)
            case 3: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(20)))
            case 4:
                let end = min(bytes.count, at + 1 + random.below(40))
                bytes.insert(contentsOf: bytes[at..<end], at: random.below(bytes.count))
            default: bytes[at] = Self.inserts[random.below(Self.inserts.count)]
            }
        }
        return bytes
    }

    @Test func mutatedRulesAreLoadedOrSkippedNeverCrash() {
        let seeds = seedRules()
        let parser = RuleParser()
        var random = SplitMix64(seed: 0x5EED_2029_732)
        var loaded = 0, skipped = 0
        let origin = SignatureOrigin(file: "fuzz", line: 1)
        for _ in 0..<30_000 {
            let rule = mutate(seeds[random.below(seeds.count)], &random)
            switch parser.parse(bytes: rule, origin: origin) {
            case .success(let spec):
                loaded += 1
                #expect(spec.sid > 0)
            case .failure(let skip):
                skipped += 1
                #expect(!skip.keyword.isEmpty && !skip.message.isEmpty)
                if let column = skip.column { #expect(column >= 1 && column <= rule.count + 1) }
            }
        }
        #expect(loaded + skipped == 30_000)
        print("fuzz: \(loaded) loaded, \(skipped) skipped of 30000 mutated rules (\(seeds.count) seeds)")
    }

    @Test func mutatedFilesKeepTheCountsConsistent() {
        let seeds = seedRules()
        var random = SplitMix64(seed: 42)
        var text: [UInt8] = []
        for _ in 0..<2_000 {
            text += mutate(seeds[random.below(seeds.count)], &random)
            text.append(random.below(10) == 0 ? UInt8(ascii: "\\") : 0x0A)
            text.append(0x0A)
        }
        let report = RuleFileLoader().load(text: String(decoding: text, as: UTF8.self), file: "fuzz.rules").report
        #expect(report.loaded + report.skipped == report.rulesSeen)
        #expect(report.rulesSeen > 0)
    }
}
