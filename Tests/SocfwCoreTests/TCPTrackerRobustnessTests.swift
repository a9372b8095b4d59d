import Testing
import SocfwCore
import SocfwWire

/// Random segments against trackers in every state the tracker reports: it must never
/// trap, an `.invalid` (or `.reopen`) must leave the tracker exactly as it was, and an
/// accepted segment may only move the state forwards.
@Suite struct TCPTrackerRobustnessTests {
    static let iterations = 100_000

    /// A tracker and the sequence numbers its flow has used so far.
    struct Walker {
        var tracker: TCPTracker
        var anchors: Anchors
    }

    /// Trackers in every reachable state, from the scripts of the other suites.
    static func seedTrackers() -> [TCPTracker] { seedWalkers().map(\.tracker) }

    static func seedWalkers() -> [Walker] {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        let a: UInt32 = 0x1B2C_3D4E, b: UInt32 = 0x8899_AABB
        let scripts: [([TCPScriptStep], Bool)] = [
            (TCPTrackerResetTests.synSent, false),
            (TCPTrackerResetTests.synReceived, false),
            (CurlExchange.established, false),
            (TCPTrackerResetTests.finWait1, false),
            (TCPTrackerResetTests.finWait2, false),
            (TCPTrackerResetTests.closing, false),
            (TCPTrackerResetTests.timeWait, false),
            (TCPTrackerResetTests.closed, false),
            ([
                .init(.original, "S", a, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),
                .init(.reply, "S", b, 0, 65535, 0, ws: 8, expect: .accepted(.synReceived)),
            ], false),
            ([
                .init(.original, "P.", c, s, 501, 100, expect: .accepted(.established)),
                .init(.reply, ".", s, c + 100, 509, 0, expect: .accepted(.established)),
            ], true),
            ([
                .init(.original, "S", 0xFFFF_FA00, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),
                .init(.reply, "S.", 0xFFFF_FFFF, 0xFFFF_FA01, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
                .init(.original, ".", 0xFFFF_FA01, 0, 502, 0, expect: .accepted(.established)),
            ], false),
        ]
        return scripts.compactMap { script, loose in
            guard let tracker = TCPScript.run(script, loosePickup: loose) else { return nil }
            var anchors = Anchors()
            for step in script { anchors.remember(step.segment) }
            return Walker(tracker: tracker, anchors: anchors)
        }
    }

    /// Position of a state on the way from SYN_SENT to TIME_WAIT (CLOSED is final).
    static func progress(_ state: TCPConnectionState) -> Int {
        switch state {
        case .synSent: 0
        case .synReceived: 1
        case .established: 2
        case .finWait1: 3
        case .finWait2, .closing, .closeWait, .lastAck: 4
        case .timeWait: 5
        case .closed: 6
        }
    }

    /// Sequence numbers worth hitting: those of the flow's segments so far (its ISNs,
    /// edges and acks), so random segments land near the windows often enough to pass.
    struct Anchors {
        var values: [UInt32] = [0]
        var next = 0

        mutating func remember(_ segment: TCPSegmentInfo) {
            let end = segment.sequence &+ UInt32(clamping: segment.payloadLength)
            for value in [segment.sequence, end, end &+ 1, segment.acknowledgement] { remember(value) }
        }

        mutating func remember(_ value: UInt32) {
            if values.count < 32 {
                values.append(value)
            } else {
                values[next] = value
                next = (next + 1) % values.count
            }
        }

        func pick(using rng: inout SplitMix64) -> UInt32 {
            let base = values[Int(rng.next() % UInt64(values.count))]
            switch rng.next() % 8 {
            case 0: return UInt32(truncatingIfNeeded: rng.next())
            case 1, 2, 3: return base &+ UInt32(bitPattern: Int32(rng.next() % 7) - 3)
            default: return base &+ UInt32(bitPattern: Int32(rng.next() % 140_001) - 70_000)
            }
        }
    }

    static func randomFlags(using rng: inout SplitMix64) -> TCPFlags {
        let plausible = ["S", "S.", ".", ".", "P.", "P.", "F.", "FP.", "R", "R.", "SEW", ".U"]
        if rng.next() % 10 == 0 { return TCPFlags(rawValue: UInt8(truncatingIfNeeded: rng.next())) }
        return TCPScript.flags(plausible[Int(rng.next() % UInt64(plausible.count))])
    }

    static func randomSegment(_ anchors: Anchors, using rng: inout SplitMix64) -> TCPSegmentInfo {
        let payloads = [0, 0, 0, 1, 100, 1448, 65535, -1]
        let payload = rng.next() % 10 == 0
            ? Int(rng.next() % 70_000) : payloads[Int(rng.next() % UInt64(payloads.count))]
        let scale: UInt8? = rng.next() % 3 == 0 ? nil : UInt8(truncatingIfNeeded: rng.next() % 20)
        return TCPSegmentInfo(
            flags: randomFlags(using: &rng), sequence: anchors.pick(using: &rng),
            acknowledgement: anchors.pick(using: &rng), window: UInt16(truncatingIfNeeded: rng.next()),
            payloadLength: payload, windowScale: scale)
    }

    @Test func seedsCoverEveryReportedState() {
        let states = Set(Self.seedTrackers().map(\.state))
        let reported = Set(TCPConnectionState.allCases).subtracting([.closeWait, .lastAck])
        #expect(states == reported)
    }

    @Test func randomSegmentsNeverCorruptTheTracker() throws {
        let seeds = Self.seedWalkers()
        try #require(seeds.count == 11)
        var rng = SplitMix64(seed: 0x50CF_7C9_2026)
        var walkers = seeds + seeds + seeds
        var failures: [String] = []
        var verdicts: [String: Int] = [:]

        for iteration in 0..<Self.iterations {
            let slot = Int(rng.next() % UInt64(walkers.count))
            let segment = Self.randomSegment(walkers[slot].anchors, using: &rng)
            let direction: FlowDirection = rng.next() % 2 == 0 ? .original : .reply

            if rng.next() % 20 == 0 {
                // A brand-new flow's first packet.
                let loose = rng.next() % 2 == 0
                let (tracker, update) = TCPTracker.start(segment, loosePickup: loose)
                switch update {
                case .accepted(let state) where tracker?.state == state: break
                case .invalid where tracker == nil: break
                default:
                    failures.append("#\(iteration) start(\(segment), loose: \(loose)) -> \(update)")
                }
                continue
            }

            let before = walkers[slot].tracker
            var tracker = before
            let update = tracker.update(segment, direction: direction)
            verdicts[key(update), default: 0] += 1

            switch update {
            case .invalid:
                if tracker != before { failures.append("#\(iteration) invalid changed \(before) to \(tracker)") }
            case .reopen:
                let fromEnd = before.state == .timeWait || before.state == .closed
                if tracker != before || !fromEnd || direction != .original || !segment.flags.contains(.syn) {
                    failures.append("#\(iteration) reopen from \(before.state.name) \(direction) \(segment)")
                }
            case .accepted(let state):
                let forwards = before.state == .closed
                    ? state == .closed
                    : Self.progress(state) >= Self.progress(before.state)
                        && !(before.state == .finWait2 && state == .closing)
                        && !(before.state == .closing && state == .finWait2)
                let flagsKept = (!before.seenReply || tracker.seenReply) && (!before.assured || tracker.assured)
                if state != tracker.state || !forwards || !flagsKept || state == .closeWait || state == .lastAck
                    || (direction == .reply && !tracker.seenReply) {
                    failures.append("#\(iteration) \(before.state.name) + \(direction) \(segment) -> \(update)")
                }
                walkers[slot].anchors.remember(segment)
                walkers[slot].tracker = tracker
            }
            // Walkers that reached the end go back to a seed, so every state stays in play.
            if slot >= seeds.count, (tracker.state == .closed && rng.next() % 8 == 0) || rng.next() % 256 == 0 {
                walkers[slot] = seeds[Int(rng.next() % UInt64(seeds.count))]
            }
            if slot < seeds.count { walkers[slot] = seeds[slot] }
        }

        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(3))")
        // The walk must actually reach the interesting verdicts, or it proves little.
        let expected = ["reopen"] + (["accepted"] + TCPInvalidReason.allCases.filter { $0 != .notSyn }.map(\.rawValue))
        for verdict in expected {
            #expect(verdicts[verdict, default: 0] > 0, "never saw \(verdict): \(verdicts)")
        }
    }

    private func key(_ update: TCPUpdate) -> String {
        switch update {
        case .accepted: "accepted"
        case .invalid(let reason): reason.rawValue
        case .reopen: "reopen"
        }
    }
}
