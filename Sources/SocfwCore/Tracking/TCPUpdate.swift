// The TCP tracker's verdicts.

/// Why a segment was refused. Raw values are stable snake_case ids, used as counter names.
public enum TCPInvalidReason: String, Sendable, CaseIterable {
    /// Impossible flag combinations: SYN+FIN, SYN+RST, no flags (NULL), FIN without ACK, Xmas...
    case badFlags = "bad_flags"
    /// The first packet of a new flow is not a SYN (and loose pickup is off).
    case notSyn = "not_syn"
    /// The sequence number is outside the receiver's window (van Rooij I/II), or an RST
    /// is not acceptable under RFC 5961 §3.2.
    case outOfWindow = "out_of_window"
    /// Acknowledges data the other side never sent (van Rooij III).
    case ackAboveSent = "ack_above_sent"
    /// Acknowledges data further back than one window: an overly delayed ack (van Rooij IV).
    case ackBelowWindow = "ack_below_window"
    /// A SYN in a synchronized state that is not a valid port reuse or retransmission.
    case unexpectedSyn = "unexpected_syn"
    /// A SYN-ACK without a SYN, from the wrong side, or not acknowledging the SYN.
    case unexpectedSynAck = "unexpected_syn_ack"
    /// Data beyond a FIN already seen from the same side, or a FIN before data already seen.
    case dataAfterFin = "data_after_fin"
    /// Anything else the state machine rejects (e.g. an ACK before the SYN-ACK).
    case invalidTransition = "invalid_transition"
}

/// The tracker's verdict on one segment.
public enum TCPUpdate: Sendable, Equatable {
    /// The packet is valid; the state after it.
    case accepted(TCPConnectionState)
    /// The packet is invalid; the tracker is unchanged.
    case invalid(TCPInvalidReason)
    /// A SYN from the original side to a connection in TIME_WAIT (or CLOSED after RST) with
    /// a sequence number beyond the old one: the port is being reused (RFC 1122 §4.2.2.13).
    /// The tracker is unchanged; the caller starts a NEW tracker from this SYN.
    case reopen
}
