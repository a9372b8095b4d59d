import SocfwWire

/// What `ct_state` says about a packet (the names nftables uses).
public enum ConnectionState: UInt8, Sendable, CaseIterable {
    /// The first packet of a flow, and packets in its original direction
    /// until a reply is seen.
    case new
    /// Packets of a flow that has seen traffic both ways.
    case established
    /// ICMP errors about a tracked flow (unreachable, time exceeded, packet too big, ...).
    case related
    /// Packets the tracker rejects: impossible TCP flags, out-of-window
    /// segments, ICMP errors about nothing it knows, a full table.
    case invalid
    /// Packets the tracker does not follow: non-first fragments, ESP,
    /// ICMPv6 neighbour discovery.
    case untracked

    public var name: String {
        switch self {
        case .new: return "new"
        case .established: return "established"
        case .related: return "related"
        case .invalid: return "invalid"
        case .untracked: return "untracked"
        }
    }
}

/// One tracked flow, as stored in a worker's `FlowTable`. Kept compact (a
/// million of these must fit in well under 150 MB): the key is stored as raw
/// words and rebuilt on demand, and the expiry is derived from the last-seen
/// time and the state's timeout.
public struct Connection: FlowTableEntry, Sendable {
    // Fields are declared widest first: Swift lays them out in declaration
    // order, and this order packs the entry into 120 bytes.
    // Direction-independent key, flattened (see `key`).
    var lowHigh: UInt64, lowLow: UInt64, highHigh: UInt64, highLow: UInt64
    public var bytesOriginal: UInt64 = 0
    public var bytesReply: UInt64 = 0
    public var lastSeenNanoseconds: Int64
    /// First seen (milliseconds, low 42 bits: until 2109) and the current
    /// state's timeout (seconds, high 22 bits: up to 48 days) in one word.
    var startAndTimeout: UInt64
    public var tcp: TCPTracker  // 38 bytes: the two 1-byte fields fill its tail
    public private(set) var protocolNumber: UInt8
    var flags: UInt8
    public var packetsOriginal: UInt32 = 0
    public var packetsReply: UInt32 = 0
    var lowPort: UInt16, highPort: UInt16
    /// Rules decision kept for each direction (see `cachedRule`): 0 none,
    /// 1 the default action, 2 + i rule i. Cleared when the rules change.
    var ruleCacheOriginal: UInt16 = 0, ruleCacheReply: UInt16 = 0

    static let startBits: UInt64 = 42
    static let startMask: UInt64 = (1 << startBits) - 1
    /// Largest timeout the packed field holds, seconds.
    public static let maximumTimeoutSeconds = (1 << (64 - 42)) - 1

    /// When the flow was first seen, at millisecond resolution.
    public var firstSeenNanoseconds: Int64 { Int64(startAndTimeout & Connection.startMask) * 1_000_000 }

    /// Timeout of the current state, seconds.
    public var timeoutSeconds: UInt32 {
        get { UInt32(startAndTimeout >> Connection.startBits) }
        set {
            let t = UInt64(min(Int(newValue), Connection.maximumTimeoutSeconds))
            startAndTimeout = startAndTimeout & Connection.startMask | t << Connection.startBits
        }
    }

    /// The rules decision kept for packets in `direction`: nil when none,
    /// -1 for the default action, else the rule's index.
    public func cachedRule(_ direction: FlowDirection) -> Int? {
        let v = direction == .original ? ruleCacheOriginal : ruleCacheReply
        return v == 0 ? nil : Int(v) - 2
    }

    /// Keeps a decision (rule index, -1 for the default action); indices the
    /// 16-bit slot cannot hold are not kept.
    public mutating func cacheRule(_ direction: FlowDirection, _ ruleIndex: Int) {
        guard ruleIndex < Int(UInt16.max) - 2 else { return }
        let v = UInt16(ruleIndex + 2)
        if direction == .original { ruleCacheOriginal = v } else { ruleCacheReply = v }
    }

    public mutating func clearRuleCache() {
        ruleCacheOriginal = 0
        ruleCacheReply = 0
    }

    static let flagV6: UInt8 = 1
    static let flagOriginalIsLow: UInt8 = 2
    static let flagSeenReply: UInt8 = 4
    static let flagBypassed: UInt8 = 8
    static let flagAssured: UInt8 = 16
    static let flagAlerted: UInt8 = 32
    static let flagBlocked: UInt8 = 64
    static let flagProbeHeld: UInt8 = 128

    public init(key: FlowKey, originalIsLow: Bool, tcp: TCPTracker, timeoutSeconds: Int, now: Int64) {
        lowHigh = key.lowAddress.high; lowLow = key.lowAddress.low
        highHigh = key.highAddress.high; highLow = key.highAddress.low
        lowPort = key.lowPort; highPort = key.highPort
        protocolNumber = key.protocolNumber
        flags = (key.lowAddress.isV6 ? Connection.flagV6 : 0) | (originalIsLow ? Connection.flagOriginalIsLow : 0)
        self.tcp = tcp
        let start = UInt64(max(0, now) / 1_000_000) & Connection.startMask
        startAndTimeout = start | UInt64(min(max(0, timeoutSeconds), Connection.maximumTimeoutSeconds)) << Connection.startBits
        lastSeenNanoseconds = now
    }

    public var key: FlowKey {
        let v6 = flags & Connection.flagV6 != 0
        let low = v6 ? IPAddress(v6High: lowHigh, low: lowLow) : IPAddress(v4: UInt32(truncatingIfNeeded: lowLow))
        let high = v6 ? IPAddress(v6High: highHigh, low: highLow) : IPAddress(v4: UInt32(truncatingIfNeeded: highLow))
        return FlowKey(lowAddress: low, highAddress: high, lowPort: lowPort, highPort: highPort,
                       protocolNumber: protocolNumber)
    }

    /// The flow id EVE events carry (the same for both directions).
    public var flowID: UInt64 { key.hash & ((1 << 51) - 1) }

    var originalIsLow: Bool { flags & Connection.flagOriginalIsLow != 0 }

    /// The initiator's address and port.
    public var originalSource: (address: IPAddress, port: UInt16) {
        let k = key
        return originalIsLow ? (k.lowAddress, k.lowPort) : (k.highAddress, k.highPort)
    }

    /// The responder's address and port.
    public var originalDestination: (address: IPAddress, port: UInt16) {
        let k = key
        return originalIsLow ? (k.highAddress, k.highPort) : (k.lowAddress, k.lowPort)
    }

    public var sourceAddress: IPAddress { originalSource.address }

    /// Whether a packet from `source:port` travels in the original direction.
    func direction(source: IPAddress, port: UInt16) -> FlowDirection {
        let low = flags & Connection.flagV6 != 0 ? IPAddress(v6High: lowHigh, low: lowLow)
            : IPAddress(v4: UInt32(truncatingIfNeeded: lowLow))
        // FlowKey puts (address, port) pairs in order, so the low side is
        // exactly the pair (low address, low port).
        let fromLow = source == low && port == lowPort
        return fromLow == originalIsLow ? .original : .reply
    }

    public var seenReply: Bool {
        get { flags & Connection.flagSeenReply != 0 }
        set { flags = newValue ? flags | Connection.flagSeenReply : flags & ~Connection.flagSeenReply }
    }

    /// Handed to the kernel (ct mark BYPASS): socfwd no longer sees its packets.
    public var bypassed: Bool {
        get { flags & Connection.flagBypassed != 0 }
        set { flags = newValue ? flags | Connection.flagBypassed : flags & ~Connection.flagBypassed }
    }

    /// Seen both ways long enough to be worth keeping when the table is full
    /// (Linux's ASSURED): a completed TCP handshake, or a UDP/ICMP flow with
    /// more than one reply.
    public var assured: Bool {
        get { flags & Connection.flagAssured != 0 }
        set { flags = newValue ? flags | Connection.flagAssured : flags & ~Connection.flagAssured }
    }

    /// A signature dropped or rejected a packet of this flow: the rest is dropped.
    public var blocked: Bool {
        get { flags & Connection.flagBlocked != 0 }
        set { flags = newValue ? flags | Connection.flagBlocked : flags & ~Connection.flagBlocked }
    }

    /// A signature alerted on this flow (EVE flow record `alerted`).
    public var alerted: Bool {
        get { flags & Connection.flagAlerted != 0 }
        set { flags = newValue ? flags | Connection.flagAlerted : flags & ~Connection.flagAlerted }
    }

    /// The flow's first packet is a scan probe the detectors hold until it
    /// is answered (see `TrackResult.probeAnswered`).
    public var probeHeld: Bool {
        get { flags & Connection.flagProbeHeld != 0 }
        set { flags = newValue ? flags | Connection.flagProbeHeld : flags & ~Connection.flagProbeHeld }
    }

    public var expiresAtNanoseconds: Int64 { lastSeenNanoseconds + Int64(timeoutSeconds) * 1_000_000_000 }
    public var isEarlyDroppable: Bool { !assured }

    /// Human state: the TCP state name, or for other protocols
    /// `UNREPLIED` / `REPLIED`.
    public var stateName: String {
        if protocolNumber == IPProtocolNumber.tcp { return tcp.state.name }
        return seenReply ? "REPLIED" : "UNREPLIED"
    }
}
