import SocfwWire

// The dialect-independent form of one signature: what the Suricata / Snort 3
// rule parser and the seed YAML loader produce and what `SignatureCompiler`
// turns into matchers. Plain values; nothing here matches anything yet.

/// What a matching signature does to the packet (and its flow).
public enum SignatureAction: String, Sendable, CaseIterable, Codable {
    /// Report and pass.
    case alert
    /// Drop the packet and the rest of its flow.
    case drop
    /// Drop, answer with a TCP RST / ICMP unreachable, and block the flow.
    case reject
    /// Stop inspecting this packet with lower-precedence signatures.
    case pass
}

/// Severity levels of the seed format; Suricata priorities 1..4 map onto them
/// (1 critical/high ... 4 low).
public enum SignatureSeverity: String, Sendable, CaseIterable, Codable, Comparable {
    case low, medium, high, critical

    /// EVE's `alert.severity`: 1 is the most severe (Suricata's priority).
    public var eveSeverity: Int {
        switch self {
        case .critical: 1
        case .high: 1
        case .medium: 2
        case .low: 3
        }
    }

    public init(priority: Int) {
        switch priority {
        case ...1: self = .high
        case 2: self = .medium
        default: self = .low
        }
    }

    var rank: Int { SignatureSeverity.allCases.firstIndex(of: self)! }
    public static func < (a: SignatureSeverity, b: SignatureSeverity) -> Bool { a.rank < b.rank }
}

/// The protocol of the rule header.
public enum SignatureProtocol: String, Sendable, CaseIterable, Codable {
    case ip, tcp, udp, icmp
    /// TCP whose request was parsed as HTTP/1.x (`alert http ...`).
    case http
    /// TCP, packet payloads only, never the reassembled stream (`tcp-pkt`).
    case tcpPacket = "tcp-pkt"
    /// TCP, the reassembled stream only (`tcp-stream`).
    case tcpStream = "tcp-stream"
}

/// A set of addresses from a rule header: `any`, `[10.0.0.0/8,!10.1.0.0/16]`,
/// `$HOME_NET` (variables are resolved by the parser).
public struct AddressMatch: Sendable, Equatable {
    /// Prefixes included; empty with `any == true` means every address.
    public var include: [IPPrefix]
    /// Prefixes excluded (checked after `include`).
    public var exclude: [IPPrefix]
    public var any: Bool

    public init(include: [IPPrefix] = [], exclude: [IPPrefix] = [], any: Bool = false) {
        self.include = include
        self.exclude = exclude
        self.any = any
    }

    public static let all = AddressMatch(any: true)

    public func contains(_ address: IPAddress) -> Bool {
        if !any && !include.contains(where: { $0.contains(address) }) { return false }
        return !exclude.contains(where: { $0.contains(address) })
    }
}

/// A set of ports: `any`, `80`, `[80,8080:8090,!8085]`, `1024:`.
public struct PortMatch: Sendable, Equatable {
    public var include: [ClosedRange<UInt16>]
    public var exclude: [ClosedRange<UInt16>]
    public var any: Bool

    public init(include: [ClosedRange<UInt16>] = [], exclude: [ClosedRange<UInt16>] = [], any: Bool = false) {
        self.include = include
        self.exclude = exclude
        self.any = any
    }

    public static let all = PortMatch(any: true)

    public func contains(_ port: UInt16) -> Bool {
        if !any && !include.contains(where: { $0.contains(port) }) { return false }
        return !exclude.contains(where: { $0.contains(port) })
    }
}

/// The data a content or pcre is matched against.
public enum SignatureBuffer: UInt8, Sendable, CaseIterable, Codable {
    /// The payload: for TCP the reassembled stream of the direction (and the
    /// packet for `tcp-pkt` / `dsize` rules), for UDP/ICMP the packet payload.
    case payload
    /// The normalised request URI (percent- and double-decoded, path normalised).
    case httpURI
    /// The request URI as sent.
    case httpRawURI
    case httpMethod
    /// The request line as sent (`GET /x HTTP/1.1`).
    case httpRequestLine
    /// Request headers, normalised (`Name: value\r\n` each), without the cookie.
    case httpHeader
    /// Request headers as sent.
    case httpRawHeader
    case httpCookie
    case httpUserAgent
    case httpHost
    /// The request body (dechunked), up to the configured body limit.
    case httpClientBody
    /// The protocol token of the request line (`HTTP/1.1`).
    case httpProtocol
    /// Values of single request headers (Suricata's `http.referer`, ...).
    case httpReferer
    case httpContentType
    case httpAccept
    case httpAcceptLanguage
    case httpAcceptEncoding
    case httpConnection
    case httpContentLength
    /// The header names in order, `\r\n`-separated, starting and ending with `\r\n`.
    case httpHeaderNames
    /// Request line and headers as sent, up to and including the blank line.
    case httpStart

    public var isHTTP: Bool { self != .payload }

    /// The Suricata sticky-buffer name, for reports and EVE.
    public var name: String {
        switch self {
        case .payload: "payload"
        case .httpURI: "http.uri"
        case .httpRawURI: "http.uri.raw"
        case .httpMethod: "http.method"
        case .httpRequestLine: "http.request_line"
        case .httpHeader: "http.header"
        case .httpRawHeader: "http.header.raw"
        case .httpCookie: "http.cookie"
        case .httpUserAgent: "http.user_agent"
        case .httpHost: "http.host"
        case .httpClientBody: "http.request_body"
        case .httpProtocol: "http.protocol"
        case .httpReferer: "http.referer"
        case .httpContentType: "http.content_type"
        case .httpAccept: "http.accept"
        case .httpAcceptLanguage: "http.accept_lang"
        case .httpAcceptEncoding: "http.accept_enc"
        case .httpConnection: "http.connection"
        case .httpContentLength: "http.content_len"
        case .httpHeaderNames: "http.header_names"
        case .httpStart: "http.start"
        }
    }
}

/// A literal to find (`content`).
public struct ContentMatch: Sendable, Equatable {
    public var bytes: [UInt8]
    public var buffer: SignatureBuffer
    public var nocase: Bool = false
    /// `!content`: the rule matches only if this is absent (within its limits).
    public var negated: Bool = false
    /// Absolute limits (from the start of the buffer).
    public var offset: Int? = nil
    public var depth: Int? = nil
    /// Relative limits (from the end of the previous content/pcre match in the same buffer).
    public var distance: Int? = nil
    public var within: Int? = nil
    /// `startswith` = offset 0 + depth len; `endswith`: the match must end the buffer.
    public var endsWith: Bool = false
    /// `fast_pattern` was given (the prefilter uses this content).
    public var fastPattern: Bool = false

    public init(bytes: [UInt8], buffer: SignatureBuffer = .payload) {
        self.bytes = bytes
        self.buffer = buffer
    }

    /// `distance` or `within` given: anchored to the previous match.
    public var isRelative: Bool { distance != nil || within != nil }
}

/// A regular expression (`pcre:"/.../flags"`).
public struct PcreMatch: Sendable, Equatable {
    /// The pattern between the slashes, unescaped only as PCRE needs.
    public var pattern: String
    public var buffer: SignatureBuffer
    public var negated: Bool = false
    public var caseless: Bool = false        // i
    public var multiline: Bool = false       // m
    public var dotAll: Bool = false          // s
    public var extended: Bool = false        // x
    public var anchored: Bool = false        // A
    public var dollarEndOnly: Bool = false   // E
    public var ungreedy: Bool = false        // G
    /// `R`: starts where the previous match in the same buffer ended.
    public var relative: Bool = false

    public init(pattern: String, buffer: SignatureBuffer = .payload) {
        self.pattern = pattern
        self.buffer = buffer
    }
}

/// Buffer-size tests (`bsize`, and `urilen` on the URI).
public struct BufferSize: Sendable, Equatable {
    public var buffer: SignatureBuffer
    public var range: NumericTest

    public init(buffer: SignatureBuffer, range: NumericTest) {
        self.buffer = buffer
        self.range = range
    }
}

/// `isdataat:N[,relative]` / `!isdataat`: at least N+1 bytes exist at N
/// (from the start, or from the end of the previous match).
public struct DataAtTest: Sendable, Equatable {
    public var buffer: SignatureBuffer
    public var offset: Int
    public var relative: Bool
    public var negated: Bool

    public init(buffer: SignatureBuffer, offset: Int, relative: Bool = false, negated: Bool = false) {
        self.buffer = buffer
        self.offset = offset
        self.relative = relative
        self.negated = negated
    }
}

/// One detection step, kept in rule order (relative modifiers refer to the
/// step before them in the same buffer).
public enum DetectionStep: Sendable, Equatable {
    case content(ContentMatch)
    case pcre(PcreMatch)
    case size(BufferSize)
    case dataAt(DataAtTest)

    public var buffer: SignatureBuffer {
        switch self {
        case .content(let c): c.buffer
        case .pcre(let p): p.buffer
        case .size(let s): s.buffer
        case .dataAt(let d): d.buffer
        }
    }
}

/// `dsize:10`, `dsize:>5`, `ttl:<3`, `dsize:10<>20`, `itype:!8`.
public struct NumericTest: Sendable, Equatable {
    public enum Op: String, Sendable {
        case equal = "="
        case notEqual = "!"
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        /// Exclusive range `a<>b` (Suricata semantics: a < x < b).
        case range = "<>"
    }

    public var op: Op
    public var value: Int
    /// Upper bound for `.range`.
    public var high: Int

    public init(_ op: Op, _ value: Int, high: Int = 0) {
        self.op = op
        self.value = value
        self.high = high
    }

    public func matches(_ x: Int) -> Bool {
        switch op {
        case .equal: x == value
        case .notEqual: x != value
        case .less: x < value
        case .lessOrEqual: x <= value
        case .greater: x > value
        case .greaterOrEqual: x >= value
        case .range: x > value && x < high
        }
    }
}

/// `flags:S,12` / `flags:SA+` / `flags:!R` / `flags:*SA`.
public struct TCPFlagsTest: Sendable, Equatable {
    public enum Mode: Sendable { case exact, all, any, not }
    /// The flag bits named (FIN 0x01 ... CWR 0x80, as in the TCP header).
    public var flags: UInt8
    public var mode: Mode
    /// Bits ignored (the part after the comma).
    public var ignore: UInt8

    public init(flags: UInt8, mode: Mode = .exact, ignore: UInt8 = 0) {
        self.flags = flags
        self.mode = mode
        self.ignore = ignore
    }

    public func matches(_ packetFlags: UInt8) -> Bool {
        let f = packetFlags & ~ignore
        switch mode {
        case .exact: return f == flags
        case .all: return f & flags == flags
        case .any: return f & flags != 0
        case .not: return f & flags == 0
        }
    }
}

/// `flow:` options.
public struct FlowTest: Sendable, Equatable {
    /// Packets from the client (the side that opened the flow).
    public var toServer = false
    public var toClient = false
    public var established = false
    public var notEstablished = false
    public var stateless = false
    /// `only_stream` / `no_stream`.
    public var onlyStream = false
    public var noStream = false

    public init() {}
}

/// `flowbits:` operations (names are per flow, shared by all signatures).
public enum FlowbitOp: Sendable, Equatable {
    case set(String)
    case unset(String)
    case toggle(String)
    /// Every name set (`isset:a&b`) / any set (`isset:a|b`).
    case isSet([String], all: Bool)
    case isNotSet([String], all: Bool)
    /// The signature never alerts (it only sets bits).
    case noAlert
}

/// `threshold` / `detection_filter`.
public struct ThresholdSpec: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Alert on the first `count` matches per window.
        case limit
        /// Alert on every `count`-th match.
        case threshold
        /// Alert once per window after `count` matches.
        case both
        /// `detection_filter`: alert on every match after the first `count` in the window.
        case detectionFilter = "detection_filter"
    }

    public enum Track: String, Sendable { case bySource = "by_src", byDestination = "by_dst", byRule = "by_rule", byBoth = "by_both" }

    public var kind: Kind
    public var track: Track
    public var count: Int
    public var seconds: Int

    public init(kind: Kind, track: Track, count: Int, seconds: Int) {
        self.kind = kind
        self.track = track
        self.count = count
        self.seconds = seconds
    }
}

/// Where a signature came from, for errors and reports.
public struct SignatureOrigin: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// One parsed signature.
public struct SignatureSpec: Sendable, Equatable {
    public var action: SignatureAction
    public var proto: SignatureProtocol
    public var source: AddressMatch = .all
    public var sourcePorts: PortMatch = .all
    public var destination: AddressMatch = .all
    public var destinationPorts: PortMatch = .all
    /// `<>`: the header matches in either direction.
    public var bidirectional = false

    public var sid: UInt32
    public var gid: UInt32 = 1
    public var rev: UInt32 = 1
    public var message: String
    public var classtype: String? = nil
    /// The classtype's description (EVE `alert.category`), filled in by the loader.
    public var category: String? = nil
    /// Explicit `priority`, else the classtype's, else 3.
    public var priority: Int = 3
    public var severity: SignatureSeverity = .low
    /// Seed-format confidence 0...1 (Suricata rules: from metadata `confidence`, else nil).
    public var confidence: Double? = nil
    public var references: [String] = []
    public var metadata: [String] = []

    public var steps: [DetectionStep] = []
    /// Literals of which ANY makes the signature a prefilter candidate (not
    /// verified themselves): for patterns with alternatives, where no single
    /// content is required. Empty: the fast pattern is chosen from `steps`.
    public var prefilter: [ContentMatch] = []
    public var flow = FlowTest()
    public var flowbits: [FlowbitOp] = []
    public var dsize: NumericTest? = nil
    public var tcpFlags: TCPFlagsTest? = nil
    public var icmpType: NumericTest? = nil
    public var icmpCode: NumericTest? = nil
    public var ttl: NumericTest? = nil
    public var threshold: ThresholdSpec? = nil
    public var detectionFilter: ThresholdSpec? = nil

    public var origin: SignatureOrigin

    public init(action: SignatureAction, proto: SignatureProtocol, sid: UInt32, message: String,
                origin: SignatureOrigin) {
        self.action = action
        self.proto = proto
        self.sid = sid
        self.message = message
        self.origin = origin
    }
}
