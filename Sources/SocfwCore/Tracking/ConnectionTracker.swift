import SocfwWire

/// Why the tracker called a packet INVALID (stable counter / EVE names).
public enum TrackInvalidReason: Sendable, Equatable {
    case tcp(TCPInvalidReason)
    /// No room: the table is full and nothing could be early-dropped.
    case tableFull
    /// The source already has `per_source_limit` connections.
    case sourceLimit
    /// An ICMP error quoting a flow the tracker does not know.
    case icmpErrorUnknownFlow
    /// An ICMP reply (echo reply, ...) that starts a flow.
    case icmpReplyWithoutRequest

    public var name: String {
        switch self {
        case .tcp(let r): return "tcp_\(r.rawValue)"
        case .tableFull: return "table_full"
        case .sourceLimit: return "source_limit"
        case .icmpErrorUnknownFlow: return "icmp_error_unknown_flow"
        case .icmpReplyWithoutRequest: return "icmp_reply_without_request"
        }
    }
}

/// The tracker's answer for one packet.
public struct TrackResult: Sendable, Equatable {
    public var state: ConnectionState
    public var direction: FlowDirection
    /// The flow's slot in the table; -1 when the packet is not tracked.
    public var index: Int32
    public var invalidReason: TrackInvalidReason?
    /// The packet created this flow (undo with `discardNew` if it is dropped).
    public var created: Bool
    /// The flow just reached the inspection depth: verdict with the BYPASS mark.
    public var bypass: Bool
    public var flowID: UInt64
    /// A signature blocked this flow earlier (see `markBlocked`).
    public var blocked = false
    /// This packet completed the TCP three-way handshake (the client's ACK
    /// of the SYN-ACK): SYN-flood detection counts completions.
    public var handshakeCompleted = false
    /// This packet ended the TCP connection (into TIME_WAIT, or closed by a
    /// RST): neither side will send data on it again, so what inspects its
    /// payload may let go of the flow's state now rather than at expiry.
    public var finished = false
    /// This packet is the first answer (in the reply direction: a SYN-ACK,
    /// RST, UDP reply or ICMP error) in a flow whose first packet the
    /// detectors hold as a possible scan probe (`markProbeHeld`).
    public var probeAnswered = false

    static func untracked(_ state: ConnectionState, reason: TrackInvalidReason? = nil, flowID: UInt64 = 0) -> TrackResult {
        TrackResult(state: state, direction: .original, index: -1, invalidReason: reason, created: false,
                    bypass: false, flowID: flowID)
    }
}

/// How a flow ended, for flow events (Suricata's `flow.reason`).
public enum FlowEndReason: String, Sendable {
    /// Its state's timeout passed without packets.
    case timeout
    /// The kernel's conntrack entry of a bypassed flow was destroyed.
    case bypassEnded = "bypass_ended"
    /// A new connection reused the port pair (SYN after TIME_WAIT).
    case reused
    /// Evicted to make room for a new flow (early drop).
    case evicted
    /// socfwd stopped, or the capture ended.
    case shutdown
}

public struct ConntrackCounters: Equatable, Sendable {
    public var active = 0
    public var new: UInt64 = 0
    /// Flows that ended after a TCP close (FIN/RST) or reuse.
    public var closed: UInt64 = 0
    public var invalid: UInt64 = 0
    /// Flows removed by their timeout while not closed.
    public var expired: UInt64 = 0
    public var earlyDropped: UInt64 = 0
    public var bypassed: UInt64 = 0
    public var invalidByReason: [String: UInt64] = [:]
    public init() {}
}

/// One worker's connection tracker: TCP state machine with window checks,
/// UDP/ICMP pseudo-connections, ICMP errors matched to the flow they quote,
/// timeouts by state, flow bypass. Owned by one thread; no locks.
public struct ConnectionTracker {
    public let config: ConntrackConfig
    public private(set) var table: FlowTable<Connection>
    public private(set) var counters = ConntrackCounters()
    /// When set, the slots of flows that end are collected in `endedSlots`
    /// (for per-slot state kept outside the table, e.g. the IDS's).
    public var recordsEndedSlots = false
    /// Slots of ended flows since the owner last emptied the list.
    public var endedSlots: [Int32] = []

    public init(config: ConntrackConfig, capacity: Int) {
        self.config = config
        self.table = FlowTable(capacity: capacity, perSourceLimit: config.perSourceLimit)
    }

    /// Looks up (or creates) the flow of `p` and updates it. `packet` is the
    /// L3 packet the summary was parsed from (ICMP errors quote a packet
    /// inside it; SYN options carry the window scale).
    /// `onEnd` receives flows this packet ends: the previous connection of a
    /// reused port pair, or a flow evicted to make room.
    public mutating func track(_ p: PacketSummary, packet: UnsafeRawBufferPointer, now: Int64,
                               onEnd: (Connection, FlowEndReason) -> Void = { _, _ in }) -> TrackResult {
        guard p.l4Parsed else {
            // Non-first fragments (conntrack reassembles before the hook when
            // it is loaded, so inline these are rare) and ESP / no-next-header.
            return .untracked(.untracked)
        }
        let isTCP = p.l4Protocol == IPProtocolNumber.tcp
        let isICMP = p.l4Protocol == IPProtocolNumber.icmp
        let isICMPv6 = p.l4Protocol == IPProtocolNumber.icmpv6
        if isICMP && ICMPv4Type.isError(p.icmpType) || isICMPv6 && ICMPv6Type.isError(p.icmpType) {
            return trackICMPError(p, packet: packet)
        }
        if isICMPv6 && (130...143).contains(p.icmpType) {
            // Neighbour discovery, MLD, router solicitation: link-local
            // control traffic Linux leaves untracked.
            return .untracked(.untracked)
        }
        let key = FlowKey(p)
        let hash = key.hash
        let flowID = hash & ((1 << 51) - 1)
        let wireBytes = UInt64(p.ipLength)
        if let index = table.find(key, hash: hash) {
            var result = TrackResult(state: .established, direction: .original, index: index, invalidReason: nil,
                                     created: false, bypass: false, flowID: flowID)
            var reopen = false
            var shortened = false
            let timeouts = config.timeouts
            let bypass = config.bypass
            table.withEntry(index) { c in
                let direction = c.direction(source: p.source, port: p.sourcePort)
                result.direction = direction
                result.blocked = c.blocked
                if direction == .reply, c.probeHeld {
                    c.probeHeld = false
                    result.probeAnswered = true
                }
                var timeout = Int(c.timeoutSeconds)
                if isTCP {
                    let before = c.tcp.state
                    switch c.tcp.update(TCPSegmentInfo(p, packet: packet), direction: direction) {
                    case .invalid(let reason):
                        result.state = .invalid
                        result.invalidReason = .tcp(reason)
                        return
                    case .reopen:
                        reopen = true
                        return
                    case .accepted(let state):
                        timeout = timeouts.seconds(for: state)
                        result.handshakeCompleted = state == .established && before == .synReceived
                        result.finished = state != before && (state == .timeWait || state == .closed)
                        if c.tcp.assured { c.assured = true }
                    }
                }
                if direction == .reply { c.seenReply = true }
                if direction == .original {
                    c.packetsOriginal &+= 1
                    c.bytesOriginal &+= wireBytes
                } else {
                    c.packetsReply &+= 1
                    c.bytesReply &+= wireBytes
                }
                c.lastSeenNanoseconds = now
                if !isTCP {
                    let stream = c.seenReply && c.packetsOriginal + c.packetsReply >= 3
                    if stream { c.assured = true }
                    timeout = isICMP || isICMPv6 ? timeouts.icmp : (p.l4Protocol == IPProtocolNumber.udp
                        ? (stream ? timeouts.udpStream : timeouts.udp) : timeouts.generic)
                }
                // The timer wheel re-files later expiries lazily; an earlier
                // one (e.g. ESTABLISHED -> TIME_WAIT) must be rescheduled.
                shortened = timeout < Int(c.timeoutSeconds)
                c.timeoutSeconds = UInt32(timeout)
                result.state = c.seenReply ? .established : .new
                if bypass.enabled && !c.bypassed && c.seenReply
                    && (!isTCP || c.tcp.state == .established)
                    && (Int(c.packetsOriginal) >= bypass.packets || c.bytesOriginal >= UInt64(bypass.bytes))
                    && (Int(c.packetsReply) >= bypass.packets || c.bytesReply >= UInt64(bypass.bytes)) {
                    c.bypassed = true
                    result.bypass = true
                }
            }
            if shortened { table.reschedule(index) }
            if reopen {
                if recordsEndedSlots { endedSlots.append(index) }
                onEnd(table.remove(index), .reused)
                counters.closed &+= 1
                return create(p, key: key, hash: hash, packet: packet, now: now, onEnd: onEnd)
            }
            if result.state == .invalid { countInvalid(result.invalidReason!) }
            if result.bypass { counters.bypassed &+= 1 }
            return result
        }
        return create(p, key: key, hash: hash, packet: packet, now: now, onEnd: onEnd)
    }

    private mutating func create(_ p: PacketSummary, key: FlowKey, hash: UInt64, packet: UnsafeRawBufferPointer,
                                 now: Int64, onEnd: (Connection, FlowEndReason) -> Void) -> TrackResult {
        let flowID = hash & ((1 << 51) - 1)
        var tcp = TCPTracker.notTCP
        var timeout = config.timeouts.generic
        switch p.l4Protocol {
        case IPProtocolNumber.tcp:
            let (tracker, update) = TCPTracker.start(TCPSegmentInfo(p, packet: packet), loosePickup: config.tcpLoose)
            guard let tracker, case .accepted(let state) = update else {
                let reason: TrackInvalidReason
                if case .invalid(let r) = update { reason = .tcp(r) } else { reason = .tcp(.invalidTransition) }
                countInvalid(reason)
                return .untracked(.invalid, reason: reason, flowID: flowID)
            }
            tcp = tracker
            timeout = config.timeouts.seconds(for: state)
        case IPProtocolNumber.udp:
            timeout = config.timeouts.udp
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            // Only requests start ICMP flows (Linux nf_conntrack_proto_icmp.c, icmp_new).
            let isRequest = p.l4Protocol == IPProtocolNumber.icmp
                ? [8, 13, 15, 17].contains(p.icmpType) : p.icmpType == 128
            guard isRequest else {
                countInvalid(.icmpReplyWithoutRequest)
                return .untracked(.invalid, reason: .icmpReplyWithoutRequest, flowID: flowID)
            }
            timeout = config.timeouts.icmp
        default:
            break
        }
        let originalIsLow = key.lowAddress == p.source && key.lowPort == p.sourcePort
        var c = Connection(key: key, originalIsLow: originalIsLow, tcp: tcp, timeoutSeconds: timeout, now: now)
        c.packetsOriginal = 1
        c.bytesOriginal = UInt64(p.ipLength)
        let index: Int32
        // An evicted flow's slot is the one the new flow takes (the most
        // recently freed): side state is reset by `created`, not listed.
        switch table.insert(c, now: now, onEvict: { onEnd($0, .evicted) }) {
        case .inserted(let i):
            index = i
        case .insertedAfterEarlyDrop(let i):
            index = i
            counters.earlyDropped &+= 1
        case .tableFull:
            countInvalid(.tableFull)
            return .untracked(.invalid, reason: .tableFull, flowID: flowID)
        case .sourceLimit:
            countInvalid(.sourceLimit)
            return .untracked(.invalid, reason: .sourceLimit, flowID: flowID)
        }
        counters.new &+= 1
        counters.active = table.count
        return TrackResult(state: .new, direction: .original, index: index, invalidReason: nil, created: true,
                           bypass: false, flowID: flowID)
    }

    /// ICMP errors are RELATED to the flow whose packet they quote (RFC 792,
    /// RFC 4443 §2.4: the quoted header starts the error's payload).
    private mutating func trackICMPError(_ p: PacketSummary, packet: UnsafeRawBufferPointer) -> TrackResult {
        let quoted = UnsafeRawBufferPointer(rebasing: packet[min(p.payloadOffset, packet.count)...])
        guard let inner = QuotedPacket(quoted, ipVersion: p.ipVersion),
              let index = table.find(inner.key, hash: inner.key.hash) else {
            countInvalid(.icmpErrorUnknownFlow)
            return .untracked(.invalid, reason: .icmpErrorUnknownFlow)
        }
        // The quoted packet went in one direction; the error travels back.
        var result = TrackResult(state: .related, direction: .original, index: index, invalidReason: nil,
                                 created: false, bypass: false, flowID: 0)
        table.withEntry(index) { c in
            let quotedDirection = c.direction(source: inner.source, port: inner.sourcePort)
            result.direction = quotedDirection == .original ? .reply : .original
            result.flowID = c.flowID
            if quotedDirection == .original, c.probeHeld {
                c.probeHeld = false
                result.probeAnswered = true
            }
        }
        return result
    }

    /// Forgets a flow created by a packet that was then dropped, as Linux
    /// never confirms the conntrack entry of a dropped packet: a port scan
    /// does not fill the table.
    public mutating func discardNew(_ result: TrackResult) {
        guard result.created, result.index >= 0 else { return }
        _ = table.remove(result.index)
        counters.new &-= 1
        counters.active = table.count
    }

    /// The rules decision kept for this packet's flow and direction (nil:
    /// none; -1: the default action). ICMP errors related to a flow are not
    /// the flow's own packets and never use it.
    @inline(__always)
    public func cachedRule(_ result: TrackResult) -> Int? {
        guard result.index >= 0, result.state != .related, result.state != .invalid else { return nil }
        return table[result.index].cachedRule(result.direction)
    }

    /// Keeps a flow-invariant rules decision for the flow's direction.
    /// Marks the flow as blocked by a signature (its later packets are dropped).
    public mutating func markBlocked(_ result: TrackResult) {
        guard result.index >= 0 else { return }
        table.withEntry(result.index) { $0.blocked = true }
    }

    /// Marks the flow's first packet as a scan probe held until it is
    /// answered: the first reply then has `probeAnswered` set.
    public mutating func markProbeHeld(_ result: TrackResult) {
        guard result.index >= 0 else { return }
        table.withEntry(result.index) { $0.probeHeld = true }
    }

    /// Marks the flow as having raised an alert (its EVE flow record says so).
    public mutating func markAlerted(_ result: TrackResult) {
        guard result.index >= 0 else { return }
        table.withEntry(result.index) { $0.alerted = true }
    }

    public mutating func cacheRule(_ result: TrackResult, ruleIndex: Int) {
        guard result.index >= 0, result.state != .related, result.state != .invalid else { return }
        table.withEntry(result.index) { $0.cacheRule(result.direction, ruleIndex) }
    }

    /// Forgets every kept decision (the rules changed). Visits each live
    /// flow once: measured in `socfw-bench conntrack` (`ms_clear_rule_cache`).
    public mutating func clearRuleCaches() {
        table.updateAll { $0.clearRuleCache() }
    }

    /// The packet that would have started the bypass was not accepted.
    public mutating func cancelBypass(_ result: TrackResult) {
        guard result.bypass, result.index >= 0 else { return }
        table.withEntry(result.index) { $0.bypassed = false }
        counters.bypassed &-= 1
    }

    /// Removes flows whose timeout passed, at most `budget` visits per call.
    public mutating func expire(now: Int64, budget: Int, onEnd: (Connection, FlowEndReason) -> Void) {
        var closed: UInt64 = 0
        var expired: UInt64 = 0
        let record = recordsEndedSlots
        var ended: [Int32] = []
        _ = table.expire(now: now, budget: budget) { (slot: Int32, c: Connection) in
            if record { ended.append(slot) }
            if c.protocolNumber == IPProtocolNumber.tcp && (c.tcp.state == .timeWait || c.tcp.state == .closed) {
                closed &+= 1
            } else {
                expired &+= 1
            }
            onEnd(c, .timeout)
        }
        if !ended.isEmpty { endedSlots += ended }
        counters.closed &+= closed
        counters.expired &+= expired
        counters.active = table.count
    }

    /// The kernel destroyed the conntrack entry of a flow (ctnetlink event):
    /// if socfwd bypassed it, it ends here too.
    public mutating func kernelDestroyed(_ key: FlowKey, onEnd: (Connection, FlowEndReason) -> Void) {
        guard let index = table.find(key, hash: key.hash), table[index].bypassed else { return }
        let c = table.remove(index)
        if recordsEndedSlots { endedSlots.append(index) }
        counters.closed &+= 1
        counters.active = table.count
        onEnd(c, .bypassEnded)
    }

    /// Ends every flow (socfwd stopping, capture finished).
    public mutating func flush(onEnd: (Connection, FlowEndReason) -> Void) {
        var indices: [Int32] = []
        table.forEach { index, _ in indices.append(index) }
        for index in indices { onEnd(table.remove(index), .shutdown) }
        if recordsEndedSlots { endedSlots += indices }
        counters.active = table.count
    }

    private mutating func countInvalid(_ reason: TrackInvalidReason) {
        counters.invalid &+= 1
        counters.invalidByReason[reason.name, default: 0] &+= 1
    }
}

extension TCPTracker {
    /// The value stored in the `tcp` field of UDP, ICMP and other flows,
    /// which never read it (a Connection keeps one layout for every protocol
    /// so the table's entries stay fixed-size).
    static let notTCP: TCPTracker =
        TCPTracker.start(TCPSegmentInfo(flags: .syn, sequence: 0, acknowledgement: 0, window: 0, payloadLength: 0),
                         loosePickup: false).0!
}

extension TCPSegmentInfo {
    /// The tracker's view of a parsed TCP packet; the window scale is read
    /// from the options of SYN segments only (RFC 7323 §2.2).
    init(_ p: PacketSummary, packet: UnsafeRawBufferPointer) {
        var scale: UInt8? = nil
        if p.tcpFlags.contains(.syn), p.l4Offset < packet.count {
            let segment = TCPSegment(uncheckedBytes: UnsafeRawBufferPointer(rebasing: packet[p.l4Offset...]))
            scale = (try? segment.parseOptions())?.windowScale
        }
        self.init(flags: p.tcpFlags, sequence: p.tcpSequence, acknowledgement: p.tcpAcknowledgement,
                  window: p.tcpWindow, payloadLength: p.ipLength - p.payloadOffset, windowScale: scale)
    }
}

/// The addresses, protocol and ports of the packet an ICMP error quotes.
/// Only the first 8 bytes of its transport header are guaranteed (RFC 792),
/// so this reads fields directly instead of validating a whole segment.
struct QuotedPacket {
    var source: IPAddress
    var destination: IPAddress
    var sourcePort: UInt16
    var destinationPort: UInt16
    var protocolNumber: UInt8

    var key: FlowKey {
        FlowKey(source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort,
                protocolNumber: protocolNumber)
    }

    init?(_ bytes: UnsafeRawBufferPointer, ipVersion: UInt8) {
        var l4Offset: Int
        if ipVersion == 4 {
            guard bytes.count >= 20, bytes[0] >> 4 == 4 else { return nil }
            let ihl = Int(bytes[0] & 0x0f) * 4
            guard ihl >= 20, bytes.count >= ihl else { return nil }
            let ip = IPv4Packet(uncheckedBytes: bytes)
            source = ip.source
            destination = ip.destination
            protocolNumber = ip.protocolNumber
            l4Offset = ihl
        } else {
            guard bytes.count >= 40, bytes[0] >> 4 == 6 else { return nil }
            let ip = IPv6Packet(uncheckedBytes: bytes)
            source = ip.source
            destination = ip.destination
            guard let chain = try? ip.walkExtensionHeaders() else { return nil }
            protocolNumber = chain.upperLayerProtocol
            l4Offset = chain.upperLayerOffset
        }
        sourcePort = 0
        destinationPort = 0
        if protocolNumber == IPProtocolNumber.tcp || protocolNumber == IPProtocolNumber.udp {
            guard bytes.count >= l4Offset + 4 else { return nil }
            sourcePort = UInt16(bytes[l4Offset]) << 8 | UInt16(bytes[l4Offset + 1])
            destinationPort = UInt16(bytes[l4Offset + 2]) << 8 | UInt16(bytes[l4Offset + 3])
        }
    }
}
