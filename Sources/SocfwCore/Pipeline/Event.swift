import SocfwIDS
import SocfwWire

/// Something the engine reports about a packet: a LOG or ALERT rule that
/// matched, or a packet it dropped or rejected. Carried from the workers to
/// the output thread through a bounded queue.
public struct Event: Sendable {
    public enum Kind: String, Sendable {
        /// An ALERT rule matched.
        case alert
        /// A LOG rule matched.
        case log
        /// The packet was dropped or rejected.
        case drop
        /// A tracked flow ended (EVE `flow` record).
        case flow
    }

    public var kind: Kind
    public var timestampNanoseconds: Int64
    public var packet: PacketSummary
    public var verdict: Verdict
    /// The rule behind the event; nil for the default action or a malformed packet.
    public var ruleID: Int?
    public var ruleName: String?
    public var ruleAction: RuleAction?
    /// Why a packet without a rule was dropped, e.g. "default_action" or a
    /// wire error counter name.
    public var reason: String?
    /// The tracker's view of the packet's flow, when tracked.
    public var flowState: ConnectionState?
    /// For `.flow` events: the flow that ended and why.
    public var connection: Connection?
    public var endReason: FlowEndReason?
    /// The signature behind an IDS alert (kind `.alert`; `blocked` when it
    /// dropped or rejected the packet).
    public var signature: SignatureHit?
    /// The behavioural detection or protocol anomaly behind an alert.
    public var detection: Detection?
    /// The packet goes from the flow's client to its server (true), the
    /// other way (false); nil when not tracked.
    public var toServer: Bool?

    public init(kind: Kind, timestampNanoseconds: Int64, packet: PacketSummary, verdict: Verdict,
                ruleID: Int? = nil, ruleName: String? = nil, ruleAction: RuleAction? = nil, reason: String? = nil,
                flowState: ConnectionState? = nil) {
        self.flowState = flowState
        self.kind = kind
        self.timestampNanoseconds = timestampNanoseconds
        self.packet = packet
        self.verdict = verdict
        self.ruleID = ruleID
        self.ruleName = ruleName
        self.ruleAction = ruleAction
        self.reason = reason
    }

    /// A flow id that is the same for both directions of a connection, as
    /// EVE's `flow_id` is. Kept below 2^53 so JSON readers keep it exact.
    public var flowID: UInt64 { connection?.flowID ?? trackedFlowID ?? FlowKey(packet).hash & ((1 << 51) - 1) }
    /// The tracker's id of the packet's flow, when known.
    public var trackedFlowID: UInt64?

    /// An IDS signature matched the packet.
    public static func signatureAlert(_ hit: SignatureHit, packet: PacketSummary, timestampNanoseconds: Int64,
                                      verdict: Verdict, flowState: ConnectionState?, flowID: UInt64?,
                                      toServer: Bool? = nil) -> Event {
        var e = Event(kind: .alert, timestampNanoseconds: timestampNanoseconds, packet: packet, verdict: verdict,
                      flowState: flowState)
        e.signature = hit
        e.toServer = toServer
        e.trackedFlowID = flowID
        return e
    }

    /// A detector fired (on `packet`, or on a flush: `packet` is then empty).
    public static func detected(_ d: Detection, packet: PacketSummary, timestampNanoseconds: Int64, verdict: Verdict,
                                flowState: ConnectionState?, flowID: UInt64?) -> Event {
        var e = Event(kind: .alert, timestampNanoseconds: timestampNanoseconds, packet: packet, verdict: verdict,
                      flowState: flowState)
        e.detection = d
        e.trackedFlowID = flowID
        return e
    }

    /// The EVE `flow` record of a flow that ended.
    public static func flowEnded(_ c: Connection, reason: FlowEndReason) -> Event {
        var e = Event(kind: .flow, timestampNanoseconds: c.lastSeenNanoseconds, packet: PacketSummary(), verdict: .accept)
        e.connection = c
        e.endReason = reason
        return e
    }
}

/// Direction-independent flow identity (addresses and ports sorted).
public struct FlowKey: Hashable, Sendable {
    public var lowAddress: IPAddress
    public var highAddress: IPAddress
    public var lowPort: UInt16
    public var highPort: UInt16
    public var protocolNumber: UInt8

    public init(lowAddress: IPAddress, highAddress: IPAddress, lowPort: UInt16, highPort: UInt16, protocolNumber: UInt8) {
        self.lowAddress = lowAddress
        self.highAddress = highAddress
        self.lowPort = lowPort
        self.highPort = highPort
        self.protocolNumber = protocolNumber
    }

    /// The key of the flow `source:sourcePort → destination:destinationPort`.
    public init(source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
                protocolNumber: UInt8) {
        if source < destination || (source == destination && sourcePort <= destinationPort) {
            self.init(lowAddress: source, highAddress: destination, lowPort: sourcePort, highPort: destinationPort,
                      protocolNumber: protocolNumber)
        } else {
            self.init(lowAddress: destination, highAddress: source, lowPort: destinationPort, highPort: sourcePort,
                      protocolNumber: protocolNumber)
        }
    }

    public init(_ p: PacketSummary) {
        self.init(source: p.source, sourcePort: p.sourcePort, destination: p.destination,
                  destinationPort: p.destinationPort, protocolNumber: p.l4Protocol)
    }

    /// 64-bit mix (splitmix64 finaliser) of the fields; stable across runs,
    /// unlike `Hasher`.
    public var hash: UInt64 {
        let mix = SplitMix64.mix
        var h = mix(lowAddress.high ^ UInt64(protocolNumber) << 56)
        h = mix(h ^ lowAddress.low)
        h = mix(h ^ highAddress.high)
        h = mix(h ^ highAddress.low)
        return mix(h ^ UInt64(lowPort) << 16 ^ UInt64(highPort))
    }
}
