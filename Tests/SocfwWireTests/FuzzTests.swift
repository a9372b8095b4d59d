import Testing
import SocfwWire

/// What one fuzz input did.
private enum Verdict {
    case rejected
    case parsed(l4: Bool)
    case violated(String)
}

/// Runs the parser over one buffer and checks the summary's promises.
private func check(_ buffer: UnsafeRawBufferPointer, wireLength: Int?) -> Verdict {
    var result = PacketSummary()
    do throws(WireError) {
        try PacketParser.parse(buffer, wireLength: wireLength, into: &result)
    } catch {
        _ = error.counterName
        return .rejected
    }
    if let problem = violation(result, in: buffer) { return .violated(problem) }
    return .parsed(l4: result.l4Parsed)
}

/// The first broken promise of a successful parse, or nil.
private func violation(_ result: PacketSummary, in buffer: UnsafeRawBufferPointer) -> String? {
    let count = buffer.count
    guard result.ipVersion == 4 || result.ipVersion == 6 else { return "version \(result.ipVersion)" }
    guard result.l4Offset >= 20, result.l4Offset <= count else { return "l4Offset \(result.l4Offset) of \(count)" }
    guard result.payloadOffset >= result.l4Offset, result.payloadLength >= 0,
          result.payloadOffset + result.payloadLength <= count
    else { return "payload \(result.payloadOffset)+\(result.payloadLength) of \(count)" }
    guard result.payloadOffset + result.payloadLength <= max(result.ipLength, 0) || result.isTruncated
    else { return "payload past ipLength" }
    if result.l4Parsed {
        guard result.fragmentOffset == 0 else { return "L4 parsed in a non-first fragment" }
        if result.l4Protocol == IPProtocolNumber.tcp {
            // The options walker must also hold up under the same bytes.
            let l4 = UnsafeRawBufferPointer(rebasing: buffer[result.l4Offset..<count])
            guard let segment = try? TCPSegment(checking: l4) else { return "TCP view rejects parsed header" }
            _ = try? segment.parseOptions()
        }
    } else if result.sourcePort != 0 || result.destinationPort != 0 {
        return "ports without L4"
    }
    return nil
}

@Suite("Fuzz")
struct FuzzTests {
    @Test("200,000 random, mutated and truncated buffers never crash the parser and offsets stay inside")
    func parserSurvivesFuzzing() {
        var rng = SplitMix64(seed: 0x50cf_3a11)
        let fixtures = Fixtures.all.map(\.bytes)
        var scratch = [UInt8](repeating: 0, count: 1600)
        var iterations = 0
        var accepted = 0
        var withL4 = 0
        var failures: [String] = []

        func run(_ length: Int, wireLength: Int?, label: @autoclosure () -> String) {
            iterations += 1
            let verdict = scratch.withUnsafeBytes { whole in
                check(UnsafeRawBufferPointer(rebasing: whole[0..<length]), wireLength: wireLength)
            }
            switch verdict {
            case .rejected:
                break
            case .parsed(let l4):
                accepted += 1
                if l4 { withL4 += 1 }
            case .violated(let problem):
                if failures.count < 10 {
                    failures.append("\(label()): \(problem): \(scratch[0..<length].map { String($0, radix: 16) })")
                }
            }
        }

        // Every truncation of every fixture, as a whole packet and as a capture of a longer one.
        for (index, fixture) in fixtures.enumerated() {
            scratch.replaceSubrange(0..<fixture.count, with: fixture)
            for length in 0...fixture.count {
                run(length, wireLength: nil, label: "fixture \(index) cut at \(length)")
                run(length, wireLength: fixture.count, label: "fixture \(index) captured to \(length)")
            }
        }

        while iterations < 200_000 {
            let mode = rng.below(8)
            var length: Int
            var wireLength: Int? = nil
            if mode < 5 {
                // Bit flips and byte overwrites of a fixture, sometimes cut short.
                let fixture = fixtures[rng.below(fixtures.count)]
                scratch.replaceSubrange(0..<fixture.count, with: fixture)
                length = fixture.count
                for _ in 0...rng.below(4) {
                    let position = rng.below(min(length, 64))
                    if rng.below(2) == 0 {
                        scratch[position] ^= 1 << UInt8(rng.below(8))
                    } else {
                        scratch[position] = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x3b, 0x2c, 0x05][rng.below(8)]
                    }
                }
                if mode >= 3 {
                    wireLength = rng.below(2) == 0 ? length : length + rng.below(100)
                    length = rng.below(length + 1)
                }
            } else if mode < 7 {
                // Random bytes behind a plausible version nibble.
                length = rng.below(120)
                for position in 0..<length { scratch[position] = UInt8(truncatingIfNeeded: rng.next()) }
                if length > 0 { scratch[0] = (rng.below(2) == 0 ? 0x40 : 0x60) | (scratch[0] & 0x0f) }
                if rng.below(3) == 0 { wireLength = length + rng.below(2000) }
            } else {
                // A random IPv6 extension header chain with random lengths.
                length = 40
                scratch.replaceSubrange(0..<40, with: Fixtures.ipv6TCPSyn.prefix(40))
                let kinds: [UInt8] = [0, 43, 44, 51, 60, 135, 139, 140, 50, 59, 6, 17, 58]
                var nextHeaderAt = 6
                for _ in 0..<rng.below(12) {
                    let kind = kinds[rng.below(kinds.count)]
                    scratch[nextHeaderAt] = kind
                    let size = 8 * (1 + rng.below(3))
                    guard length + size <= 1400 else { break }
                    for position in length..<length + size { scratch[position] = UInt8(truncatingIfNeeded: rng.next()) }
                    scratch[length + 1] = UInt8(size / 8 - 1)
                    nextHeaderAt = length
                    length += size
                }
                scratch[nextHeaderAt] = kinds[rng.below(kinds.count)]
                let payload = length - 40
                scratch[4] = UInt8(payload >> 8)
                scratch[5] = UInt8(payload & 0xff)
            }
            run(length, wireLength: wireLength, label: "iteration \(iterations) mode \(mode)")
        }
        #expect(iterations >= 200_000)
        #expect(failures.isEmpty, "\(failures)")
        // The mutations must reach the deep layers, not only the first length check.
        #expect(accepted > iterations / 10, "only \(accepted) of \(iterations) parsed")
        #expect(withL4 > iterations / 20, "only \(withL4) of \(iterations) reached L4")
    }

    @Test("RejectBuilder answers mutated packets only with well-formed replies")
    func rejectBuilderSurvivesFuzzing() throws {
        var rng = SplitMix64(seed: 0x0bad_cafe)
        let fixtures = Fixtures.all.map(\.bytes)
        var replies = 0
        var bad = 0
        for _ in 0..<20_000 {
            var bytes = fixtures[rng.below(fixtures.count)]
            for _ in 0...rng.below(3) {
                bytes[rng.below(min(bytes.count, 64))] ^= 1 << UInt8(rng.below(8))
            }
            guard let reply = bytes.withUnsafeBytes({ RejectBuilder.reply(to: $0) }) else { continue }
            replies += 1
            guard case .success(let result) = parsed(reply) else { bad += 1; continue }
            if reply.count > (result.ipVersion == 4 ? 576 : 1280) || result.ttl != 64 { bad += 1 }
        }
        #expect(replies > 1000)
        #expect(bad == 0)
    }
}
