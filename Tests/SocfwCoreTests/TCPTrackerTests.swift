import Testing
import SocfwCore
import SocfwWire

// Scripts of segments for TCPTracker, written like tcpdump output:
//
//   direction  flags  seq  ack  win  len  [wscale]  -> expected update
//
// Flags use tcpdump's letters: S SYN, F FIN, R RST, P PSH, U URG, E ECE, W CWR,
// "." ACK, "none" for no flags. Windows are raw (unscaled) as on the wire.

/// One line of a script: a segment and the update the tracker must answer with.
struct TCPScriptStep: Sendable, CustomStringConvertible {
    var direction: FlowDirection
    var segment: TCPSegmentInfo
    var expected: TCPUpdate

    init(
        _ direction: FlowDirection, _ flags: String, _ seq: UInt32, _ ack: UInt32, _ window: UInt16, _ payload: Int,
        ws: UInt8? = nil, expect: TCPUpdate
    ) {
        self.direction = direction
        self.segment = TCPSegmentInfo(
            flags: TCPScript.flags(flags), sequence: seq, acknowledgement: ack, window: window,
            payloadLength: payload, windowScale: ws)
        self.expected = expect
    }

    var description: String {
        let s = segment
        return "\(direction) [\(TCPScript.letters(s.flags))] seq \(s.sequence) ack \(s.acknowledgement) "
            + "win \(s.window) len \(s.payloadLength) -> \(expected)"
    }
}

enum TCPScript {
    /// tcpdump's flag letters to `TCPFlags`.
    static func flags(_ letters: String) -> TCPFlags {
        if letters == "none" { return [] }
        var flags: TCPFlags = []
        for letter in letters {
            switch letter {
            case "S": flags.insert(.syn)
            case "F": flags.insert(.fin)
            case "R": flags.insert(.rst)
            case "P": flags.insert(.psh)
            case "U": flags.insert(.urg)
            case "E": flags.insert(.ece)
            case "W": flags.insert(.cwr)
            case ".": flags.insert(.ack)
            default: preconditionFailure("unknown flag letter \(letter) in a test script")
            }
        }
        return flags
    }

    /// `TCPFlags` back to tcpdump's letters (for failure messages).
    static func letters(_ flags: TCPFlags) -> String {
        let table: [(TCPFlags, Character)] = [
            (.syn, "S"), (.fin, "F"), (.rst, "R"), (.psh, "P"), (.urg, "U"), (.ece, "E"), (.cwr, "W"), (.ack, "."),
        ]
        let text = String(table.filter { flags.contains($0.0) }.map(\.1))
        return text.isEmpty ? "none" : text
    }

    /// Feeds `steps` to a new tracker (the first one through `start`), expecting each
    /// step's update, and that an `.invalid` or `.reopen` leaves the tracker unchanged.
    /// Returns the tracker after the last step (nil if `start` refused the first).
    @discardableResult
    static func run(
        _ steps: [TCPScriptStep], loosePickup: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) -> TCPTracker? {
        guard let first = steps.first else { return nil }
        #expect(first.direction == .original, "a flow starts with its original side", sourceLocation: sourceLocation)
        let (started, update) = TCPTracker.start(first.segment, loosePickup: loosePickup)
        #expect(update == first.expected, "step 1: \(first)", sourceLocation: sourceLocation)
        if case .accepted(let state) = update {
            #expect(started?.state == state, "step 1: \(first)", sourceLocation: sourceLocation)
        } else {
            #expect(started == nil, "step 1: \(first)", sourceLocation: sourceLocation)
        }
        guard var tracker = started else { return nil }
        for (index, step) in steps.enumerated().dropFirst() {
            let before = tracker
            let update = tracker.update(step.segment, direction: step.direction)
            #expect(update == step.expected, "step \(index + 1): \(step)", sourceLocation: sourceLocation)
            switch update {
            case .accepted(let state):
                #expect(tracker.state == state, "step \(index + 1): \(step)", sourceLocation: sourceLocation)
            case .invalid, .reopen:
                #expect(tracker == before, "step \(index + 1) changed the tracker: \(step)",
                        sourceLocation: sourceLocation)
            }
        }
        return tracker
    }
}

/// `curl http://example.test/` from a Linux client against nginx on Linux, as captured:
/// client 10.0.0.2:51234 (ISN 0xF3A1_0C2E, window 64240, wscale 7), server 10.0.1.80:80
/// (ISN 0x5E2B_7731, window 65160, wscale 7); a 77-byte GET, a 2063-byte response in two
/// segments.
enum CurlExchange {
    static let client: UInt32 = 0xF3A1_0C2E
    static let server: UInt32 = 0x5E2B_7731
    /// After the response: the client has sent 77 bytes, the server 2063.
    static let clientNext: UInt32 = client + 78
    static let serverNext: UInt32 = server + 2064

    static let handshake: [TCPScriptStep] = [
        .init(.original, "S", client, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),
        .init(.reply, "S.", server, client + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
        .init(.original, ".", client + 1, server + 1, 502, 0, expect: .accepted(.established)),
    ]

    static let established: [TCPScriptStep] = handshake + [
        .init(.original, "P.", client + 1, server + 1, 502, 77, expect: .accepted(.established)),
        .init(.reply, ".", server + 1, client + 78, 509, 0, expect: .accepted(.established)),
        .init(.reply, "P.", server + 1, client + 78, 509, 1448, expect: .accepted(.established)),
        .init(.reply, "P.", server + 1449, client + 78, 509, 615, expect: .accepted(.established)),
        .init(.original, ".", clientNext, serverNext, 501, 0, expect: .accepted(.established)),
    ]
}

@Suite struct TCPTrackerTests {
    @Test func threeWayHandshakeEstablishesAndAssures() throws {
        let tracker = try #require(TCPScript.run(CurlExchange.handshake))
        #expect(tracker.seenReply)
        #expect(tracker.assured)
    }

    @Test func halfOpenConnectionIsNeitherSeenNorAssured() throws {
        let synOnly = try #require(TCPScript.run(Array(CurlExchange.handshake.prefix(1))))
        #expect(!synOnly.seenReply && !synOnly.assured)
        let synAck = try #require(TCPScript.run(Array(CurlExchange.handshake.prefix(2))))
        #expect(synAck.seenReply && !synAck.assured)
    }

    @Test func dataFlowsBothWays() throws {
        let tracker = try #require(TCPScript.run(CurlExchange.established))
        #expect(tracker.state == .established)
    }

    @Test func requestPiggybackedOnTheHandshakeAckEstablishes() {
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run(Array(CurlExchange.handshake.prefix(2)) + [
            .init(.original, "P.", c + 1, s + 1, 502, 77, expect: .accepted(.established)),
        ])
    }

    @Test func ackThatDoesNotAcknowledgeTheSynAckLeavesTheHandshakeOpen() {
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run(Array(CurlExchange.handshake.prefix(2)) + [
            .init(.original, ".", c + 1, s, 502, 0, expect: .accepted(.synReceived)),
            .init(.original, ".", c + 1, s + 1, 502, 0, expect: .accepted(.established)),
        ])
    }

    @Test func clientClosesFirst() {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
            .init(.reply, ".", s, c + 1, 509, 0, expect: .accepted(.finWait2)),
            .init(.reply, "F.", s, c + 1, 509, 0, expect: .accepted(.timeWait)),
            .init(.original, ".", c + 1, s + 1, 501, 0, expect: .accepted(.timeWait)),
        ])
    }

    @Test func serverClosesFirst() {
        // HTTP/1.0 style: the server closes after the response, the client follows.
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.reply, "F.", s, c, 509, 0, expect: .accepted(.finWait1)),
            .init(.original, ".", c, s + 1, 501, 0, expect: .accepted(.finWait2)),
            .init(.original, "F.", c, s + 1, 501, 0, expect: .accepted(.timeWait)),
            .init(.reply, ".", s + 1, c + 1, 509, 0, expect: .accepted(.timeWait)),
        ])
    }

    @Test func finAnsweredByFinAckGoesStraightToTimeWait() {
        // RFC 9293 §3.10.7.4, FIN-WAIT-1: a FIN that also acknowledges ours -> TIME-WAIT.
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
            .init(.reply, "F.", s, c + 1, 509, 0, expect: .accepted(.timeWait)),
            .init(.original, ".", c + 1, s + 1, 501, 0, expect: .accepted(.timeWait)),
        ])
    }

    @Test func halfClosedConnectionKeepsCarryingDataTowardsTheCloser() {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
            .init(.reply, "P.", s, c + 1, 509, 1448, expect: .accepted(.finWait2)),
            .init(.original, ".", c + 1, s + 1448, 501, 0, expect: .accepted(.finWait2)),
            .init(.reply, "FP.", s + 1448, c + 1, 509, 100, expect: .accepted(.timeWait)),
            .init(.original, ".", c + 1, s + 1549, 501, 0, expect: .accepted(.timeWait)),
        ])
    }

    @Test func simultaneousCloseGoesThroughClosing() {
        // FINs crossing (RFC 9293 §3.6, figure 13): neither acknowledges the other's FIN.
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
            .init(.reply, "F.", s, c, 509, 0, expect: .accepted(.closing)),
            .init(.original, ".", c + 1, s + 1, 501, 0, expect: .accepted(.closing)),
            .init(.reply, ".", s + 1, c + 1, 509, 0, expect: .accepted(.timeWait)),
        ])
    }

    @Test func simultaneousOpenReachesEstablished() throws {
        // RFC 9293 §3.5 figure 7: the SYNs cross, each side answers with a SYN-ACK.
        let a: UInt32 = 0x1B2C_3D4E, b: UInt32 = 0x8899_AABB
        let tracker = try #require(TCPScript.run([
            .init(.original, "S", a, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),
            .init(.reply, "S", b, 0, 65535, 0, ws: 8, expect: .accepted(.synReceived)),
            .init(.reply, "S", b, 0, 65535, 0, ws: 8, expect: .accepted(.synReceived)),  // retransmitted
            .init(.original, "S.", a, b + 1, 64240, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.reply, "S.", b, a + 1, 65535, 0, ws: 8, expect: .accepted(.established)),
            .init(.original, "S.", a, b + 1, 64240, 0, ws: 7, expect: .accepted(.established)),  // late copy
            .init(.original, ".", a + 1, b + 1, 502, 0, expect: .accepted(.established)),
            .init(.reply, "P.", b + 1, a + 1, 256, 300, expect: .accepted(.established)),
            .init(.original, ".", a + 1, b + 301, 502, 0, expect: .accepted(.established)),
        ]))
        #expect(tracker.seenReply && tracker.assured)
    }

    @Test func simultaneousOpenRejectsSynAckWithAnotherIsn() {
        let a: UInt32 = 0x1B2C_3D4E, b: UInt32 = 0x8899_AABB
        TCPScript.run([
            .init(.original, "S", a, 0, 64240, 0, expect: .accepted(.synSent)),
            .init(.reply, "S", b, 0, 65535, 0, expect: .accepted(.synReceived)),
            .init(.original, "S.", a + 5, b + 1, 64240, 0, expect: .invalid(.unexpectedSynAck)),
            .init(.original, "S.", a, b + 2, 64240, 0, expect: .invalid(.ackAboveSent)),
            .init(.original, "S.", a, b, 64240, 0, expect: .invalid(.unexpectedSynAck)),
            .init(.original, ".", a + 1, b + 1, 502, 0, expect: .accepted(.synReceived)),
            .init(.reply, ".", b + 1, a + 1, 502, 0, expect: .accepted(.established)),
        ])
    }

    @Test func forgedCrossingSynDoesNotBlockTheRealSynAck() {
        // A blind SYN "from the server" makes the SYNs look crossed; the real server's
        // SYN-ACK, acknowledging the client's ISN exactly, takes over.
        let c = CurlExchange.client, s = CurlExchange.server, forged: UInt32 = 0x7000_0000
        let realSynAck: [TCPScriptStep] = [
            .init(.original, "S", c, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),
            .init(.reply, "S", forged, 0, 1024, 0, expect: .accepted(.synReceived)),
            .init(.original, "S.", c, forged + 1, 64240, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.reply, "S.", s, c, 65160, 0, ws: 7, expect: .invalid(.unexpectedSynAck)),  // forged too
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
        ]
        TCPScript.run(realSynAck + [
            .init(.original, ".", c + 1, s + 1, 502, 0, expect: .accepted(.established)),
            .init(.reply, "P.", s + 60001, c + 1, 509, 1000, expect: .accepted(.established)),  // 502 << 7
        ])
        // What the client acknowledged of the forged ISN no longer judges the server's RST.
        TCPScript.run(realSynAck + [.init(.reply, "R.", s + 1, c + 1, 0, 0, expect: .accepted(.closed))])
    }

    @Test func retransmittedSynAndSynAckAreAccepted() {
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),
            .init(.original, "S", c, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),  // after 1 s
            .init(.original, "S", c, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),  // after 3 s
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            // The SYN-ACK was lost past us: the client tries again, the server repeats itself.
            .init(.original, "S", c, 0, 64240, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.original, ".", c + 1, s + 1, 502, 0, expect: .accepted(.established)),
            // The handshake ACK was lost past us: a late SYN-ACK in ESTABLISHED passes.
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: 7, expect: .accepted(.established)),
        ])
    }

    @Test func synWithALaterIsnRestartsTheAttempt() {
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 0, expect: .accepted(.synSent)),
            .init(.original, "S", c - 5000, 0, 64240, 0, expect: .invalid(.unexpectedSyn)),
            .init(.original, "S", c + 0x10000, 0, 64240, 0, expect: .accepted(.synSent)),
            .init(.reply, "S.", s, c + 1, 65160, 0, expect: .invalid(.unexpectedSynAck)),
            .init(.reply, "S.", s, c + 0x10001, 65160, 0, expect: .accepted(.synReceived)),
        ])
    }

    @Test func synAckWithALaterIsnReinitialisesTheServerSide() {
        // SYN cookies or a restarted listener answer the retransmitted SYN with a new ISN.
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.original, "S", c, 0, 64240, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.reply, "S.", s + 0x0100_0000, c + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.original, ".", c + 1, s + 1, 502, 0, expect: .invalid(.ackBelowWindow)),  // the old ISN
            .init(.reply, "S.", s - 10, c + 1, 65160, 0, ws: 7, expect: .invalid(.unexpectedSynAck)),
            .init(.original, ".", c + 1, s + 0x0100_0001, 502, 0, expect: .accepted(.established)),
        ])
    }

    @Test func handshakeOutOfOrderIsRejected() {
        let c = CurlExchange.client, s = CurlExchange.server
        let syn = TCPScriptStep(.original, "S", c, 0, 64240, 0, expect: .accepted(.synSent))
        // Table: what may not follow a lone SYN.
        let refused: [TCPScriptStep] = [
            .init(.original, ".", c + 1, s + 1, 502, 0, expect: .invalid(.invalidTransition)),
            .init(.original, "F.", c + 1, s + 1, 502, 0, expect: .invalid(.invalidTransition)),
            .init(.original, "S.", c, s + 1, 64240, 0, expect: .invalid(.unexpectedSynAck)),
            .init(.reply, ".", s + 1, c + 1, 509, 0, expect: .invalid(.invalidTransition)),
            .init(.reply, "F.", s + 1, c + 1, 509, 0, expect: .invalid(.invalidTransition)),
            .init(.reply, "S.", s, c + 2, 65160, 0, expect: .invalid(.ackAboveSent)),
            .init(.reply, "S.", s, c, 65160, 0, expect: .invalid(.unexpectedSynAck)),
        ]
        for step in refused { TCPScript.run([syn, step]) }
    }

    @Test func synAckFromTheClientAfterTheHandshakeIsRejected() {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.original, "S.", c - 78, s - 2063, 64240, 0, expect: .invalid(.unexpectedSynAck)),
            .init(.reply, "S.", s + 5000, c, 65160, 0, expect: .invalid(.unexpectedSynAck)),
        ])
    }

    @Test func synInASynchronizedStateIsRejected() {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        let synchronized: [[TCPScriptStep]] = [
            CurlExchange.established,
            CurlExchange.established + [.init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1))],
            CurlExchange.established + [
                .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
                .init(.reply, ".", s, c + 1, 509, 0, expect: .accepted(.finWait2)),
            ],
        ]
        for prefix in synchronized {
            TCPScript.run(prefix + [
                .init(.original, "S", c + 100_000, 0, 64240, 0, expect: .invalid(.unexpectedSyn)),
                .init(.reply, "S", s + 100_000, 0, 65160, 0, expect: .invalid(.unexpectedSyn)),
            ])
        }
    }

    @Test func synToTimeWaitWithAHigherIsnReopens() {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        let timeWait = CurlExchange.established + [
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
            .init(.reply, "F.", s, c + 1, 509, 0, expect: .accepted(.timeWait)),
            .init(.original, ".", c + 1, s + 1, 501, 0, expect: .accepted(.timeWait)),
        ]
        TCPScript.run(timeWait + [
            .init(.original, "S", c - 78, 0, 64240, 0, expect: .invalid(.unexpectedSyn)),  // the old ISN
            .init(.original, "S", c, 0, 64240, 0, expect: .invalid(.unexpectedSyn)),  // the old FIN's seq
            .init(.reply, "S", s + 0x0100_0000, 0, 65160, 0, expect: .invalid(.unexpectedSyn)),
            .init(.original, "S", c + 1, 0, 64240, 0, expect: .reopen),  // just past the old FIN
            .init(.original, "S", c + 0x0100_0000, 0, 64240, 0, ws: 7, expect: .reopen),
        ])
    }

    @Test func synAfterResetWithAHigherIsnReopens() {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.reply, "R.", s, c, 0, 0, expect: .accepted(.closed)),
            .init(.original, "S", c - 1000, 0, 64240, 0, expect: .invalid(.unexpectedSyn)),
            .init(.original, "S", c + 0x0010_0000, 0, 64240, 0, expect: .reopen),
        ])
    }

    @Test func keepaliveWithTheSequenceNumberBeforeIsAccepted() {
        // Linux sends keepalives as a bare ACK at SND.NXT - 1; Windows adds one garbage byte.
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.original, ".", c - 1, s, 501, 0, expect: .accepted(.established)),
            .init(.reply, ".", s, c, 509, 0, expect: .accepted(.established)),
            .init(.original, ".", c - 1, s, 501, 1, expect: .accepted(.established)),
            .init(.reply, ".", s, c, 509, 0, expect: .accepted(.established)),
            .init(.reply, ".", s - 1, c, 509, 0, expect: .accepted(.established)),
            .init(.original, ".", c, s, 501, 0, expect: .accepted(.established)),
        ])
    }

    @Test func noDataMayFollowAFin() {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
            .init(.original, "P.", c + 1, s, 501, 10, expect: .invalid(.dataAfterFin)),
            .init(.original, "FP.", c + 1, s, 501, 10, expect: .invalid(.dataAfterFin)),
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),  // retransmitted FIN
            .init(.original, "FP.", c - 10, s, 501, 10, expect: .accepted(.finWait1)),  // coalesced with data
            .init(.original, ".", c + 1, s, 501, 0, expect: .accepted(.finWait1)),
        ])
    }

    @Test func finBeforeDataAlreadySentIsRejected() {
        let c = CurlExchange.clientNext, s = CurlExchange.serverNext
        TCPScript.run(CurlExchange.established + [
            .init(.original, "F.", c - 30, s, 501, 0, expect: .invalid(.dataAfterFin)),
            .init(.original, "F.", c, s, 501, 0, expect: .accepted(.finWait1)),
        ])
    }

    @Test func serverClosingBeforeTheHandshakeCompletesIsTracked() throws {
        // A server in SYN-RECEIVED may close (RFC 9293 §3.10.4): SYN_RECV -> FIN_WAIT_1.
        let c = CurlExchange.client, s = CurlExchange.server
        let tracker = try #require(TCPScript.run(Array(CurlExchange.handshake.prefix(2)) + [
            .init(.reply, "F.", s + 1, c + 1, 509, 0, expect: .accepted(.finWait1)),
            .init(.original, ".", c + 1, s + 2, 502, 0, expect: .accepted(.finWait2)),
            .init(.original, "F.", c + 1, s + 2, 502, 0, expect: .accepted(.timeWait)),
        ]))
        #expect(tracker.assured)
    }

    @Test func fastOpenSynWithDataIsTracked() {
        // TCP Fast Open (RFC 7413): data on the SYN; the server may acknowledge only the SYN.
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 120, ws: 7, expect: .accepted(.synSent)),
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.original, "P.", c + 1, s + 1, 502, 120, expect: .accepted(.established)),
        ])
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 120, ws: 7, expect: .accepted(.synSent)),
            .init(.reply, "S.", s, c + 122, 65160, 0, ws: 7, expect: .invalid(.ackAboveSent)),
            .init(.reply, "S.", s, c + 121, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.reply, "P.", s + 1, c + 121, 509, 1000, expect: .accepted(.synReceived)),
            .init(.original, ".", c + 121, s + 1001, 502, 0, expect: .accepted(.established)),
        ])
    }

    @Test func impossibleFlagCombinationsAreRejected() throws {
        // Linux tcp_valid_flags[]: what no TCP sends. Checked both as a first packet and mid-flow.
        let impossible = [
            "none", "F", "SF", "SR", "RF", "FPU", "SRFP.UEW", "SF.", "FP", "U", "P", "S.U", "R.U", "RF.", "SR.",
        ]
        let established = try #require(TCPScript.run(CurlExchange.established))
        for letters in impossible {
            let segment = TCPSegmentInfo(
                flags: TCPScript.flags(letters), sequence: CurlExchange.clientNext,
                acknowledgement: CurlExchange.serverNext, window: 501, payloadLength: 0)
            let (started, update) = TCPTracker.start(segment, loosePickup: true)
            #expect(started == nil && update == .invalid(.badFlags), "[\(letters)] as a first packet")
            var tracker = established
            #expect(tracker.update(segment, direction: .original) == .invalid(.badFlags), "[\(letters)]")
            #expect(tracker == established, "[\(letters)] changed the tracker")
        }
    }

    @Test func ecnAndPushBitsDoNotMakeFlagsInvalid() {
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run([
            .init(.original, "SEW", c, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),  // ECN setup SYN
            .init(.reply, "S.E", s, c + 1, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.original, ".", c + 1, s + 1, 502, 0, expect: .accepted(.established)),
            .init(.original, "P.UW", c + 1, s + 1, 502, 10, expect: .accepted(.established)),
            .init(.reply, ".E", s + 1, c + 11, 509, 0, expect: .accepted(.established)),
            .init(.reply, "FP.", s + 1, c + 11, 509, 5, expect: .accepted(.finWait1)),
        ])
    }

    @Test func stateNamesFollowTheConventionalSpelling() {
        let names = TCPConnectionState.allCases.map(\.name)
        #expect(names == [
            "CLOSED", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "LAST_ACK",
            "CLOSING", "TIME_WAIT",
        ])
    }

    @Test func invalidReasonIdsAreStableSnakeCase() {
        let ids = TCPInvalidReason.allCases.map(\.rawValue)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(!id.isEmpty && id.allSatisfy { $0 == "_" || ("a"..."z").contains($0) }, "\(id)")
        }
        #expect(TCPInvalidReason.outOfWindow.rawValue == "out_of_window")
        #expect(TCPInvalidReason.ackAboveSent.rawValue == "ack_above_sent")
    }

    @Test func trackerFitsInFortyBytes() {
        #expect(MemoryLayout<TCPTracker>.size <= 40)
        #expect(MemoryLayout<TCPTracker>.size == 38)
    }
}
