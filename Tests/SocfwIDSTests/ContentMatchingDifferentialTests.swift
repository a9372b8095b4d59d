import SocfwIDS
import SocfwWire
import Testing

/// The content matcher against a brute-force reference: random chains of
/// contents (offset, depth, distance, within, nocase, negation, endswith)
/// over a three-letter alphabet, random payloads, same answer. The
/// reference tries every occurrence of every step (no pruning, no budget).
@Suite struct ContentMatchingDifferentialTests {
    struct Step {
        var pattern: [UInt8]
        var nocase = false
        var negated = false
        var offset: Int? = nil, depth: Int? = nil, distance: Int? = nil, within: Int? = nil
        var endsWith = false

        var relative: Bool { distance != nil || within != nil }
    }

    static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b | 0x20 : b }

    /// Suricata semantics, spelled out naively.
    static func reference(_ steps: [Step], _ hay: [UInt8], _ i: Int = 0, previousEnd: Int = 0) -> Bool {
        if i == steps.count { return true }
        let s = steps[i]
        var lower = 0
        var upperEnd = hay.count
        if s.relative {
            lower = max(0, previousEnd + (s.distance ?? 0))
            if let w = s.within { upperEnd = min(upperEnd, previousEnd + (s.distance ?? 0) + w) }
        }
        if s.offset != nil || s.depth != nil {
            lower = max(lower, s.offset ?? 0)
            if let d = s.depth { upperEnd = min(upperEnd, (s.offset ?? 0) + d) }
        }
        if s.endsWith { lower = max(lower, hay.count - s.pattern.count) }
        var occurrences: [Int] = []
        if lower <= upperEnd - s.pattern.count {
            for start in lower...(upperEnd - s.pattern.count) {
                let same = (0..<s.pattern.count).allSatisfy { k in
                    s.nocase ? Self.lower(hay[start + k]) == Self.lower(s.pattern[k]) : hay[start + k] == s.pattern[k]
                }
                if same { occurrences.append(start) }
            }
        }
        if s.negated {
            return occurrences.isEmpty && reference(steps, hay, i + 1, previousEnd: previousEnd)
        }
        return occurrences.contains { reference(steps, hay, i + 1, previousEnd: $0 + s.pattern.count) }
    }

    @Test(arguments: 0..<8)
    func matcherAgreesWithTheReference(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed) &* 0x9e37_79b9 &+ 17)
        let alphabet: [UInt8] = Array("abAB".utf8)
        func word(_ n: Int) -> [UInt8] { (0..<n).map { _ in alphabet[rng.below(alphabet.count)] } }
        for round in 0..<150 {
            var steps: [Step] = []
            for k in 0..<(1 + rng.below(3)) {
                var s = Step(pattern: word(1 + rng.below(3)))
                s.nocase = rng.below(2) == 0
                s.negated = k > 0 && rng.below(5) == 0
                switch rng.below(4) {
                case 0 where k > 0:
                    s.distance = rng.below(5) - 1
                    if rng.below(2) == 0 { s.within = s.pattern.count + rng.below(5) }
                case 1:
                    s.offset = rng.below(6)
                    if rng.below(2) == 0 { s.depth = s.pattern.count + rng.below(6) }
                case 2 where k == 0:
                    s.endsWith = rng.below(3) == 0
                default:
                    break
                }
                steps.append(s)
            }
            // The engine refuses a rule of only negated contents in some contexts; keep one positive.
            let specSteps: [DetectionStep] = steps.map { s in
                var c = ContentMatch(bytes: s.pattern)
                c.nocase = s.nocase
                c.negated = s.negated
                c.offset = s.offset
                c.depth = s.depth
                c.distance = s.distance
                c.within = s.within
                c.endsWith = s.endsWith
                return .content(c)
            }
            let sig = udpSignature(UInt32(1000 + round), specSteps)
            let set = try SignatureSet(specs: [sig])
            guard set.skipped.isEmpty else { continue }  // e.g. depth shorter than the content
            let inspector = SignatureInspector(set: set)
            for _ in 0..<20 {
                let hay = word(rng.below(14))
                let packet = TestPacket.udp("10.0.0.1", "10.0.0.2", payload: hay)
                var alerted = false
                _ = packet.withUnsafeBytes {
                    inspector.inspect(TestPacket.summary(packet), bytes: $0, flow: nil, now: 0) { _ in alerted = true }
                }
                // An empty payload is never inspected by packet-context signatures.
                let expected = !hay.isEmpty && Self.reference(steps, hay)
                #expect(alerted == expected, "seed \(seed) round \(round): \(steps) on \(String(decoding: hay, as: UTF8.self))")
                if alerted != expected { return }
            }
        }
    }
}
