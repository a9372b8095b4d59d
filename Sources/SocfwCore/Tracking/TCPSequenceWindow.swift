// One direction's view of the TCP sequence space, and the window checks of
// Guido van Rooij, "Real Stateful TCP Packet Filtering in IP Filter" (2000),
// as Linux implements them in net/netfilter/nf_conntrack_proto_tcp.c,
// tcp_in_window(). Field names follow struct ip_ct_tcp_state
// (include/net/netfilter/nf_conntrack_tcp.h) so the two can be read side by side.

/// Comparisons in the 2^32 sequence space (RFC 9293 §3.4, "modulo 2**32"):
/// `a` is after `b` when the signed distance from `b` to `a` is positive,
/// as Linux's `after()` / `before()` in include/net/tcp.h.
enum TCPSequenceSpace {
    /// `a` comes strictly after `b`.
    @inline(__always)
    static func isAfter(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }

    /// `a` comes strictly before `b`.
    @inline(__always)
    static func isBefore(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
}

/// One endpoint's half of the connection as the middlebox sees it: what it
/// has sent, how far it may send, and the largest window it has offered.
///
/// Invariants once `flags` contains `.seen`:
/// - `maxWindow >= 1` and `maxWindow <= TCPSequenceWindow.windowLimit`;
/// - `end` only moves forward (in sequence space) except when a SYN re-initialises it;
/// - after `.finSent`, `end` is the sequence number just past the FIN and never moves again.
struct TCPSequenceWindow: Sendable, Equatable {
    /// `td_end`: one past the highest sequence number this side has sent (SYN and FIN count).
    var end: UInt32 = 0
    /// `td_maxend`: the highest right edge the other side has opened (its ack plus its
    /// scaled window); van Rooij's bound I: this side may not start a segment beyond it.
    var maxEnd: UInt32 = 0
    /// `td_maxwin`: the largest scaled window this side has advertised; van Rooij's
    /// bound II lets the other side retransmit this far back.
    var maxWindow: UInt32 = 0
    /// `td_maxack`: the highest acknowledgement this side has sent (valid with `.maxAckSet`),
    /// its RCV.NXT as far as we know; RFC 5961 §3.2 reset checks compare against it.
    var maxAck: UInt32 = 0
    /// What has been seen of this side.
    var flags: Flags = []
    /// The shift count from this side's SYN, capped at 14 (RFC 7323 §2.3); applied only
    /// when both SYNs carried the option (the tracker's `.windowScaling` flag).
    var offeredWindowScale: UInt8 = 0

    /// The largest scaled window there is: 65535 << 14 is just below 2^30. Capping growth here
    /// keeps every bound well inside the 2^31 half-space the comparisons need.
    static let windowLimit: UInt32 = 1 << 30

    /// Linux's MAXACKWINCONST: acks may lag this far behind without being stale, even
    /// before a large window has been seen.
    static let minimumAckWindow: UInt32 = 66_000

    /// Largest shift count RFC 7323 §2.3 allows.
    static let maximumWindowScale: UInt8 = 14

    /// Bits of per-direction history (Linux keeps similar IP_CT_TCP_FLAG_* bits).
    struct Flags: OptionSet, Sendable, Equatable {
        var rawValue: UInt8
        /// A SYN (or, picked up mid-stream, any segment) from this side initialised the window.
        static let seen = Flags(rawValue: 1 << 0)
        /// This side's SYN carried the Window Scale option (IP_CT_TCP_FLAG_WINDOW_SCALE).
        static let windowScaleOffered = Flags(rawValue: 1 << 1)
        /// `maxAck` holds an acknowledgement (IP_CT_TCP_FLAG_MAXACK_SET).
        static let maxAckSet = Flags(rawValue: 1 << 2)
        /// The other side has acknowledged this side's SYN.
        static let synAcked = Flags(rawValue: 1 << 3)
        /// `end` moved past ISN + 1 before the SYN was acknowledged (data on the SYN, as TCP
        /// Fast Open sends, or data right after it); the ISN can no longer be read off `end`.
        static let endBeyondSyn = Flags(rawValue: 1 << 4)
        /// This side has sent a FIN (IP_CT_TCP_FLAG_CLOSE_INIT); `end` is just past it.
        static let finSent = Flags(rawValue: 1 << 5)
        /// The other side has acknowledged this side's FIN.
        static let finAcked = Flags(rawValue: 1 << 6)
    }

    /// Whether a segment from this side has initialised the window.
    var isSeen: Bool { flags.contains(.seen) }

    /// Linux's MAXACKWINDOW(sender): how far below the receiver's `end` an ack from this
    /// side may be before it is considered stale (van Rooij's bound IV).
    var ackWindow: UInt32 { max(maxWindow, Self.minimumAckWindow) }

    /// Initialises this side from its SYN or SYN-ACK, as Linux's tcp_init_sender(): the
    /// window in a SYN is never scaled (RFC 7323 §2.2), so it is taken as is.
    mutating func start(fromSyn segment: TCPSegmentInfo) {
        end = segment.sequenceEnd
        maxEnd = end
        maxWindow = max(UInt32(segment.window), 1)
        maxAck = 0
        flags = .seen
        offeredWindowScale = 0
        if let scale = segment.windowScale {
            flags.insert(.windowScaleOffered)
            offeredWindowScale = min(scale, Self.maximumWindowScale)
        }
        if segment.payloadSpan > 0 { flags.insert(.endBeyondSyn) }
    }

    /// Initialises this side from a segment in the middle of the connection, its history lost
    /// to us: the "sender->td_maxwin == 0, not a SYN" branch of tcp_in_window().
    /// The window is taken unscaled: the shift was agreed before we were looking.
    mutating func start(midStream segment: TCPSegmentInfo) {
        end = segment.sequenceEnd
        maxWindow = max(UInt32(segment.window), 1)
        maxEnd = end &+ maxWindow
        maxAck = 0
        flags = [.seen, .synAcked]
    }

    /// Whether `ack` acknowledges this side's SYN: RFC 9293 §3.10.7.3 asks for
    /// ISS < SEG.ACK <= SND.NXT. While `end` is still ISN + 1 that is `ack == end`;
    /// once data has followed the SYN unacknowledged we no longer know the ISN and take
    /// any ack Linux's bounds III and IV let through.
    func isAcknowledgingSyn(_ ack: UInt32) -> Bool {
        if flags.contains(.endBeyondSyn) {
            return !TCPSequenceSpace.isAfter(ack, end)
                && TCPSequenceSpace.isAfter(ack, end &- Self.minimumAckWindow &- 1)
        }
        return ack == end
    }

    /// Whether a SYN or SYN-ACK from this side repeats the SYN we have (same ISN).
    func isRepeatingSyn(_ segment: TCPSegmentInfo) -> Bool {
        if flags.contains(.endBeyondSyn) {
            return !TCPSequenceSpace.isAfter(segment.sequenceEnd, end)
        }
        return segment.sequence &+ 1 == end
    }
}

/// The van Rooij bounds checked for one segment: `sender` sent it, `receiver` is the
/// other side. Mirrors the order of the checks in tcp_in_window().
struct TCPWindowCheck {
    var sender: TCPSequenceWindow
    var receiver: TCPSequenceWindow
    /// The sender's effective window shift (0 unless both SYNs offered scaling).
    var senderWindowShift: UInt32

    /// The acknowledgement the segment carries, or, without a usable ACK, the receiver's
    /// `end` ("If there is no ACK, just pretend it was set and OK", tcp_in_window()).
    func effectiveAck(of segment: TCPSegmentInfo, hasAck: Bool) -> UInt32 {
        hasAck ? segment.acknowledgement : receiver.end
    }

    /// The first bound the segment breaks, or nil when it is within the windows.
    func violation(of segment: TCPSegmentInfo, hasAck: Bool) -> TCPInvalidReason? {
        let ack = effectiveAck(of: segment, hasAck: hasAck)
        // I: the segment must start no later than the receiver's window allows. Linux checks
        // the start, not the end, so a sender overshooting the window by a little passes.
        if TCPSequenceSpace.isAfter(segment.sequence, sender.maxEnd) {
            return .outOfWindow
        }
        // III: nothing may be acknowledged that the receiver has not sent.
        if TCPSequenceSpace.isAfter(ack, receiver.end) {
            return .ackAboveSent
        }
        // II: retransmissions may reach back at most one (maximum) receive window.
        if receiver.isSeen,
           !TCPSequenceSpace.isAfter(segment.sequenceEnd, sender.end &- receiver.maxWindow &- 1) {
            return .outOfWindow
        }
        // IV: an acknowledgement may lag the receiver's data by at most one window.
        if !TCPSequenceSpace.isAfter(ack, receiver.end &- sender.ackWindow &- 1) {
            return .ackBelowWindow
        }
        return nil
    }

    /// Applies an accepted segment to both windows: the "Update sender data" and
    /// "Update receiver data" steps of tcp_in_window().
    mutating func apply(_ segment: TCPSegmentInfo, hasAck: Bool) {
        let ack = effectiveAck(of: segment, hasAck: hasAck)
        let end = segment.sequenceEnd
        var window = UInt32(segment.window)
        if !segment.hasSyn {
            window <<= senderWindowShift  // RFC 7323 §2.2: a SYN's window is never scaled
        }

        sender.maxWindow = max(sender.maxWindow, window)
        if TCPSequenceSpace.isAfter(end, sender.end) {
            if !sender.flags.contains(.synAcked) { sender.flags.insert(.endBeyondSyn) }
            sender.end = end
        }
        if hasAck {
            if !sender.flags.contains(.maxAckSet) || TCPSequenceSpace.isAfter(ack, sender.maxAck) {
                sender.maxAck = ack
                sender.flags.insert(.maxAckSet)
            }
        }

        // A sender going past the window it was given: the receiver evidently accepts more
        // than it said, so let its remembered window grow by the overshoot (Linux does this).
        if receiver.isSeen, TCPSequenceSpace.isAfter(end, sender.maxEnd) {
            let grown = UInt64(receiver.maxWindow) + UInt64(end &- sender.maxEnd)
            receiver.maxWindow = UInt32(min(grown, UInt64(TCPSequenceWindow.windowLimit)))
        }
        // The receiver may now send up to this ack plus this window (a zero window still
        // admits the one-byte probe of RFC 9293 §3.8.6.1).
        if TCPSequenceSpace.isAfter(ack &+ window, receiver.maxEnd &- 1) {
            receiver.maxEnd = ack &+ window
            if window == 0 { receiver.maxEnd &+= 1 }
        }
    }
}
