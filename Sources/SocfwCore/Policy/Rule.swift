import SocfwWire

/// Packet fields a condition can test.
public enum RuleField: String, CaseIterable, Sendable {
    case srcIP = "src_ip"
    case dstIP = "dst_ip"
    case srcPort = "src_port"
    case dstPort = "dst_port"
    case `protocol` = "protocol"
    case ctState = "ct_state"
    case ctDirection = "ct_direction"
    case tcpFlags = "tcp_flags"
    case icmpType = "icmp_type"
    case icmpCode = "icmp_code"
    case ttl = "ttl"
    case hopLimit = "hop_limit"
    case length = "length"
    case dscp = "dscp"
}

/// Header fields compared as numbers (`.numeric` conditions).
public enum NumericField: UInt8, Sendable {
    /// All eight TCP flag bits; only TCP packets have it.
    case tcpFlags
    /// ICMP or ICMPv6 type / code; only ICMP packets have them.
    case icmpType, icmpCode
    /// IPv4 TTL, or IPv6 hop limit (the same field, either family).
    case ttl
    /// IP total length in bytes (IPv6: 40 + payload length).
    case length
    case dscp

    /// The field's value, or nil when the packet does not have it.
    @inlinable
    public func value(in p: PacketSummary) -> UInt32? {
        switch self {
        case .tcpFlags:
            return p.l4Parsed && p.l4Protocol == IPProtocolNumber.tcp ? UInt32(p.tcpFlags.rawValue) : nil
        case .icmpType, .icmpCode:
            guard p.l4Parsed, p.l4Protocol == IPProtocolNumber.icmp || p.l4Protocol == IPProtocolNumber.icmpv6 else {
                return nil
            }
            return UInt32(self == .icmpType ? p.icmpType : p.icmpCode)
        case .ttl: return UInt32(p.ttl)
        case .length: return UInt32(p.ipLength)
        case .dscp: return UInt32(p.dscp)
        }
    }
}

/// What the connection tracker says about the packet being evaluated.
public struct FlowContext: Equatable, Sendable {
    public var state: ConnectionState
    public var direction: FlowDirection

    public init(state: ConnectionState, direction: FlowDirection) {
        self.state = state
        self.direction = direction
    }

    /// For evaluation without a tracker (tests, tools).
    public static let untracked = FlowContext(state: .untracked, direction: .original)
}

public enum RuleOperator: String, CaseIterable, Sendable {
    case eq, ne, gt, lt, `in`, cidr
}

/// One condition, compiled at load time into the form it is tested in.
public enum Condition: Equatable, Sendable {
    /// The address is (or, negated, is not) inside one of the prefixes.
    case address(source: Bool, prefixes: [IPPrefix], negated: Bool)
    /// The port lies (or, negated, does not lie) in one of the ranges.
    /// Only TCP and UDP packets have ports: on others the condition is false.
    case port(source: Bool, ranges: [ClosedRange<UInt16>], negated: Bool)
    case protocolNumber(numbers: [UInt8], negated: Bool)
    /// `ct_state`: bit `1 << state.rawValue` set for each listed state.
    case connectionState(mask: UInt8, negated: Bool)
    case connectionDirection(FlowDirection, negated: Bool)
    /// A header field lies (or, negated, does not lie) in one of the ranges;
    /// false when the packet has no such field.
    case numeric(NumericField, ranges: [ClosedRange<UInt32>], negated: Bool)

    /// Whether the packet satisfies the condition.
    @inlinable
    public func matches(_ p: PacketSummary, flow: FlowContext = .untracked) -> Bool {
        switch self {
        case let .connectionState(mask, negated):
            return (mask & (1 << flow.state.rawValue) != 0) != negated
        case let .connectionDirection(direction, negated):
            return (flow.direction == direction) != negated
        case let .numeric(field, ranges, negated):
            guard let v = field.value(in: p) else { return false }
            return ranges.contains { $0.contains(v) } != negated
        case let .address(source, prefixes, negated):
            let a = source ? p.source : p.destination
            var hit = false
            for prefix in prefixes where prefix.contains(a) { hit = true; break }
            return hit != negated
        case let .port(source, ranges, negated):
            guard p.l4Parsed, p.l4Protocol == IPProtocolNumber.tcp || p.l4Protocol == IPProtocolNumber.udp else {
                return false
            }
            let port = source ? p.sourcePort : p.destinationPort
            var hit = false
            for r in ranges where r.contains(port) { hit = true; break }
            return hit != negated
        case let .protocolNumber(numbers, negated):
            return numbers.contains(p.l4Protocol) != negated
        }
    }
}

/// A filter rule as loaded from a rules file.
public struct Rule: Equatable, Sendable {
    public var name: String
    /// Stable numeric id for events (EVE `signature_id`): the rule's `id`
    /// when given, otherwise derived from its name.
    public var id: Int
    public var action: RuleAction
    /// Lower numbers are evaluated first; ties keep file order.
    public var priority: Int
    public var enabled: Bool
    public var conditions: [Condition]
    /// Where the rule was defined, for messages: `file:line`.
    public var origin: String

    public init(name: String, id: Int? = nil, action: RuleAction, priority: Int = 0, enabled: Bool = true,
                conditions: [Condition], origin: String = "") {
        self.name = name
        self.id = id ?? Rule.derivedID(name: name)
        self.action = action
        self.priority = priority
        self.enabled = enabled
        self.conditions = conditions
        self.origin = origin
    }

    @inlinable
    public func matches(_ p: PacketSummary, flow: FlowContext = .untracked) -> Bool {
        for c in conditions where !c.matches(p, flow: flow) { return false }
        return true
    }

    /// FNV-1a of the name, folded into 1...2^31-1 so it reads as a Suricata sid.
    static func derivedID(name: String) -> Int {
        var h: UInt32 = 2_166_136_261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Int(h & 0x7fff_ffff) | 1
    }
}
