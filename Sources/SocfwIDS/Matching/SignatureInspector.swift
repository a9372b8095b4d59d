import SocfwRegex
import SocfwWire

/// The flow of a packet as the connection tracker sees it.
public struct InspectionFlow: Sendable {
    /// The tracker's slot; a later flow may reuse it (`flowID` differs, or `created`).
    public var slot: Int32
    public var flowID: UInt64
    /// This packet created the flow.
    public var created: Bool
    /// From the side that opened the flow (Suricata's to_server).
    public var toServer: Bool
    /// TCP: the handshake completed; other protocols: a reply was seen.
    public var established: Bool

    public init(slot: Int32, flowID: UInt64, created: Bool, toServer: Bool, established: Bool) {
        self.slot = slot
        self.flowID = flowID
        self.created = created
        self.toServer = toServer
        self.established = established
    }
}

/// HTTP fields of an alert (EVE's `http` object).
public struct HTTPAlertFields: Sendable, Equatable {
    public var hostname: String?
    public var url: String
    public var userAgent: String?
    public var method: String
    public var protocolVersion: String
    public var contentLength: Int?
}

/// A signature that matched a packet.
public struct SignatureHit: Sendable {
    /// Index in the set (for per-signature counters).
    public var signature: Int
    public var info: SignatureInfo
    /// The packet was dropped or rejected (by this or another signature).
    public var blocked: Bool
    /// `http` when found in an HTTP transaction.
    public var appProto: String?
    public var http: HTTPAlertFields?
    public var context: InspectionContext
}

/// What the signatures decided for a packet.
public struct SignatureVerdict: Sendable, Equatable {
    /// nil: no signature with an action other than alert matched.
    public var action: SignatureAction?
    /// The deciding signature's index, -1 for none.
    public var signature: Int32 = -1
    /// The packet belongs to a flow a signature blocked earlier.
    public var blockedFlow = false

    public static let none = SignatureVerdict(action: nil)
}

public struct InspectorCounters: Sendable, Equatable {
    public var packets: UInt64 = 0
    public var streamChunks: UInt64 = 0
    public var httpRequests: UInt64 = 0
    public var candidates: UInt64 = 0
    public var matches: UInt64 = 0
    public var alerts: UInt64 = 0
    public var drops: UInt64 = 0
    public var rejects: UInt64 = 0
    public var blockedFlowPackets: UInt64 = 0
    public var regexLimitHits: UInt64 = 0
    public var thresholdSuppressed: UInt64 = 0

    public init() {}

    public static func + (a: InspectorCounters, b: InspectorCounters) -> InspectorCounters {
        var r = a
        r.packets &+= b.packets; r.streamChunks &+= b.streamChunks; r.httpRequests &+= b.httpRequests
        r.candidates &+= b.candidates; r.matches &+= b.matches; r.alerts &+= b.alerts; r.drops &+= b.drops
        r.rejects &+= b.rejects; r.blockedFlowPackets &+= b.blockedFlowPackets; r.regexLimitHits &+= b.regexLimitHits
        r.thresholdSuppressed &+= b.thresholdSuppressed
        return r
    }
}

/// Limits of the per-flow inspection state.
public struct InspectionConfig: Sendable {
    public var stream = StreamConfig()
    public var http = HTTPLimits()
    /// Entries of the threshold / detection_filter table per worker.
    public var thresholdEntries = 1 << 16
    /// Stream inspection also looks for prefilter literals this far before
    /// the new data, so a match whose literal came in an earlier segment is
    /// found when the rest of it arrives (bounded like Suricata's chunked
    /// stream inspection). Capped by the stream window.
    public var streamLookbackBytes = 1024

    public init() {}
}

/// Runs a `SignatureSet` over the packets of one worker: owns the worker's
/// stream reassembly, HTTP parsers, flowbits, thresholds and scratch space.
/// Not thread-safe: one per queue worker.
public final class SignatureInspector {
    public private(set) var set: SignatureSet
    public let config: InspectionConfig
    public private(set) var counters = InspectorCounters()
    /// Matches per signature of `set` (reset when the set is replaced).
    public private(set) var hitsPerSignature: [UInt64]

    let stream: StreamReassembler
    private var slots: [FlowSlot] = []
    private var states: [FlowState] = []
    private var freeStates: [Int32] = []

    private var hits: LiteralHits
    private let literalScratch = LiteralScratch()
    private var matcher: ProgramMatcher
    /// Dedupe of candidates: `stamp[i] == generation` once signature i is queued.
    private var stamp: [UInt32]
    private var generation: UInt32 = 0
    private var candidates: [Int32] = []
    private var thresholds: ThresholdTracker
    /// Holds the parser of the flow being fed (see `inspectStream`).
    private var parserInUse: HTTPRequestParser

    /// What the set inspects, as plain flags read on every packet (looking
    /// into the set itself would retain and release its arrays).
    struct Shape {
        var any = false, header = false, packet = false, stream = false, httpRequest = false, httpBody = false
        var streamToServer = false, streamToClient = false, http = false, headerBuffers = false

        init() {}

        init(_ set: SignatureSet) {
            func has(_ c: InspectionContext) -> Bool { set.groups[Int(c.rawValue)].count > 0 }
            any = set.count > 0
            header = set.headerIndex.count > 0
            packet = has(.packet)
            stream = has(.stream)
            httpRequest = has(.httpRequest)
            httpBody = has(.httpBody)
            streamToServer = set.streamToServer
            streamToClient = set.streamToClient
            http = set.inspectsHTTP
            headerBuffers = set.readsHeaderBuffers
        }
    }

    private var shape: Shape

    /// Whether a TCP packet of a tracked flow can concern any signature
    /// (bare segments have no payload and no SYN; `toServer` nil: untracked).
    /// The inspector checks it itself; callers may use it to skip the call,
    /// but must then drop the packets of flows it blocked themselves.
    public func concernsTCP(payloadLength: Int, syn: Bool, toServer: Bool?) -> Bool {
        tcpInterest.concerns(payloadLength: payloadLength, syn: syn, toServer: toServer)
    }

    /// Flows holding inspection state now (HTTP parser, flowbits): a flow
    /// gives it back when it ends, or as soon as its TCP connection closes.
    public var flowStatesInUse: Int { states.count - freeStates.count }

    /// `concernsTCP` as a value: a caller may keep it (it changes only with
    /// `replace`) and decide without touching the inspector.
    public var tcpInterest: TCPInterest {
        TCPInterest(header: shape.header, packet: shape.packet, toServer: shape.streamToServer || shape.http,
                    toClient: shape.streamToClient)
    }

    public struct TCPInterest: Sendable, Equatable {
        var header = false, packet = false, toServer = false, toClient = false

        public init() {}
        init(header: Bool, packet: Bool, toServer: Bool, toClient: Bool) {
            self.header = header
            self.packet = packet
            self.toServer = toServer
            self.toClient = toClient
        }

        @inline(__always)
        public func concerns(payloadLength: Int, syn: Bool, toServer: Bool?) -> Bool {
            if header { return true }
            if payloadLength == 0 && !syn { return false }
            guard let toServer, !packet else { return true }
            return toServer ? self.toServer : toClient
        }
    }

    struct FlowSlot {
        var flowID: UInt64 = 0
        var state: Int32 = -1
        /// 0: open, else the blocking action's raw value + 1.
        var blocked: UInt8 = 0
    }

    struct FlowState {
        var http: HTTPRequestParser
        var bits: [UInt64] = []
    }

    public init(set: SignatureSet, config: InspectionConfig = InspectionConfig(), flowCapacity: Int = 65536) {
        self.set = set
        self.shape = Shape()
        self.config = config
        stream = StreamReassembler(config: config.stream, flowCapacity: flowCapacity)
        hits = LiteralHits(capacity: 1024)
        matcher = ProgramMatcher(regexScratch: RegexScratch())
        stamp = [UInt32](repeating: 0, count: set.count)
        hitsPerSignature = [UInt64](repeating: 0, count: set.count)
        thresholds = ThresholdTracker(capacity: config.thresholdEntries)
        parserInUse = HTTPRequestParser(limits: config.http)
        shape = Shape(set)
    }

    deinit { hits.deallocate() }

    /// Installs a new set (between batches). Flowbits and signature-specific
    /// flow memory are forgotten (bit numbers differ between sets); blocked
    /// flows stay blocked. Returns the replaced set's per-signature counts.
    @discardableResult
    public func replace(_ newSet: SignatureSet) -> [UInt64] {
        let old = hitsPerSignature
        set = newSet
        shape = Shape(newSet)
        stamp = [UInt32](repeating: 0, count: newSet.count)
        generation = 0
        hitsPerSignature = [UInt64](repeating: 0, count: newSet.count)
        for i in states.indices {
            states[i].bits.removeAll()
        }
        return old
    }

    /// Bytes held for flows (stream buffers) and tables.
    public var memoryBytes: Int {
        stream.memoryBytes + thresholds.memoryBytes + slots.count * MemoryLayout<FlowSlot>.stride
            + states.count * MemoryLayout<FlowState>.stride
    }

    public var streamCounters: StreamCounters { stream.counters }

    /// Forgets a flow (it ended).
    public func release(slot: Int32) {
        guard slot >= 0, Int(slot) < slots.count else { return }
        resetSlot(Int(slot), flowID: 0)
        stream.release(slot: slot)
    }

    // MARK: - Per packet

    /// Inspects one parsed packet (`bytes` from the IP header). Hits go to
    /// `onHit`; the result says whether a signature drops or rejects it.
    public func inspect(_ p: PacketSummary, bytes: UnsafeRawBufferPointer, flow: InspectionFlow?, now: Int64,
                        onHit: (SignatureHit) -> Void) -> SignatureVerdict {
        counters.packets &+= 1
        var slot = -1
        if let flow, flow.slot >= 0 {
            slot = Int(flow.slot)
            if slot >= slots.count { growSlots(slot) }
            if flow.created || slots[slot].flowID != flow.flowID {
                if slots[slot].flowID != 0 || slots[slot].state >= 0 { stream.release(slot: flow.slot) }
                resetSlot(slot, flowID: flow.flowID)
            }
            if slots[slot].blocked != 0 {
                counters.blockedFlowPackets &+= 1
                return SignatureVerdict(action: SignatureAction.allCases[Int(slots[slot].blocked) - 1],
                                        blockedFlow: true)
            }
        }
        guard shape.any else { return .none }
        // Most packets of a TCP flow are bare ACKs, and HTTP-only sets never
        // look at the responses.
        if p.l4Protocol == IPProtocolNumber.tcp,
           !concernsTCP(payloadLength: p.payloadLength, syn: p.tcpFlags.contains(.syn), toServer: flow?.toServer) {
            return .none
        }
        var decision = Decision()
        let payloadStart = min(p.payloadOffset, bytes.count)
        let payloadEnd = min(payloadStart + p.payloadLength, bytes.count)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<payloadEnd])

        if shape.header {
            runHeader(p, flow: flow, slot: slot, now: now, decision: &decision, onHit: onHit)
        }
        if !payload.isEmpty && shape.packet {
            run(.packet, p, flow: flow, slot: slot, now: now, decision: &decision, onHit: onHit) { b in
                b == .payload ? payload : nil
            }
        }
        if p.l4Protocol == IPProtocolNumber.tcp && p.l4Parsed {
            if let flow, slot >= 0 {
                if !payload.isEmpty || p.tcpFlags.contains(.syn) {
                    inspectStream(p, payload: payload, flow: flow, slot: slot, now: now, decision: &decision,
                                  onHit: onHit)
                }
            } else if !payload.isEmpty && shape.stream {
                // Untracked: the packet is all the stream there is.
                run(.stream, p, flow: flow, slot: slot, now: now, decision: &decision, onHit: onHit) { b in
                    b == .payload ? payload : nil
                }
            }
        }
        guard let action = decision.action else { return .none }
        if action == .pass { return SignatureVerdict(action: .pass, signature: decision.signature) }
        if slot >= 0 { slots[slot].blocked = UInt8(SignatureAction.allCases.firstIndex(of: action)! + 1) }
        if action == .drop { counters.drops &+= 1 } else { counters.rejects &+= 1 }
        return SignatureVerdict(action: action, signature: decision.signature)
    }

    private func inspectStream(_ p: PacketSummary, payload: UnsafeRawBufferPointer, flow: InspectionFlow, slot: Int,
                               now: Int64, decision: inout Decision, onHit: (SignatureHit) -> Void) {
        // Reassemble only what someone inspects: stream signatures for this
        // direction, or the HTTP parser (requests) until it gives up.
        let streamSignatures = flow.toServer ? shape.streamToServer : shape.streamToClient
        var parseHTTP = flow.toServer && shape.http
        if parseHTTP, slots[slot].state >= 0, states[Int(slots[slot].state)].http.gaveUp { parseHTTP = false }
        guard streamSignatures || parseHTTP else { return }
        let f = p.tcpFlags
        guard let chunk = stream.segment(
            slot: flow.slot, flowID: flow.flowID, newFlow: flow.created,
            direction: flow.toServer ? .toServer : .toClient, sequence: p.tcpSequence,
            syn: f.contains(.syn), fin: f.contains(.fin), rst: f.contains(.rst), payload: payload,
            window: streamSignatures)
        else { return }
        counters.streamChunks &+= 1
        let bytes = chunk.bytes
        if streamSignatures {
            run(.stream, p, flow: flow, slot: slot, now: now, decision: &decision, onHit: onHit,
                newDataStart: chunk.newDataStart, streamOffset: Int(clamping: chunk.streamOffset)) { b in
                b == .payload ? bytes : nil
            }
        }
        guard parseHTTP else { return }
        let state = stateIndex(slot)
        let newData = UnsafeRawBufferPointer(rebasing: bytes[chunk.newDataStart...])
        // The flow's parser is moved out (a swap, no copy) so the callback may
        // use the flow table while it runs, then moved back.
        swap(&parserInUse, &states[state].http)
        parserInUse.buildsHeaderBuffers = shape.headerBuffers
        parserInUse.feed(newData) { event, tx in
            let context: InspectionContext
            switch event {
            case .headersComplete:
                counters.httpRequests &+= 1
                context = .httpRequest
            case .bodyComplete: context = .httpBody
            case .notHTTP: return
            }
            guard context == .httpRequest ? shape.httpRequest : shape.httpBody else { return }
            tx.withStorage { storage in
                run(context, p, flow: flow, slot: slot, now: now, decision: &decision, onHit: onHit,
                    transaction: tx) { b in tx.range(of: b).map { UnsafeRawBufferPointer(rebasing: storage[$0]) } }
            }
        }
        swap(&parserInUse, &states[state].http)
    }

    // MARK: - Contexts

    struct Decision {
        var action: SignatureAction? = nil
        var signature: Int32 = -1

        mutating func take(_ a: SignatureAction, _ sig: Int32) {
            // pass > drop > reject > alert (Suricata's default action order).
            func rank(_ a: SignatureAction?) -> Int {
                switch a {
                case .pass: 3
                case .drop: 2
                case .reject: 1
                default: 0
                }
            }
            if rank(a) > rank(action) {
                action = a
                signature = sig
            }
        }
    }

    private func runHeader(_ p: PacketSummary, flow: InspectionFlow?, slot: Int, now: Int64,
                           decision: inout Decision, onHit: (SignatureHit) -> Void) {
        let index = set.headerIndex
        beginCandidates()
        for s in index.bySource.candidates(p.source) { addCandidate(s) }
        for s in index.byDestination.candidates(p.destination) { addCandidate(s) }
        for s in index.unindexed { addCandidate(s) }
        verifyCandidates(p, flow: flow, slot: slot, now: now, decision: &decision, onHit: onHit,
                         transaction: nil, streamContext: false, streamOffset: 0, minimumEnd: -1) { _ in nil }
    }

    private func run(_ context: InspectionContext, _ p: PacketSummary, flow: InspectionFlow?, slot: Int, now: Int64,
                     decision: inout Decision, onHit: (SignatureHit) -> Void, newDataStart: Int = 0,
                     streamOffset: Int = 0, transaction: HTTPTransaction? = nil,
                     buffer: (SignatureBuffer) -> UnsafeRawBufferPointer?) {
        let group = set.groups[Int(context.rawValue)]
        beginCandidates()
        for prefilter in group.prefilters {
            guard let bytes = buffer(prefilter.buffer) else { continue }
            hits.removeAll()
            hits.reserve(prefilter.database.count)
            if newDataStart > 0 {
                // Literals in the new data and in the last `streamLookbackBytes`
                // before it: a match whose literal came in an earlier segment
                // and whose other parts come now is found; verification then
                // requires the match to reach the new data (no repeats).
                let from = max(0, newDataStart - max(prefilter.database.longest - 1, config.streamLookbackBytes))
                prefilter.database.scan(UnsafeRawBufferPointer(rebasing: bytes[from...]), scratch: literalScratch,
                                        into: &hits)
            } else {
                prefilter.database.scan(bytes, scratch: literalScratch, into: &hits)
            }
            for h in 0..<hits.count {
                let id = Int(hits.ids[h])
                for k in Int(prefilter.starts[id])..<Int(prefilter.starts[id + 1]) {
                    addCandidate(prefilter.signatures[k])
                }
            }
        }
        for s in group.unfiltered { addCandidate(s) }
        verifyCandidates(p, flow: flow, slot: slot, now: now, decision: &decision, onHit: onHit,
                         transaction: transaction, streamContext: context == .stream, streamOffset: streamOffset,
                         minimumEnd: context == .stream && newDataStart > 0 ? newDataStart : -1, buffer: buffer)
    }

    @inline(__always)
    private func beginCandidates() {
        candidates.removeAll(keepingCapacity: true)
        generation &+= 1
        if generation == 0 {
            for i in stamp.indices { stamp[i] = 0 }
            generation = 1
        }
    }

    @inline(__always)
    private func addCandidate(_ s: Int32) {
        if stamp[Int(s)] != generation {
            stamp[Int(s)] = generation
            candidates.append(s)
        }
    }

    private func verifyCandidates(_ p: PacketSummary, flow: InspectionFlow?, slot: Int, now: Int64,
                                  decision: inout Decision, onHit: (SignatureHit) -> Void,
                                  transaction: HTTPTransaction?, streamContext: Bool, streamOffset: Int,
                                  minimumEnd: Int, buffer: (SignatureBuffer) -> UnsafeRawBufferPointer?) {
        guard !candidates.isEmpty else { return }
        // Rule order: flowbits set by an earlier signature are seen by a later one.
        if candidates.count > 1 { candidates.sort() }
        counters.candidates &+= UInt64(candidates.count)
        for s in candidates {
            let sig = set.signatures[Int(s)]
            guard headerMatches(sig, p, flow) else { continue }
            if !sig.flowbits.checks.isEmpty && !flowbitsHold(sig.flowbits, slot: slot) { continue }
            var ok = true
            for program in sig.programs {
                guard let bytes = buffer(program.buffer) else { ok = false; break }
                let payload = program.buffer == .payload
                if !matcher.matches(program, bytes, streamOffset: payload ? streamOffset : 0,
                                    minimumEnd: payload ? minimumEnd : -1) { ok = false; break }
            }
            if matcher.regexLimitHits != 0 {
                counters.regexLimitHits &+= matcher.regexLimitHits
                matcher.regexLimitHits = 0
            }
            guard ok else { continue }
            if let filter = sig.detectionFilter,
               !thresholds.record(filter, signature: s, source: p.source, destination: p.destination, now: now) {
                continue
            }
            matched(sig, p, slot: slot, now: now, decision: &decision, onHit: onHit, transaction: transaction,
                    streamContext: streamContext)
        }
    }

    private func matched(_ sig: CompiledSignature, _ p: PacketSummary, slot: Int, now: Int64,
                         decision: inout Decision, onHit: (SignatureHit) -> Void, transaction: HTTPTransaction?,
                         streamContext: Bool) {
        counters.matches &+= 1
        hitsPerSignature[Int(sig.index)] &+= 1
        if sig.flowbits.modifies && slot >= 0 { applyFlowbits(sig.flowbits, slot: slot) }
        if sig.info.action != .alert { decision.take(sig.info.action, sig.index) }
        if sig.flowbits.noAlert { return }
        if let t = sig.threshold,
           !thresholds.record(t, signature: sig.index, source: p.source, destination: p.destination, now: now) {
            counters.thresholdSuppressed &+= 1
            return
        }
        counters.alerts &+= 1
        let blocked = sig.info.action == .drop || sig.info.action == .reject
        onHit(SignatureHit(signature: Int(sig.index), info: sig.info, blocked: blocked,
                           appProto: transaction != nil ? "http" : nil, http: transaction?.alertFields,
                           context: sig.context))
    }

    @inline(__always)
    private func headerMatches(_ sig: CompiledSignature, _ p: PacketSummary, _ flow: InspectionFlow?) -> Bool {
        if sig.ipProtocol != 0 {
            if sig.ipProtocol == IPProtocolNumber.icmp {
                guard p.l4Protocol == IPProtocolNumber.icmp || p.l4Protocol == IPProtocolNumber.icmpv6 else {
                    return false
                }
            } else if p.l4Protocol != sig.ipProtocol {
                return false
            }
        }
        let hasPorts = p.l4Protocol == IPProtocolNumber.tcp || p.l4Protocol == IPProtocolNumber.udp
        func forward() -> Bool {
            sig.source.contains(p.source) && sig.destination.contains(p.destination)
                && (sig.sourcePorts.any || (hasPorts && sig.sourcePorts.contains(p.sourcePort)))
                && (sig.destinationPorts.any || (hasPorts && sig.destinationPorts.contains(p.destinationPort)))
        }
        func backward() -> Bool {
            sig.source.contains(p.destination) && sig.destination.contains(p.source)
                && (sig.sourcePorts.any || (hasPorts && sig.sourcePorts.contains(p.destinationPort)))
                && (sig.destinationPorts.any || (hasPorts && sig.destinationPorts.contains(p.sourcePort)))
        }
        guard forward() || (sig.bidirectional && backward()) else { return false }
        let f = sig.flow
        if f.toServer || f.toClient || f.established || f.notEstablished {
            guard let flow else { return false }
            if f.toServer && !flow.toServer { return false }
            if f.toClient && flow.toServer { return false }
            if f.established && !flow.established { return false }
            if f.notEstablished && flow.established { return false }
        }
        if let d = sig.dsize, !d.matches(p.payloadLength) { return false }
        if let t = sig.tcpFlags {
            guard p.l4Protocol == IPProtocolNumber.tcp, t.matches(p.tcpFlags.rawValue) else { return false }
        }
        if let t = sig.icmpType {
            guard p.isICMP, t.matches(Int(p.icmpType)) else { return false }
        }
        if let c = sig.icmpCode {
            guard p.isICMP, c.matches(Int(p.icmpCode)) else { return false }
        }
        if let t = sig.ttl, !t.matches(Int(p.ttl)) { return false }
        return true
    }

    // MARK: - Flow state

    private func growSlots(_ slot: Int) {
        var n = max(slots.count, 1024)
        while n <= slot { n *= 2 }
        slots += [FlowSlot](repeating: FlowSlot(), count: n - slots.count)
    }

    private func resetSlot(_ slot: Int, flowID: UInt64) {
        if slots[slot].state >= 0 {
            let s = Int(slots[slot].state)
            states[s].http.reset()
            if !states[s].bits.isEmpty { states[s].bits.removeAll(keepingCapacity: true) }
            freeStates.append(slots[slot].state)
        }
        slots[slot] = FlowSlot(flowID: flowID)
    }

    private func stateIndex(_ slot: Int) -> Int {
        if slots[slot].state >= 0 { return Int(slots[slot].state) }
        let index: Int32
        if let free = freeStates.popLast() {
            index = free
        } else {
            index = Int32(states.count)
            states.append(FlowState(http: HTTPRequestParser(limits: config.http)))
        }
        slots[slot].state = index
        return Int(index)
    }


    private func bit(_ slot: Int, _ n: Int) -> Bool {
        guard slot >= 0, slots[slot].state >= 0 else { return false }
        let bits = states[Int(slots[slot].state)].bits
        return n / 64 < bits.count && bits[n / 64] & (1 << UInt64(n % 64)) != 0
    }

    private func flowbitsHold(_ f: CompiledFlowbits, slot: Int) -> Bool {
        for check in f.checks {
            let hold = check.all ? check.bits.allSatisfy { bit(slot, $0) } : check.bits.contains { bit(slot, $0) }
            if hold == check.negated { return false }
        }
        return true
    }

    private func applyFlowbits(_ f: CompiledFlowbits, slot: Int) {
        let s = stateIndex(slot)
        let words = (set.flowbitNames.count + 63) / 64
        if states[s].bits.count < words { states[s].bits += [UInt64](repeating: 0, count: words - states[s].bits.count) }
        for n in f.set { states[s].bits[n / 64] |= 1 << UInt64(n % 64) }
        for n in f.unset { states[s].bits[n / 64] &= ~(1 << UInt64(n % 64)) }
        for n in f.toggle { states[s].bits[n / 64] ^= 1 << UInt64(n % 64) }
    }
}

extension HTTPTransaction {
    /// EVE's `http` object (built only when an alert is written).
    var alertFields: HTTPAlertFields {
        HTTPAlertFields(hostname: host, url: uriRaw,
                        userAgent: userAgent ?? headerValue(named: "user-agent").map { String(decoding: $0, as: UTF8.self) },
                        method: method,
                        protocolVersion: protocolVersion ?? "HTTP/0.9", contentLength: contentLength)
    }
}

extension PacketSummary {
    var isICMP: Bool { l4Protocol == IPProtocolNumber.icmp || l4Protocol == IPProtocolNumber.icmpv6 }
}
