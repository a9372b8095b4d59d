import SocfwIDS
import SocfwWire
import Testing

/// A signature on UDP payloads (packet context) with the given steps.
func udpSignature(_ sid: UInt32, _ steps: [DetectionStep], action: SignatureAction = .alert) -> SignatureSpec {
    var s = SignatureSpec(action: action, proto: .udp, sid: sid, message: "test \(sid)",
                          origin: SignatureOrigin(file: "test", line: Int(sid)))
    s.steps = steps
    return s
}

func content(_ text: String, _ configure: (inout ContentMatch) -> Void = { _ in }) -> DetectionStep {
    var c = ContentMatch(bytes: Array(text.utf8))
    configure(&c)
    return .content(c)
}

func pcre(_ pattern: String, _ configure: (inout PcreMatch) -> Void = { _ in }) -> DetectionStep {
    var p = PcreMatch(pattern: pattern)
    configure(&p)
    return .pcre(p)
}

/// Runs `packets` through one inspector; returns the sids that alerted per packet and the verdicts.
func inspect(_ specs: [SignatureSpec], _ packets: [[UInt8]], flow: InspectionFlow? = nil,
             times: [Int64]? = nil) throws -> (alerts: [[UInt32]], verdicts: [SignatureVerdict], inspector: SignatureInspector) {
    let set = try SignatureSet(specs: specs)
    #expect(set.skipped.isEmpty, "\(set.skipped)")
    let inspector = SignatureInspector(set: set)
    var alerts: [[UInt32]] = []
    var verdicts: [SignatureVerdict] = []
    for (i, packet) in packets.enumerated() {
        var sids: [UInt32] = []
        let summary = TestPacket.summary(packet)
        let v = packet.withUnsafeBytes {
            inspector.inspect(summary, bytes: $0, flow: flow, now: times?[i] ?? Int64(i) * 1_000_000) { sids.append($0.info.sid) }
        }
        alerts.append(sids)
        verdicts.append(v)
    }
    return (alerts, verdicts, inspector)
}

func udp(_ payload: String, src: String = "10.0.0.1", dst: String = "10.0.0.2") -> [UInt8] {
    TestPacket.udp(src, dst, payload: Array(payload.utf8))
}

@Suite struct ContentKeywordTests {
    @Test func offsetAndDepthBoundWhereAContentMayStart() throws {
        let sig = udpSignature(1, [content("abc") { $0.offset = 1; $0.depth = 4 }])
        let r = try inspect([sig], [udp("xabcd"), udp("xxabc"), udp("abcxx"), udp("xxxabc")])
        #expect(r.alerts == [[1], [1], [], []])
    }

    @Test func distanceAndWithinAreRelativeToThePreviousMatchWithBacktracking() throws {
        let sig = udpSignature(2, [content("a"), content("b") { $0.distance = 1; $0.within = 1 }])
        // The first "a" is followed by "c": the matcher must retry at the second "a".
        let r = try inspect([sig], [udp("acxab"), udp("axb"), udp("ab"), udp("axxb")])
        #expect(r.alerts == [[], [2], [], []])
        let backtrack = udpSignature(3, [content("GET"), content("admin") { $0.distance = 0; $0.within = 7 }])
        let r2 = try inspect([backtrack], [udp("GET /x GET /admin"), udp("GET /xxxxxxxxx admin")])
        #expect(r2.alerts == [[3], []])
    }

    @Test func negatedContentMustBeAbsentInItsWindow() throws {
        let sig = udpSignature(4, [content("user"), content("admin") { $0.negated = true; $0.distance = 0; $0.within = 10 }])
        let r = try inspect([sig], [udp("user=bob"), udp("user=admin"), udp("user=bob ............ admin")])
        #expect(r.alerts == [[4], [], [4]])
    }

    @Test func nocaseMatchesEitherCase() throws {
        let sig = udpSignature(5, [content("SeLeCt") { $0.nocase = true }])
        let exact = udpSignature(6, [content("Select")])
        let r = try inspect([sig, exact], [udp("xx SELECT yy"), udp("select"), udp("Select")])
        #expect(r.alerts == [[5], [5], [5, 6]])
    }

    @Test func endsWithAnchorsAtTheEndOfTheBuffer() throws {
        let sig = udpSignature(7, [content(".exe") { $0.endsWith = true }])
        let r = try inspect([sig], [udp("a.exe"), udp("a.exe.txt")])
        #expect(r.alerts == [[7], []])
    }

    @Test func pcreRelativeStartsAfterThePreviousContent() throws {
        let sig = udpSignature(8, [content("id="), pcre("^\\d+;") { $0.relative = true }])
        let r = try inspect([sig], [udp("x id=123;"), udp("x id=abc;"), udp("1; id=x")])
        #expect(r.alerts == [[8], [], []])
        let negated = udpSignature(9, [content("GET"), pcre("HTTP/1\\.[01]") { $0.negated = true }])
        let r2 = try inspect([negated], [udp("GET / HTTP/1.1"), udp("GET / HTTP/2")])
        #expect(r2.alerts == [[], [9]])
    }

    @Test func isdataatAndBufferSize() throws {
        let dataAt = udpSignature(10, [content("LEN"), .dataAt(DataAtTest(buffer: .payload, offset: 4, relative: true))])
        let size = udpSignature(11, [content("x"), .size(BufferSize(buffer: .payload, range: NumericTest(.greater, 5)))])
        let r = try inspect([dataAt, size], [udp("LEN12345"), udp("LEN123"), udp("xxxxxxx")])
        #expect(r.alerts == [[10], [], [11]])
    }
}

@Suite struct HeaderKeywordTests {
    func tcpSignature(_ sid: UInt32, _ configure: (inout SignatureSpec) -> Void) -> SignatureSpec {
        var s = SignatureSpec(action: .alert, proto: .tcp, sid: sid, message: "t", origin: SignatureOrigin(file: "t", line: 1))
        configure(&s)
        return s
    }

    @Test func flagsTtlDsizeAndIcmpTests() throws {
        let syn = tcpSignature(20) { $0.tcpFlags = TCPFlagsTest(flags: 0x02) }
        let xmas = tcpSignature(21) { $0.tcpFlags = TCPFlagsTest(flags: 0x29, mode: .all) }
        let lowTTL = tcpSignature(22) { $0.ttl = NumericTest(.less, 3) }
        var ping = SignatureSpec(action: .alert, proto: .icmp, sid: 23, message: "big ping", origin: SignatureOrigin(file: "t", line: 1))
        ping.icmpType = NumericTest(.equal, 8)
        ping.dsize = NumericTest(.greater, 100)
        let r = try inspect([syn, xmas, lowTTL, ping], [
            TestPacket.tcp("10.0.0.1", "10.0.0.2", flags: 0x02),
            TestPacket.tcp("10.0.0.1", "10.0.0.2", flags: 0x29),
            TestPacket.tcp("10.0.0.1", "10.0.0.2", flags: 0x10, ttl: 1),
            TestPacket.icmp("10.0.0.1", "10.0.0.2", payload: [UInt8](repeating: 0, count: 200)),
            TestPacket.icmp("10.0.0.1", "10.0.0.2", payload: [UInt8](repeating: 0, count: 20)),
        ])
        #expect(r.alerts == [[20], [21], [22], [23], []])
    }

    @Test func addressListsPortsAndNegationSelectPackets() throws {
        let list = (0..<1000).map { IPPrefix("198.51.\($0 / 250).\($0 % 250)")! }
        let reputation = tcpSignature(30) {
            $0.source = AddressMatch(include: list)
            $0.destinationPorts = PortMatch(include: [1...1023], exclude: [80...80])
        }
        let r = try inspect([reputation], [
            TestPacket.tcp("198.51.2.17", "10.0.0.2", dport: 22),
            TestPacket.tcp("198.51.2.17", "10.0.0.2", dport: 80),
            TestPacket.tcp("198.51.9.17", "10.0.0.2", dport: 22),
            TestPacket.tcp("10.0.0.2", "198.51.2.17", dport: 22),
        ])
        #expect(r.alerts == [[30], [], [], []])
        // Only packets from a listed source even look at the signature.
        #expect(r.inspector.counters.candidates == 2)
    }

    @Test func bidirectionalHeadersMatchBothWays() throws {
        let sig = tcpSignature(31) {
            $0.source = AddressMatch(include: [IPPrefix("10.9.0.0/16")!])
            $0.destinationPorts = PortMatch(include: [6667...6667])
            $0.bidirectional = true
        }
        let r = try inspect([sig], [
            TestPacket.tcp("10.9.1.1", "203.0.113.1", sport: 5000, dport: 6667),
            TestPacket.tcp("203.0.113.1", "10.9.1.1", sport: 6667, dport: 5000),
            TestPacket.tcp("203.0.113.1", "10.9.1.1", sport: 5000, dport: 6667),
        ])
        #expect(r.alerts == [[31], [31], []])
    }
}

@Suite struct PrefilterTests {
    @Test func tenThousandSignaturesThatCannotMatchAreNeverVerified() throws {
        var specs = (0..<10_000).map { i in udpSignature(UInt32(100_000 + i), [content("needle-\(i)-x")]) }
        specs.append(udpSignature(42, [content("attack")]))
        let r = try inspect(specs, [udp("harmless"), udp("an attack here"), udp("needle-77-x")])
        #expect(r.alerts == [[], [42], [100_077]])
        #expect(r.inspector.counters.candidates == 2)
    }

    @Test func explicitFastPatternIsTheLiteralUsed() throws {
        // The longest content ("aaaaaaaaaa") is present everywhere; "rare" is the fast pattern.
        let sig = udpSignature(50, [content("aaaaaaaaaa"), content("rare") { $0.fastPattern = true }])
        let r = try inspect([sig], [udp("aaaaaaaaaa"), udp("aaaaaaaaaa rare")])
        #expect(r.alerts == [[], [50]])
        #expect(r.inspector.counters.candidates == 1)
    }
}

@Suite struct FlowStateTests {
    func flow(_ slot: Int32 = 3, created: Bool = false, id: UInt64 = 77) -> InspectionFlow {
        InspectionFlow(slot: slot, flowID: id, created: created, toServer: true, established: true)
    }

    @Test func flowbitsCarryStateBetweenSignatures() throws {
        var login = udpSignature(60, [content("LOGIN")])
        login.flowbits = [.set("logged_in"), .noAlert]
        var cmd = udpSignature(61, [content("DELETE")])
        cmd.flowbits = [.isSet(["logged_in"], all: true)]
        let r = try inspect([login, cmd], [udp("DELETE x"), udp("LOGIN bob"), udp("DELETE y")], flow: flow())
        #expect(r.alerts == [[], [], [61]])
        #expect(r.inspector.hitsPerSignature == [1, 1])
    }

    @Test func dropBlocksTheRestOfTheFlowAndPassWins() throws {
        let drop = udpSignature(70, [content("evil")], action: .drop)
        let r = try inspect([drop], [udp("fine"), udp("evil"), udp("fine again")], flow: flow())
        #expect(r.verdicts.map(\.action) == [nil, .drop, .drop])
        #expect(r.verdicts[2].blockedFlow)
        #expect(r.alerts == [[], [70], []])
        let pass = udpSignature(71, [content("evil")], action: .pass)
        let r2 = try inspect([drop, pass], [udp("evil")], flow: flow())
        #expect(r2.verdicts.map(\.action) == [.pass])
    }

    @Test func aNewFlowInTheSlotStartsClean() throws {
        let drop = udpSignature(72, [content("evil")], action: .drop)
        let set = try SignatureSet(specs: [drop])
        let inspector = SignatureInspector(set: set)
        func run(_ p: [UInt8], _ f: InspectionFlow) -> SignatureVerdict {
            p.withUnsafeBytes { inspector.inspect(TestPacket.summary(p), bytes: $0, flow: f, now: 0) { _ in } }
        }
        #expect(run(udp("evil"), flow(id: 1)).action == .drop)
        #expect(run(udp("ok"), flow(id: 1)).blockedFlow)
        #expect(run(udp("ok"), flow(created: true, id: 2)).action == nil)
    }

    @Test func thresholdLimitAndDetectionFilter() throws {
        var limited = udpSignature(80, [content("probe")])
        limited.threshold = ThresholdSpec(kind: .limit, track: .bySource, count: 1, seconds: 60)
        var filtered = udpSignature(81, [content("login fail")])
        filtered.detectionFilter = ThresholdSpec(kind: .detectionFilter, track: .bySource, count: 2, seconds: 60)
        let packets = [udp("probe"), udp("probe"), udp("probe", src: "10.0.0.9"),
                       udp("login fail"), udp("login fail"), udp("login fail")]
        let r = try inspect([limited, filtered], packets)
        #expect(r.alerts == [[80], [], [80], [], [], [81]])
        // A new window starts counting again.
        let later = try inspect([limited], [udp("probe"), udp("probe")], times: [0, 61_000_000_000])
        #expect(later.alerts == [[80], [80]])
    }
}
