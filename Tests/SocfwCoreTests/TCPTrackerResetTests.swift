import Testing
import SocfwCore
import SocfwWire

/// RST handling: any state goes to CLOSED when the reset is acceptable (RFC 9293
/// §3.10.7, RFC 5961 §3.2 as Linux's tcp_packet() checks it), otherwise it is invalid.
@Suite struct TCPTrackerResetTests {
    static let c0 = CurlExchange.client, s0 = CurlExchange.server
    static let c = CurlExchange.clientNext, s = CurlExchange.serverNext

    static let established = CurlExchange.established
    static let synSent = Array(CurlExchange.handshake.prefix(1))
    static let synReceived = Array(CurlExchange.handshake.prefix(2))
    static let finWait1 = CurlExchange.established + [
        TCPScriptStep(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
    ]
    static let finWait2 = finWait1 + [TCPScriptStep(.reply, ".", s, c + 1, 509, 0, expect: .accepted(.finWait2))]
    static let closing = finWait1 + [TCPScriptStep(.reply, "F.", s, c, 509, 0, expect: .accepted(.closing))]
    static let timeWait = finWait2 + [
        TCPScriptStep(.reply, "F.", s, c + 1, 509, 0, expect: .accepted(.timeWait)),
        TCPScriptStep(.original, ".", c + 1, s + 1, 501, 0, expect: .accepted(.timeWait)),
    ]
    static let closed = CurlExchange.established + [
        TCPScriptStep(.original, "R.", c, s, 0, 0, expect: .accepted(.closed)),
    ]

    /// A state, the script reaching it, and a reset (window 0, no payload) sent there.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var script: [TCPScriptStep]
        var reset: TCPScriptStep
        var testDescription: String { "\(name): \(reset)" }

        init(
            _ name: String, _ script: [TCPScriptStep], _ direction: FlowDirection, _ flags: String,
            _ seq: UInt32, _ ack: UInt32, _ expected: TCPUpdate
        ) {
            self.name = name
            self.script = script
            self.reset = TCPScriptStep(direction, flags, seq, ack, 0, 0, expect: expected)
        }
    }

    static let acceptableResets: [Case] = [
        // Connection refused: RST|ACK seq 0 acknowledging the SYN.
        Case("SYN_SENT", synSent, .reply, "R.", 0, c0 + 1, .accepted(.closed)),
        // The client gives up: at its SND.NXT.
        Case("SYN_SENT", synSent, .original, "R", c0 + 1, 0, .accepted(.closed)),
        // The client refuses the SYN-ACK: seq = the SYN-ACK's ack (RFC 9293 §3.10.7.3).
        Case("SYN_RECV", synReceived, .original, "R", c0 + 1, 0, .accepted(.closed)),
        Case("SYN_RECV", synReceived, .reply, "R.", s0 + 1, c0 + 1, .accepted(.closed)),
        Case("ESTABLISHED", established, .original, "R.", c, s, .accepted(.closed)),
        Case("ESTABLISHED", established, .reply, "R", s, 0, .accepted(.closed)),
        Case("FIN_WAIT_1", finWait1, .reply, "R.", s, c + 1, .accepted(.closed)),
        Case("FIN_WAIT_1", finWait1, .original, "R", c + 1, 0, .accepted(.closed)),
        Case("FIN_WAIT_2", finWait2, .original, "R", c + 1, 0, .accepted(.closed)),
        Case("FIN_WAIT_2", finWait2, .reply, "R", s, 0, .accepted(.closed)),
        Case("CLOSING", closing, .reply, "R", s + 1, 0, .accepted(.closed)),
        Case("CLOSING", closing, .original, "R.", c + 1, s + 1, .accepted(.closed)),
        // TIME-WAIT assassination (RFC 1337): Linux closes the entry, so do we.
        Case("TIME_WAIT", timeWait, .reply, "R", s + 1, 0, .accepted(.closed)),
        Case("CLOSED", closed, .original, "R", c, 0, .accepted(.closed)),
    ]

    @Test(arguments: acceptableResets)
    func resetInAnyStateCloses(_ test: Case) {
        TCPScript.run(test.script + [test.reset])
    }

    static let unacceptableResets: [Case] = [
        Case("SYN_SENT", synSent, .reply, "R", 0, 0, .invalid(.outOfWindow)),
        Case("SYN_SENT", synSent, .reply, "R.", 0, 0, .invalid(.outOfWindow)),
        Case("SYN_SENT", synSent, .reply, "R.", 0, c0 + 2, .invalid(.outOfWindow)),
        Case("SYN_SENT", synSent, .reply, "R.", 0, c0, .invalid(.outOfWindow)),
        Case("SYN_SENT", synSent, .original, "R", c0, 0, .invalid(.outOfWindow)),
        Case("SYN_RECV", synReceived, .original, "R", c0, 0, .invalid(.outOfWindow)),
        Case("SYN_RECV", synReceived, .original, "R", c0 + 200_000, 0, .invalid(.outOfWindow)),
        Case("ESTABLISHED", established, .reply, "R", s + 200_000, 0, .invalid(.outOfWindow)),
        Case("ESTABLISHED", established, .reply, "R", s - 1, 0, .invalid(.outOfWindow)),
        Case("ESTABLISHED", established, .original, "R", c + 70000, 0, .invalid(.outOfWindow)),
        Case("ESTABLISHED", established, .original, "R.", c, s + 10, .invalid(.ackAboveSent)),
        Case("FIN_WAIT_1", finWait1, .reply, "R", s + 200_000, 0, .invalid(.outOfWindow)),
        Case("FIN_WAIT_2", finWait2, .original, "R", c, 0, .invalid(.outOfWindow)),
        Case("CLOSING", closing, .reply, "R", s - 5000, 0, .invalid(.outOfWindow)),
        Case("TIME_WAIT", timeWait, .reply, "R", s + 0x4000_0000, 0, .invalid(.outOfWindow)),
        Case("CLOSED", closed, .reply, "R", s + 0x4000_0000, 0, .invalid(.outOfWindow)),
    ]

    @Test(arguments: unacceptableResets)
    func resetOutsideTheWindowIsInvalid(_ test: Case) {
        TCPScript.run(test.script + [test.reset])
    }

    @Test func inexactResetKeepsAnEstablishedConnectionForTheChallengeAck() throws {
        // RFC 5961 §3.2: in window but not at RCV.NXT, the endpoint answers with a challenge
        // ACK; the connection (and the tracker, windows included) stays as it was.
        let established = try #require(TCPScript.run(CurlExchange.established))
        var tracker = established
        let blind = TCPSegmentInfo(
            flags: .rst, sequence: Self.s + 1000, acknowledgement: 0, window: 0, payloadLength: 0)
        #expect(tracker.update(blind, direction: .reply) == .accepted(.established))
        #expect(tracker == established)
        #expect(tracker.update(blind, direction: .reply) == .accepted(.established))  // the same guess again
        TCPScript.run(CurlExchange.established + [
            .init(.reply, "R", Self.s + 1000, 0, 0, 0, expect: .accepted(.established)),
            .init(.original, ".", Self.c, Self.s, 501, 0, expect: .accepted(.established)),  // the challenge ACK
            .init(.reply, "R", Self.s, 0, 0, 0, expect: .accepted(.closed)),
        ])
    }

    @Test func inexactResetClosesAConnectionAlreadyClosing() {
        // Linux holds only ESTABLISHED entries for the challenge ACK.
        TCPScript.run(Self.finWait1 + [.init(.reply, "R", Self.s + 1000, 0, 0, 0, expect: .accepted(.closed))])
    }

    @Test func resetEndingATrainOfDataCloses() {
        // foo:80 > bar: P seq s:s+1448, then R seq s+1448 before the client acknowledged.
        TCPScript.run(CurlExchange.established + [
            .init(.reply, "P.", Self.s, Self.c, 509, 1448, expect: .accepted(.established)),
            .init(.reply, "R.", Self.s + 1448, Self.c, 0, 0, expect: .accepted(.closed)),
        ])
    }

    @Test func resetWithAZeroAckIsCheckedAsIfItHadNone() {
        // Some stacks send RST|ACK with ack 0; Linux ignores such an ack.
        TCPScript.run(CurlExchange.established + [.init(.reply, "R.", Self.s, 0, 0, 0, expect: .accepted(.closed))])
    }

    @Test func segmentsAfterAResetAreStillWindowChecked() {
        TCPScript.run(Self.closed + [
            .init(.reply, "P.", Self.s, Self.c, 509, 100, expect: .accepted(.closed)),
            .init(.original, ".", Self.c, Self.s + 100, 0, 0, expect: .accepted(.closed)),
            .init(.original, ".", Self.c, Self.s + 5000, 0, 0, expect: .invalid(.ackAboveSent)),
            .init(.reply, "F.", Self.s + 100, Self.c, 509, 0, expect: .accepted(.closed)),
            .init(.reply, "S.", Self.s0, Self.c0 + 1, 65160, 0, expect: .accepted(.closed)),  // a late copy
            .init(.reply, "S.", Self.s + 200, Self.c0 + 1, 65160, 0, expect: .invalid(.unexpectedSynAck)),
        ])
    }

    @Test func resetBeforeAnyReplyClosesWithoutSeeingTheServerSide() throws {
        let tracker = try #require(TCPScript.run(Self.synSent + [
            .init(.reply, "R.", 0, Self.c0 + 1, 0, 0, expect: .accepted(.closed)),
            .init(.reply, ".", Self.s0 + 1, Self.c0 + 1, 0, 0, expect: .invalid(.invalidTransition)),
            .init(.reply, "S.", Self.s0, Self.c0 + 1, 65160, 0, expect: .invalid(.unexpectedSynAck)),
            .init(.original, "S", Self.c0 + 0x0100_0000, 0, 64240, 0, expect: .reopen),
        ]))
        #expect(tracker.seenReply && !tracker.assured)
    }
}
