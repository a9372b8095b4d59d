// The connection states the tracker reports and the two directions of a flow.

/// Which way a packet travels within a flow: `original` is the side that sent
/// the flow's first packet, `reply` the other.
public enum FlowDirection: UInt8, Sendable {
    case original, reply

    /// The other direction.
    var reversed: FlowDirection { self == .original ? .reply : .original }
}

/// Connection states as RFC 9293 §3.3.2 names them, seen from the middle (both
/// endpoints observed). TCPTracker.swift's header says how segments map to them.
public enum TCPConnectionState: UInt8, Sendable, CaseIterable {
    case closed, synSent, synReceived, established, finWait1, finWait2, closeWait, lastAck, closing, timeWait

    /// The conventional upper-case name ("SYN_RECV" as Linux and netstat spell it).
    public var name: String {
        switch self {
        case .closed: "CLOSED"
        case .synSent: "SYN_SENT"
        case .synReceived: "SYN_RECV"
        case .established: "ESTABLISHED"
        case .finWait1: "FIN_WAIT_1"
        case .finWait2: "FIN_WAIT_2"
        case .closeWait: "CLOSE_WAIT"
        case .lastAck: "LAST_ACK"
        case .closing: "CLOSING"
        case .timeWait: "TIME_WAIT"
        }
    }
}
