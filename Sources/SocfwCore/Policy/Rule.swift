#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SocfwRegex
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
    case inInterface = "in_interface"
    case outInterface = "out_interface"
    case payload = "payload"
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
    case eq, ne, gt, lt, `in`, contains, matches, cidr
}

/// What the packet carries besides its headers: the tracker's view, the
/// interfaces it came in and goes out on, and its transport payload.
public struct PacketMeta {
    public var flow: FlowContext
    /// Interface names (nil when unknown, e.g. offline replay).
    public var inInterface: String?
    public var outInterface: String?
    /// The transport payload (as far as it was captured).
    public var payload: UnsafeRawBufferPointer

    public init(flow: FlowContext = .untracked, inInterface: String? = nil, outInterface: String? = nil,
                payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        self.flow = flow
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.payload = payload
    }
}

/// An interface name as written in a rule: exact (`eth0`) or a prefix
/// (`veth*`, or iptables' `veth+`).
public struct InterfacePattern: Hashable, Sendable {
    public var name: String
    public var isPrefix: Bool

    public init?(_ text: String) {
        var t = Substring(text)
        isPrefix = t.hasSuffix("*") || t.hasSuffix("+")
        if isPrefix { t = t.dropLast() }
        // Linux IFNAMSIZ is 16 including the NUL; names cannot hold '/',
        // ':' or white space.
        guard t.utf8.count <= 15, isPrefix || !t.isEmpty,
              t.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0 != "/" && $0 != ":" && $0 != "*" && $0 != "+" })
        else { return nil }
        name = String(t)
    }

    public func matches(_ interface: String) -> Bool {
        isPrefix ? interface.hasPrefix(name) : interface == name
    }

    public var text: String { isPrefix ? name + "*" : name }
}

/// A byte string searched for in payloads (`contains`). Written as text,
/// with Snort-style hex between bars for binary: `"GET |2f|admin"`, `"|00 01 ff|"`.
public struct BytePattern: Hashable, Sendable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Nil with a reason when the text is malformed.
    public static func parse(_ text: String) -> Result<BytePattern, PatternError> {
        var out: [UInt8] = []
        var inHex = false
        var hex = ""
        for b in text.utf8 {
            if b == UInt8(ascii: "|") {
                if inHex {
                    let digits = hex.filter { !$0.isWhitespace }
                    guard digits.count % 2 == 0, !digits.isEmpty else {
                        return .failure(PatternError("hex between '|' must be pairs of hex digits (e.g. |0d 0a|)"))
                    }
                    var i = digits.startIndex
                    while i < digits.endIndex {
                        let j = digits.index(i, offsetBy: 2)
                        guard let v = UInt8(digits[i..<j], radix: 16) else {
                            return .failure(PatternError("'\(digits[i..<j])' is not a hex byte"))
                        }
                        out.append(v)
                        i = j
                    }
                    hex = ""
                }
                inHex.toggle()
            } else if inHex {
                hex.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out.append(b)
            }
        }
        guard !inHex else { return .failure(PatternError("unterminated '|' hex section (write a literal bar as |7c|)")) }
        guard !out.isEmpty else { return .failure(PatternError("empty pattern")) }
        guard out.count <= 1024 else { return .failure(PatternError("longer than 1024 bytes")) }
        return .success(BytePattern(bytes: out))
    }

    public struct PatternError: Error {
        public var message: String
        init(_ message: String) { self.message = message }
    }

    /// Whether `haystack` contains the pattern.
    public func occurs(in haystack: UnsafeRawBufferPointer) -> Bool {
        bytes.withUnsafeBytes { BytePattern.search(haystack, $0) }
    }

    static func search(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        let n = needle.count
        guard n > 0, haystack.count >= n, let h = haystack.baseAddress, let nd = needle.baseAddress else { return false }
        let first = Int32(needle[0])
        var start = h
        let last = h + (haystack.count - n)  // last position a match can start at
        while start <= last {
            guard let hit = memchr(start, first, last - start + 1) else { return false }
            if memcmp(hit, nd, n) == 0 { return true }
            start = UnsafeRawPointer(hit) + 1
        }
        return false
    }
}

/// A `matches` pattern: compiled once, compared by its text.
public struct PayloadRegex: Equatable, Sendable {
    public let regex: CompiledRegex

    public init(_ regex: CompiledRegex) { self.regex = regex }

    public static func == (a: PayloadRegex, b: PayloadRegex) -> Bool { a.regex.pattern == b.regex.pattern }
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
    /// The input (or output) interface matches (or, negated, matches none)
    /// of the patterns; false when the interface is unknown.
    case interface(input: Bool, patterns: [InterfacePattern], negated: Bool)
    /// The payload contains the bytes.
    case payloadContains(BytePattern)
    /// The payload matches the regular expression (an attempt that hits the
    /// match limits counts as no match).
    case payloadMatches(PayloadRegex)

    /// Conditions whose answer cannot change between packets of one flow in
    /// one direction: a decision made only from these can be kept per flow.
    public var isFlowInvariant: Bool {
        switch self {
        case .address, .port, .protocolNumber, .interface: return true
        case .connectionState, .connectionDirection, .numeric, .payloadContains, .payloadMatches: return false
        }
    }

    /// Reference semantics (the simple evaluator): whether the packet
    /// satisfies the condition.
    public func matches(_ p: PacketSummary, meta: PacketMeta, regexScratch: RegexScratch) -> Bool {
        switch self {
        case let .interface(input, patterns, negated):
            guard let name = input ? meta.inInterface : meta.outInterface else { return false }
            return patterns.contains { $0.matches(name) } != negated
        case let .payloadContains(pattern):
            return pattern.occurs(in: meta.payload)
        case let .payloadMatches(r):
            return r.regex.matches(meta.payload, scratch: regexScratch) == .match
        default:
            return matches(p, flow: meta.flow)
        }
    }

    /// Whether the packet satisfies a header or tracker condition.
    public func matches(_ p: PacketSummary, flow: FlowContext = .untracked) -> Bool {
        switch self {
        case .interface, .payloadContains, .payloadMatches:
            preconditionFailure("interface and payload conditions need PacketMeta")
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
    /// The file the rule came from ("" when built in code).
    public var file: String
    /// The rule as written (conditions empty when built in code).
    public var spec: RuleSpec

    public init(name: String, id: Int? = nil, action: RuleAction, priority: Int = 0, enabled: Bool = true,
                conditions: [Condition], origin: String = "", file: String = "", spec: RuleSpec? = nil) {
        self.name = name
        self.id = id ?? Rule.derivedID(name: name)
        self.action = action
        self.priority = priority
        self.enabled = enabled
        self.conditions = conditions
        self.origin = origin
        self.file = file
        self.spec = spec ?? RuleSpec(name: name, id: id, action: action, priority: priority, enabled: enabled)
    }

    public func matches(_ p: PacketSummary, meta: PacketMeta, regexScratch: RegexScratch) -> Bool {
        for c in conditions where !c.matches(p, meta: meta, regexScratch: regexScratch) { return false }
        return true
    }

    /// FNV-1a of the name, folded into 1...2^31-1 so it reads as a Suricata sid.
    static func derivedID(name: String) -> Int {
        var h: UInt32 = 2_166_136_261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Int(h & 0x7fff_ffff) | 1
    }
}
