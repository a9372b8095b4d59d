import SocfwRegex
import SocfwWire

/// What a signature inspects, which decides when it is evaluated.
public enum InspectionContext: UInt8, CaseIterable, Sendable {
    /// Packet payloads: UDP, ICMP, IP rules, and TCP rules tied to single
    /// packets (`tcp-pkt`, `dsize`, `flow:no_stream`).
    case packet
    /// The reassembled TCP stream of one direction (new data plus a window).
    case stream
    /// An HTTP request once its line and headers are complete.
    case httpRequest
    /// An HTTP request once its body is complete (or cut at the inspection limit).
    case httpBody
    /// No payload test at all: addresses, ports, flags, TTL, ICMP type...
    case header

    public var name: String {
        switch self {
        case .packet: "packet"
        case .stream: "stream"
        case .httpRequest: "http_request"
        case .httpBody: "http_body"
        case .header: "header"
        }
    }
}

/// The parts of a signature an alert reports (EVE `alert` object).
public struct SignatureInfo: Sendable, Equatable {
    public var sid: UInt32
    public var gid: UInt32
    public var rev: UInt32
    public var message: String
    public var classtype: String?
    public var category: String?
    public var priority: Int
    public var severity: SignatureSeverity
    public var confidence: Double?
    public var action: SignatureAction
    public var origin: SignatureOrigin
    public var metadata: [String]

    init(_ s: SignatureSpec) {
        sid = s.sid
        gid = s.gid
        rev = s.rev
        message = s.message
        classtype = s.classtype
        category = s.category
        priority = s.priority
        severity = s.severity
        confidence = s.confidence
        action = s.action
        origin = s.origin
        metadata = s.metadata
    }
}

/// Why a parsed signature could not be compiled (it is then skipped, like an
/// unsupported keyword).
public struct SignatureCompileError: Error, Sendable, CustomStringConvertible {
    /// Short reason used as the report's per-keyword key, e.g. `pcre`.
    public var keyword: String
    public var message: String
    public var description: String { "\(keyword): \(message)" }
}

/// One detection step ready to run.
struct CompiledStep {
    enum Kind: UInt8 { case content, pcre, size, dataAt }

    var kind: Kind
    var negated = false
    /// Depends on where the previous step of the buffer ended.
    var relative = false
    // content
    var pattern: [UInt8] = []
    var nocase = false
    var offset = 0
    /// -1: none.
    var depth = -1
    var distance = 0
    /// -1: none.
    var within = -1
    var endsWith = false
    /// `fast_pattern` was given.
    var explicitFastPattern = false
    // pcre
    var regex: CompiledRegex? = nil
    // size, dataAt
    var test = NumericTest(.equal, 0)
    var dataAtOffset = 0
}

/// The steps of one buffer, in rule order.
struct BufferProgram {
    var buffer: SignatureBuffer
    var steps: [CompiledStep]
}

/// Flowbit operations with names replaced by bit numbers.
struct CompiledFlowbits {
    struct Check {
        var bits: [Int]
        var all: Bool
        var negated: Bool
    }

    var checks: [Check] = []
    var set: [Int] = []
    var unset: [Int] = []
    var toggle: [Int] = []
    var noAlert = false

    var isEmpty: Bool { checks.isEmpty && set.isEmpty && unset.isEmpty && toggle.isEmpty }
    var modifies: Bool { !set.isEmpty || !unset.isEmpty || !toggle.isEmpty }
}

/// One signature compiled for matching; immutable, shared by all workers.
final class CompiledSignature: Sendable {
    let index: Int32
    let info: SignatureInfo
    let context: InspectionContext
    /// IP protocol number, 0 for any (`ip`); ICMP rules match ICMPv6 too.
    let ipProtocol: UInt8
    let source: AddressMatch
    let destination: AddressMatch
    let sourcePorts: PortMatch
    let destinationPorts: PortMatch
    let bidirectional: Bool
    let flow: FlowTest
    let flowbits: CompiledFlowbits
    let dsize: NumericTest?
    let tcpFlags: TCPFlagsTest?
    let icmpType: NumericTest?
    let icmpCode: NumericTest?
    let ttl: NumericTest?
    let threshold: ThresholdSpec?
    let detectionFilter: ThresholdSpec?
    let programs: [BufferProgram]
    /// The prefilter literals (see `selectFastPattern`; several for a seed
    /// `prefilter` list, any of which selects the signature); empty: always
    /// a candidate.
    let fastPatterns: [(buffer: SignatureBuffer, literal: Literal)]

    init(spec s: SignatureSpec, index: Int32, flowbitNumbers: inout [String: Int]) throws(SignatureCompileError) {
        self.index = index
        info = SignatureInfo(s)
        switch s.proto {
        case .ip: ipProtocol = 0
        case .tcp, .tcpPacket, .tcpStream, .http: ipProtocol = IPProtocolNumber.tcp
        case .udp: ipProtocol = IPProtocolNumber.udp
        case .icmp: ipProtocol = IPProtocolNumber.icmp
        }
        source = s.source
        destination = s.destination
        sourcePorts = s.sourcePorts
        destinationPorts = s.destinationPorts
        bidirectional = s.bidirectional
        flow = s.flow
        dsize = s.dsize
        tcpFlags = s.tcpFlags
        icmpType = s.icmpType
        icmpCode = s.icmpCode
        ttl = s.ttl
        threshold = s.threshold
        detectionFilter = s.detectionFilter

        var bits = CompiledFlowbits()
        func number(_ name: String) -> Int {
            if let n = flowbitNumbers[name] { return n }
            let n = flowbitNumbers.count
            flowbitNumbers[name] = n
            return n
        }
        for op in s.flowbits {
            switch op {
            case .set(let n): bits.set.append(number(n))
            case .unset(let n): bits.unset.append(number(n))
            case .toggle(let n): bits.toggle.append(number(n))
            case .isSet(let names, let all): bits.checks.append(.init(bits: names.map(number), all: all, negated: false))
            case .isNotSet(let names, let all):
                bits.checks.append(.init(bits: names.map(number), all: all, negated: true))
            case .noAlert: bits.noAlert = true
            }
        }
        flowbits = bits

        // Steps grouped by buffer, each group in rule order.
        var order: [SignatureBuffer] = []
        var grouped: [SignatureBuffer: [CompiledStep]] = [:]
        for step in s.steps {
            let compiled = try CompiledSignature.compile(step)
            if grouped[step.buffer] == nil { order.append(step.buffer) }
            grouped[step.buffer, default: []].append(compiled)
        }
        programs = order.map { BufferProgram(buffer: $0, steps: grouped[$0]!) }
        if s.prefilter.isEmpty {
            fastPatterns = CompiledSignature.selectFastPattern(programs).map { [$0] } ?? []
        } else {
            guard s.prefilter.allSatisfy({ !$0.bytes.isEmpty && order.contains($0.buffer) }) else {
                throw SignatureCompileError(keyword: "prefilter",
                                            message: "prefilter literals must be non-empty and in an inspected buffer")
            }
            fastPatterns = s.prefilter.map { ($0.buffer, Literal(bytes: $0.bytes, caseless: $0.nocase)) }
        }

        let http = order.contains { $0.isHTTP }
        let payload = order.contains(.payload)
        if http && payload {
            throw SignatureCompileError(keyword: "mixed buffers",
                                        message: "payload and HTTP buffers in one signature are not supported")
        }
        if http {
            guard ipProtocol == IPProtocolNumber.tcp || ipProtocol == 0 else {
                throw SignatureCompileError(keyword: "protocol", message: "HTTP buffers need a TCP or http rule")
            }
            context = order.contains(.httpClientBody) ? .httpBody : .httpRequest
        } else if s.proto == .http {
            context = .httpRequest
        } else if payload {
            if ipProtocol == IPProtocolNumber.tcp && s.proto != .tcpPacket && dsize == nil && !s.flow.noStream
                && !s.flow.stateless {
                context = .stream
            } else {
                context = .packet
            }
        } else {
            context = .header
        }
    }

    static func compile(_ step: DetectionStep) throws(SignatureCompileError) -> CompiledStep {
        switch step {
        case .content(let c):
            guard !c.bytes.isEmpty else { throw SignatureCompileError(keyword: "content", message: "empty content") }
            var s = CompiledStep(kind: .content)
            s.negated = c.negated
            s.nocase = c.nocase
            s.pattern = c.nocase ? c.bytes.map(asciiLower) : c.bytes
            s.offset = max(0, c.offset ?? 0)
            s.depth = c.depth ?? -1
            s.distance = c.distance ?? 0
            s.within = c.within ?? -1
            s.relative = c.isRelative
            s.endsWith = c.endsWith
            s.explicitFastPattern = c.fastPattern
            if s.within >= 0 && s.within < c.bytes.count {
                throw SignatureCompileError(keyword: "within", message: "within \(s.within) is shorter than the content")
            }
            if s.depth >= 0 && s.depth < c.bytes.count {
                throw SignatureCompileError(keyword: "depth", message: "depth \(s.depth) is shorter than the content")
            }
            return s
        case .pcre(let p):
            var options: RegexOptions = []
            if p.caseless { options.insert(.caseless) }
            if p.multiline { options.insert(.multiline) }
            if p.dotAll { options.insert(.dotAll) }
            if p.extended { options.insert(.extended) }
            if p.anchored { options.insert(.anchored) }
            if p.dollarEndOnly { options.insert(.dollarEndOnly) }
            if p.ungreedy { options.insert(.ungreedy) }
            var s = CompiledStep(kind: .pcre)
            do {
                s.regex = try CompiledRegex(p.pattern, options: options)
            } catch {
                throw SignatureCompileError(keyword: "pcre", message: "\(error)")
            }
            s.negated = p.negated
            s.relative = p.relative
            return s
        case .size(let b):
            var s = CompiledStep(kind: .size)
            s.test = b.range
            return s
        case .dataAt(let d):
            var s = CompiledStep(kind: .dataAt)
            s.dataAtOffset = d.offset
            s.relative = d.relative
            s.negated = d.negated
            return s
        }
    }

    /// The literal the prefilter looks for: the `fast_pattern` content, else
    /// the longest positive content of the signature's inspected buffers.
    static func selectFastPattern(_ programs: [BufferProgram]) -> (buffer: SignatureBuffer, literal: Literal)? {
        var best: (buffer: SignatureBuffer, step: CompiledStep)? = nil
        for program in programs {
            for step in program.steps where step.kind == .content && !step.negated {
                if step.explicitFastPattern { return (program.buffer, step.literal) }
                if best == nil || step.pattern.count > best!.step.pattern.count { best = (program.buffer, step) }
            }
        }
        return best.map { ($0.buffer, $0.step.literal) }
    }
}

extension CompiledStep {
    var literal: Literal { Literal(bytes: pattern, caseless: nocase) }
}

@inline(__always)
func asciiLower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }
