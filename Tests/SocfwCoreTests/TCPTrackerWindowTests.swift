import Testing
import SocfwCore
import SocfwWire

/// van Rooij's four bounds (tcp_in_window()), window scaling (RFC 7323) and sequence
/// arithmetic modulo 2^32, on the curl exchange of TCPTrackerTests.swift.
///
/// After `CurlExchange.established` the windows are (c = clientNext, s = serverNext):
/// the server may send up to s + 501 << 7 = s + 64128, the client up to c + 509 << 7 =
/// c + 65152; the largest window the client offered is 502 << 7 = 64256.
@Suite struct TCPTrackerWindowTests {
    static let c = CurlExchange.clientNext
    static let s = CurlExchange.serverNext

    /// Single segments after the exchange, each judged on its own.
    static let boundaryCases: [TCPScriptStep] = [
        // I: a segment may start at the right edge of the receiver's window, not past it.
        .init(.reply, "P.", s + 64128, c, 509, 1, expect: .accepted(.established)),
        .init(.reply, "P.", s + 64129, c, 509, 100, expect: .invalid(.outOfWindow)),
        .init(.reply, "P.", s + 1_000_000, c, 509, 100, expect: .invalid(.outOfWindow)),
        .init(.original, "P.", c + 65152, s, 501, 1, expect: .accepted(.established)),
        .init(.original, "P.", c + 65153, s, 501, 100, expect: .invalid(.outOfWindow)),
        // II: a retransmission may reach back one window, not further.
        .init(.reply, "P.", CurlExchange.server + 1449, c, 509, 615, expect: .accepted(.established)),
        .init(.reply, "P.", s - 64256, c, 509, 0, expect: .accepted(.established)),
        .init(.reply, "P.", s - 64257, c, 509, 0, expect: .invalid(.outOfWindow)),
        .init(.reply, "P.", s - 70000, c, 509, 1000, expect: .invalid(.outOfWindow)),
        // III: nothing may be acknowledged that the other side has not sent.
        .init(.original, ".", c, s, 501, 0, expect: .accepted(.established)),
        .init(.original, ".", c, s + 1, 501, 0, expect: .invalid(.ackAboveSent)),
        .init(.original, ".", c, s + 100_000, 501, 0, expect: .invalid(.ackAboveSent)),
        .init(.reply, ".", s, c + 1, 509, 0, expect: .invalid(.ackAboveSent)),
        .init(.reply, "F.", s, c + 10, 509, 0, expect: .invalid(.ackAboveSent)),
        // IV: an acknowledgement may lag by one window (at least 66000, Linux MAXACKWINCONST).
        .init(.original, ".", c, s - 60000, 501, 0, expect: .accepted(.established)),
        .init(.original, ".", c, s - 66000, 501, 0, expect: .accepted(.established)),
        .init(.original, ".", c, s - 66001, 501, 0, expect: .invalid(.ackBelowWindow)),
        .init(.original, ".", c, s - 0x4000_0000, 501, 0, expect: .invalid(.ackBelowWindow)),
    ]

    @Test(arguments: boundaryCases)
    func segmentsAreJudgedAgainstTheFourBounds(_ step: TCPScriptStep) {
        TCPScript.run(CurlExchange.established + [step])
    }

    @Test func invalidSegmentsDoNotMoveTheWindows() {
        // An out-of-window segment must not widen anything: the next one is judged as before.
        TCPScript.run(CurlExchange.established + [
            .init(.reply, "P.", Self.s + 64129, Self.c, 65535, 1000, expect: .invalid(.outOfWindow)),
            .init(.original, ".", Self.c, Self.s + 65129, 65535, 0, expect: .invalid(.ackAboveSent)),
            .init(.reply, "P.", Self.s + 64129, Self.c, 509, 1000, expect: .invalid(.outOfWindow)),
        ])
    }

    @Test func largerWindowOpensMoreRoom() {
        let c = Self.c, s = Self.s
        TCPScript.run(CurlExchange.established + [
            .init(.reply, "P.", s + 100_000, c, 509, 1448, expect: .invalid(.outOfWindow)),
            .init(.original, ".", c, s, 1000, 0, expect: .accepted(.established)),  // 1000 << 7 = 128000
            .init(.reply, "P.", s + 100_000, c, 509, 1448, expect: .accepted(.established)),
        ])
    }

    /// (client wscale, server wscale, verdict on server data 60000 bytes into a window
    /// the client announced as 502, i.e. 64256 if scaled by 7).
    static let scalingCases: [(UInt8?, UInt8?, TCPUpdate)] = [
        (7, 7, .accepted(.established)),
        (7, nil, .invalid(.outOfWindow)),  // RFC 7323 §2.2: both SYNs must carry the option
        (nil, 7, .invalid(.outOfWindow)),
        (nil, nil, .invalid(.outOfWindow)),
        (0, 7, .invalid(.outOfWindow)),  // scaling on, but the client's shift is 0
        (7, 0, .accepted(.established)),
    ]

    @Test(arguments: scalingCases)
    func windowScalingAppliesOnlyWhenBothSynsOfferIt(_ client: UInt8?, _ server: UInt8?, _ verdict: TCPUpdate) {
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 0, ws: client, expect: .accepted(.synSent)),
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: server, expect: .accepted(.synReceived)),
            .init(.original, ".", c + 1, s + 1, 502, 0, expect: .accepted(.established)),
            .init(.reply, "P.", s + 1 + 60000, c + 1, 509, 1000, expect: verdict),
        ])
    }

    @Test(arguments: [14, 15, 20, 255] as [UInt8])
    func windowScaleIsCappedAtFourteen(_ offered: UInt8) {
        // RFC 7323 §2.3: a shift above 14 is used as 14. Window 2 << 14 = 32768.
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 0, ws: offered, expect: .accepted(.synSent)),
            .init(.reply, "S.", s, c + 1, 65160, 0, ws: 0, expect: .accepted(.synReceived)),
            .init(.original, ".", c + 1, s + 1, 2, 0, expect: .accepted(.established)),
            .init(.reply, "P.", s + 1 + 40000, c + 1, 509, 1000, expect: .invalid(.outOfWindow)),
            .init(.reply, "P.", s + 1 + 32768, c + 1, 509, 1000, expect: .accepted(.established)),
        ])
    }

    @Test func windowInASynIsNeverScaled() {
        // RFC 7323 §2.2: the SYN-ACK's 65160 counts as 65160 even with wscale 7 agreed.
        let c = CurlExchange.client, s = CurlExchange.server
        TCPScript.run(CurlExchange.handshake + [
            .init(.original, "P.", c + 1 + 70000, s + 1, 502, 100, expect: .invalid(.outOfWindow)),
            .init(.original, "P.", c + 1 + 65160, s + 1, 502, 100, expect: .accepted(.established)),
        ])
    }

    @Test func sequenceNumbersWrapAroundTwoToTheThirtyTwo() {
        // Client ISN 0xFFFF_FA00: its third segment crosses 2^32. Server ISN 0xFFFF_FFFF:
        // its SYN itself is the last number before the wrap.
        let c: UInt32 = 0xFFFF_FA00, s: UInt32 = 0xFFFF_FFFF
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 0, ws: 7, expect: .accepted(.synSent)),
            .init(.reply, "S.", s, 0xFFFF_FA01, 65160, 0, ws: 7, expect: .accepted(.synReceived)),
            .init(.original, ".", 0xFFFF_FA01, 0x0000_0000, 502, 0, expect: .accepted(.established)),
            .init(.original, "P.", 0xFFFF_FA01, 0x0000_0000, 502, 1448, expect: .accepted(.established)),
            .init(.original, "P.", 0xFFFF_FFA9, 0x0000_0000, 502, 1448, expect: .accepted(.established)),
            .init(.reply, ".", 0x0000_0000, 0x0000_0551, 509, 0, expect: .accepted(.established)),
            .init(.reply, "P.", 0x0000_0000, 0x0000_0551, 509, 1448, expect: .accepted(.established)),
            .init(.original, ".", 0x0000_0551, 0x0000_05A8, 502, 0, expect: .accepted(.established)),
            .init(.original, ".", 0x0000_0551, 0x0000_05A9, 502, 0, expect: .invalid(.ackAboveSent)),
            .init(.original, ".", 0x0000_0551, 0xFFFF_FFF0, 502, 0, expect: .accepted(.established)),
            .init(.reply, "P.", 0xFFFE_0000, 0x0000_0551, 509, 100, expect: .invalid(.outOfWindow)),
            .init(.reply, "P.", 0x0000_05A8 &+ 64256, 0x0000_0551, 509, 1, expect: .accepted(.established)),
            .init(.reply, "P.", 0x0000_05A8 &+ 64258, 0x0000_0551, 509, 1, expect: .invalid(.outOfWindow)),
            .init(.original, "F.", 0x0000_0551, 0x0000_05A9 &+ 64256, 502, 0, expect: .accepted(.finWait1)),
            .init(.reply, "F.", 0x0000_05A9 &+ 64256, 0x0000_0552, 509, 0, expect: .accepted(.timeWait)),
            .init(.original, ".", 0x0000_0552, 0x0000_05AA &+ 64256, 502, 0, expect: .accepted(.timeWait)),
            .init(.original, "S", 0xFFFF_F000, 0, 64240, 0, expect: .invalid(.unexpectedSyn)),
            .init(.original, "S", 0x0000_1000, 0, 64240, 0, expect: .reopen),
        ])
    }

    @Test func acknowledgementOfZeroAfterTheWrapIsAnOrdinaryNumber() {
        let c: UInt32 = 0xFFFF_0000, s: UInt32 = 0xFFFF_FFFF
        TCPScript.run([
            .init(.original, "S", c, 0, 64240, 0, expect: .accepted(.synSent)),
            .init(.reply, "S.", s, c &+ 1, 65160, 0, expect: .accepted(.synReceived)),
            .init(.original, ".", c &+ 1, 0, 64240, 0, expect: .accepted(.established)),
            .init(.reply, "R.", 0, c &+ 1, 0, 0, expect: .accepted(.closed)),
        ])
    }
}

extension TCPScriptStep: CustomTestStringConvertible {
    var testDescription: String { description }
}
