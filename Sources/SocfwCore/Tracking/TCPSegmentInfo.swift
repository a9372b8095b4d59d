// What the TCP tracker reads from one segment, and how it classifies the flags.

import SocfwWire

/// What the tracker needs from one segment (filled by the caller from the parsed packet).
public struct TCPSegmentInfo: Sendable, Equatable {
    /// The control bits, header byte 13.
    public var flags: TCPFlags
    /// SEG.SEQ.
    public var sequence: UInt32
    /// SEG.ACK; ignored unless `flags` contains `.ack`.
    public var acknowledgement: UInt32
    /// SEG.WND as on the wire, unscaled.
    public var window: UInt16
    /// TCP payload bytes on the wire (SEG.LEN without SYN and FIN).
    public var payloadLength: Int
    /// The Window Scale option's shift count from a SYN or SYN-ACK, nil when absent;
    /// ignored on other segments (RFC 7323 §2.2).
    public var windowScale: UInt8?

    /// Creates the summary of one segment.
    public init(
        flags: TCPFlags, sequence: UInt32, acknowledgement: UInt32, window: UInt16, payloadLength: Int,
        windowScale: UInt8? = nil
    ) {
        self.flags = flags
        self.sequence = sequence
        self.acknowledgement = acknowledgement
        self.window = window
        self.payloadLength = payloadLength
        self.windowScale = windowScale
    }

    /// The payload length as sequence space (a negative length counts as none).
    var payloadSpan: UInt32 { UInt32(clamping: payloadLength) }

    /// One past the segment's last sequence number: SEG.SEQ + SEG.LEN, where SYN and FIN
    /// each count one (RFC 9293 §3.4; Linux segment_seq_plus_len()).
    var sequenceEnd: UInt32 {
        sequence &+ payloadSpan &+ UInt32(flags.rawValue & TCPFlagBit.syn != 0 ? 1 : 0)
            &+ UInt32(flags.rawValue & TCPFlagBit.fin != 0 ? 1 : 0)
    }

    /// The segment carries SYN.
    var hasSyn: Bool { flags.rawValue & TCPFlagBit.syn != 0 }

    /// The segment carries ACK.
    var hasAck: Bool { flags.rawValue & TCPFlagBit.ack != 0 }
}

/// The control bits the tracker tests, as literals. `TCPFlags.syn` and friends are
/// `static let`s of another module, reached through an accessor call on every use; on the
/// per-packet path that was a tenth of an update's time (perf, release build).
/// (RFC 9293 §3.1; the anomaly checks use them too.)
enum TCPFlagBit {
    static let fin: UInt8 = 0x01
    static let syn: UInt8 = 0x02
    static let rst: UInt8 = 0x04
    static let psh: UInt8 = 0x08
    static let ack: UInt8 = 0x10
    static let urg: UInt8 = 0x20
    /// The six control bits of RFC 793 (ECE and CWR are RFC 3168's).
    static let control: UInt8 = 0x3f
    /// Byte 12 bits between Data Offset and AE (RFC 9293 "Rsrvd").
    static let reserved: UInt8 = 0x0e
}

/// The row of Linux's state table a segment selects (get_conntrack_index()), once its
/// flags are known to be a possible combination.
enum TCPSegmentKind: Sendable, Equatable {
    case syn, synAck, rst, fin, ack

    /// Classifies `flags`, or returns nil for a combination no TCP sends: Linux's
    /// tcp_valid_flags[] over FIN, SYN, RST, ACK and URG, with PSH, ECE and CWR
    /// ignored (ECE+CWR on a SYN is ECN setup, RFC 3168 §6.1.1).
    init?(_ flags: TCPFlags) {
        let fin = TCPFlagBit.fin, syn = TCPFlagBit.syn, rst = TCPFlagBit.rst
        let ack = TCPFlagBit.ack, urg = TCPFlagBit.urg
        switch flags.rawValue & (fin | syn | rst | ack | urg) {
        case syn, syn | urg: self = .syn
        case syn | ack: self = .synAck
        case rst, rst | ack: self = .rst
        case fin | ack, fin | ack | urg: self = .fin
        case ack, ack | urg: self = .ack
        default: return nil
        }
    }
}
