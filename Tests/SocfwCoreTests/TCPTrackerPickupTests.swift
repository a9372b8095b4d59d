import Testing
import SocfwCore
import SocfwWire

/// First packets, and flows picked up mid-stream (nf_conntrack_tcp_loose), e.g. after
/// socfwd restarts under live traffic.
@Suite struct TCPTrackerPickupTests {
    static let c = CurlExchange.clientNext, s = CurlExchange.serverNext

    /// (first packet's tcpdump flags, loose pickup, expected update).
    static let firstPackets: [(String, Bool, TCPUpdate)] = [
        ("S", false, .accepted(.synSent)),
        ("S", true, .accepted(.synSent)),
        ("SEW", false, .accepted(.synSent)),
        (".", false, .invalid(.notSyn)),
        ("P.", false, .invalid(.notSyn)),
        ("F.", false, .invalid(.notSyn)),
        ("R", false, .invalid(.notSyn)),
        ("R.", false, .invalid(.notSyn)),
        (".", true, .accepted(.established)),
        ("P.", true, .accepted(.established)),
        ("F.", true, .accepted(.finWait1)),
        ("R", true, .invalid(.invalidTransition)),
        ("R.", true, .invalid(.invalidTransition)),
        ("S.", false, .invalid(.unexpectedSynAck)),
        ("S.", true, .invalid(.unexpectedSynAck)),
        ("none", true, .invalid(.badFlags)),
        ("SF", true, .invalid(.badFlags)),
    ]

    @Test(arguments: firstPackets)
    func firstPacketStartsTrackingOnlyWhenItMay(_ flags: String, _ loose: Bool, _ expected: TCPUpdate) {
        TCPScript.run([.init(.original, flags, Self.c, Self.s, 501, 0, expect: expected)], loosePickup: loose)
    }

    @Test func midStreamFlowBecomesAssuredAfterAnAnswer() throws {
        let c = Self.c, s = Self.s
        let pickup = TCPScriptStep(.original, "P.", c, s, 501, 100, expect: .accepted(.established))
        let answer = TCPScriptStep(.reply, ".", s, c + 100, 509, 0, expect: .accepted(.established))
        let next = TCPScriptStep(.original, ".", c + 100, s, 501, 0, expect: .accepted(.established))

        let alone = try #require(TCPScript.run([pickup], loosePickup: true))
        #expect(!alone.seenReply && !alone.assured)
        let answered = try #require(TCPScript.run([pickup, answer], loosePickup: true))
        #expect(answered.seenReply && !answered.assured)
        let assured = try #require(TCPScript.run([pickup, answer, next], loosePickup: true))
        #expect(assured.seenReply && assured.assured)
    }

    @Test func midStreamFlowToleratesTheUnknownWindowScale() {
        // The scale was agreed before we looked: the client's raw 501 may mean 64128 bytes.
        let c = Self.c, s = Self.s
        TCPScript.run([
            .init(.original, ".", c, s, 501, 0, expect: .accepted(.established)),
            .init(.original, ".", c, s + 30000, 501, 0, expect: .accepted(.established)),  // data sent before us
            .init(.reply, "P.", s + 50000, c, 509, 1448, expect: .accepted(.established)),
            .init(.original, ".", c, s + 51448, 501, 0, expect: .accepted(.established)),
            .init(.reply, "P.", s + 51448, c, 509, 1448, expect: .accepted(.established)),
        ], loosePickup: true)
    }

    @Test func midStreamFlowStillFollowsTheClose() {
        let c = Self.c, s = Self.s
        TCPScript.run([
            .init(.original, "P.", c, s, 501, 100, expect: .accepted(.established)),
            .init(.reply, "F.", s, c + 100, 509, 0, expect: .accepted(.finWait1)),
            .init(.reply, "P.", s + 1, c + 100, 509, 10, expect: .invalid(.dataAfterFin)),
            .init(.original, ".", c + 100, s + 1, 501, 0, expect: .accepted(.finWait2)),
            .init(.original, "F.", c + 100, s + 1, 501, 0, expect: .accepted(.timeWait)),
            .init(.reply, ".", s + 1, c + 101, 509, 0, expect: .accepted(.timeWait)),
            .init(.reply, "S", s + 0x0100_0000, 0, 65535, 0, expect: .invalid(.unexpectedSyn)),
            .init(.original, "S", c + 0x0100_0000, 0, 64240, 0, expect: .reopen),
        ], loosePickup: true)
    }

    @Test func midStreamFinIsPickedUpAsFinWait1() {
        let c = Self.c, s = Self.s
        TCPScript.run([
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
            .init(.reply, "F.", s, c + 1, 509, 0, expect: .accepted(.timeWait)),
            .init(.original, ".", c + 1, s + 1, 501, 0, expect: .accepted(.timeWait)),
        ], loosePickup: true)
    }

    @Test func midStreamFlowStillChecksResets() {
        let c = Self.c, s = Self.s
        TCPScript.run([
            .init(.original, ".", c, s, 501, 0, expect: .accepted(.established)),
            .init(.reply, ".", s, c, 509, 0, expect: .accepted(.established)),
            .init(.reply, "R", s - 100, 0, 0, 0, expect: .invalid(.outOfWindow)),  // below the client's ack
            .init(.reply, "R", s + 100, 0, 0, 0, expect: .accepted(.established)),  // challenge ACK path
            .init(.reply, "R", s, 0, 0, 0, expect: .accepted(.closed)),
        ], loosePickup: true)
    }

    @Test func midStreamFlowAcceptsTheReplyToAKeepalive() {
        // The first packet is a keepalive at SND.NXT - 1; the answer acknowledges SND.NXT.
        let c = Self.c, s = Self.s
        TCPScript.run([
            .init(.original, ".", c - 1, s, 501, 0, expect: .accepted(.established)),
            .init(.reply, ".", s, c, 509, 0, expect: .accepted(.established)),
            .init(.original, ".", c, s, 501, 0, expect: .accepted(.established)),
        ], loosePickup: true)
    }
}
