import Foundation
import Testing
import SocfwCore

@Suite struct NftRulesetTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// nftables/socfw-MODE.nft is what an operator reads; it must be exactly
    /// what socfwd installs with the shipped defaults.
    @Test(arguments: DeploymentMode.allCases)
    func referenceFilesMatchTheRenderer(_ mode: DeploymentMode) throws {
        var c = SocfwConfig()
        c.mode = mode
        let file = Self.repo.appendingPathComponent("nftables/socfw-\(mode.rawValue).nft")
        let text = try String(contentsOf: file, encoding: .utf8)
        let body = text.split(separator: "\n", omittingEmptySubsequences: false)
            .drop(while: { $0.hasPrefix("#") }).joined(separator: "\n")
        #expect(body == NftRuleset(config: c).definition,
                "regenerate with: socfwd --print-ruleset (see the header of \(file.lastPathComponent))")
    }

    @Test func rejectRulesComeFirstAndTheQueueChainLast() {
        var c = SocfwConfig()
        c.marks.mask = 0xf0
        c.marks.reject = 0x10
        let lines = NftRuleset(config: c).definition.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let start = lines.firstIndex { $0.hasPrefix("type filter hook forward") }!
        #expect(lines[start + 1] == "meta mark & 0x000000f0 == 0x00000010 meta l4proto tcp reject with tcp reset")
        #expect(lines[start + 2] == "meta mark & 0x000000f0 == 0x00000010 reject with icmpx admin-prohibited")
        #expect(lines[lines.lastIndex { $0.hasPrefix("goto") }!] == "goto inspect")
    }

    @Test func failClosedUsesADropPolicyAndHostModeHooksInputAndOutput() {
        var c = SocfwConfig()
        c.mode = .host
        c.queues.bypass = false
        let text = NftRuleset(config: c).definition
        #expect(text.contains("type filter hook input priority 0; policy drop;"))
        #expect(text.contains("type filter hook output priority 0; policy drop;"))
        #expect(!text.contains("hook forward"))
    }

    @Test func bridgeModeHasNoKernelReject() {
        var c = SocfwConfig()
        c.mode = .bridge
        #expect(!NftRuleset(config: c).definition.contains("reject"))
    }

    @Test func kernelQueueCountersAreParsed() {
        let text = """
                0  12345     3 2 65535     7     9      102  1
                1 -4000000     0 2  1500     0     0       55  1
            garbage line
            """
        let rows = KernelQueueCounters.parse(text)
        #expect(rows.count == 1)  // the negative port id line is not a valid row
        #expect(rows[0] == KernelQueueCounters(queue: 0, portID: 12345, waiting: 3, copyMode: 2, copyRange: 65535,
                                               queueDropped: 7, userDropped: 9, lastPacketID: 102))
    }

    @Test func eventQueueDropsWhatDoesNotFitAndCountsIt() {
        let q = EventQueue(capacity: 3)
        let e = Event(kind: .log, timestampNanoseconds: 0, packet: .init(), verdict: .accept)
        #expect(q.push([e, e]) == 0)
        #expect(q.push([e, e]) == 1)
        #expect(q.lostCount == 1)
        #expect(q.drain().count == 3)
        #expect(q.drain().isEmpty)
    }

    @Test func ruleSnapshotSwapsAndBumpsTheGeneration() {
        let s = RuleSnapshot(RuleSet(rules: [], defaultAction: .allow))
        let g = s.generation
        s.replace(RuleSet(rules: [], defaultAction: .drop))
        #expect(s.generation == g + 1)
        #expect(s.load().0.defaultAction == .drop)
    }
}
