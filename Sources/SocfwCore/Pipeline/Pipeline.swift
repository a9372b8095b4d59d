import SocfwIDS
import SocfwWire

/// Per-pipeline counters. Plain integers: a pipeline belongs to one thread;
/// the kernel layer publishes copies for the stats reader.
public struct PipelineCounters: Equatable, Sendable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var accepted: UInt64 = 0
    public var dropped: UInt64 = 0
    public var rejected: UInt64 = 0
    /// Packets whose IP or transport header was truncated or invalid.
    public var malformed: UInt64 = 0
    /// Frames that were not IPv4/IPv6 (offline mode; inline only IP is queued).
    public var nonIP: UInt64 = 0
    public var events: UInt64 = 0
    /// Malformed packets by wire error (`ipv4_truncated`, ...).
    public var parseErrors: [String: UInt64] = [:]
    /// Packets given the BYPASS mark (their flow continues in the kernel).
    public var bypassVerdicts: UInt64 = 0
    /// Packets decided by a decision kept for their flow (rules not evaluated).
    public var ruleCacheHits: UInt64 = 0
    /// `matches` attempts abandoned at the regular-expression limits.
    public var regexLimitHits: UInt64 = 0
    /// Signature alerts (including those that blocked).
    public var signatureAlerts: UInt64 = 0
    /// Packets dropped or rejected by a signature, or in a flow one blocked.
    public var signatureBlocked: UInt64 = 0
    /// Of those, packets of a flow a signature blocked earlier.
    public var blockedFlowPackets: UInt64 = 0
    /// Behavioural detections and anomaly alerts raised.
    public var detections: UInt64 = 0
    /// Packets dropped by the detectors (a blocked source, an anomaly whose action is drop).
    public var detectorDrops: UInt64 = 0

    public init() {}

    public mutating func count(_ verdict: Verdict) {
        switch verdict {
        case .accept: accepted &+= 1
        case .drop: dropped &+= 1
        case .reject: rejected &+= 1
        }
    }

    public static func + (a: PipelineCounters, b: PipelineCounters) -> PipelineCounters {
        var r = a
        r.packets &+= b.packets; r.bytes &+= b.bytes; r.accepted &+= b.accepted; r.dropped &+= b.dropped
        r.rejected &+= b.rejected; r.malformed &+= b.malformed; r.nonIP &+= b.nonIP; r.events &+= b.events
        r.parseErrors.merge(b.parseErrors, uniquingKeysWith: +)
        r.bypassVerdicts &+= b.bypassVerdicts
        r.ruleCacheHits &+= b.ruleCacheHits
        r.regexLimitHits &+= b.regexLimitHits
        r.signatureAlerts &+= b.signatureAlerts
        r.signatureBlocked &+= b.signatureBlocked
        r.blockedFlowPackets &+= b.blockedFlowPackets
        r.detections &+= b.detections
        r.detectorDrops &+= b.detectorDrops
        return r
    }
}

/// What the pipeline decided for one packet.
public struct PacketResult: Sendable {
    public var verdict: Verdict
    public var summary: PacketSummary
    /// Index into the rule set of the deciding rule, -1 for the default action
    /// or a malformed packet.
    public var ruleIndex: Int
    public var malformed: Bool
    /// The tracker's result; nil without connection tracking or for malformed packets.
    public var flow: TrackResult?
    /// Accept with the BYPASS mark: the rest of the flow stays in the kernel.
    public var bypass: Bool = false
    /// A signature decided the verdict (ruleIndex is then -1).
    public var signatureVerdict: Bool = false
    /// A detector decided the verdict (ruleIndex is then -1).
    public var detectorVerdict: Bool = false
}

/// The packet path shared by inline and offline mode: parse → rules → verdict
/// (+ events). A value owned by one thread; it does no I/O and allocates
/// nothing for a well-formed packet.
public struct Pipeline {
    public private(set) var ruleSet: RuleSet
    public let malformedVerdict: Verdict
    public var counters = PipelineCounters()
    /// Hits per rule of `ruleSet`.
    public private(set) var ruleCounters: RuleCounters
    let scratch = RuleScratch()
    /// Resolves an interface index to its name (inline: if_indextoname).
    public var interfaceName: (Int32) -> String? = { _ in nil }
    /// Interface masks of `ruleSet` by interface index (0: not resolved yet).
    var interfaceMasks: [UInt64] = []
    /// Connection tracking; nil runs the rules on packets alone (ct_state is
    /// then `untracked`).
    public private(set) var tracker: ConnectionTracker?
    let invalidVerdict: Verdict?
    /// Payload inspection (IDS signatures); nil: none.
    public private(set) var inspector: SignatureInspector?
    /// `inspector.tcpInterest`, refreshed whenever its set changes.
    private var inspectorInterest = SignatureInspector.TCPInterest()
    /// Behavioural detectors and protocol anomalies; nil: none.
    public private(set) var detectors: DetectorProbe?
    /// `detectors != nil`, kept apart: comparing the optional struct with nil
    /// copies it (retaining every array it holds) on each packet.
    private var hasDetectors = false

    public init(ruleSet: RuleSet, malformedAction: RuleAction, conntrack: ConntrackConfig? = nil,
                connectionCapacity: Int = 0) {
        self.ruleSet = ruleSet
        self.ruleCounters = RuleCounters(ruleSet: ruleSet)
        self.malformedVerdict = malformedAction.verdict
        if let conntrack {
            tracker = ConnectionTracker(config: conntrack, capacity: max(connectionCapacity, 1024))
            // ALLOW hands INVALID packets to the rules (ct_state invalid).
            invalidVerdict = conntrack.invalidAction == .allow ? nil : conntrack.invalidAction.verdict
        } else {
            invalidVerdict = nil
        }
    }

    /// Ends flows whose timeout passed (at most `budget` table visits) and
    /// emits their flow events.
    public mutating func expireFlows(now: Int64, budget: Int, emit: (Event) -> Void) {
        guard tracker != nil else { return }
        tracker!.expire(now: now, budget: budget) { c, reason in
            counters.events &+= 1
            emit(Event.flowEnded(c, reason: reason))
        }
        releaseEndedSlots()
    }

    /// Frees the inspector's state of flows the tracker ended.
    @inline(__always)
    mutating func releaseEndedSlots() {
        guard tracker != nil, !tracker!.endedSlots.isEmpty else { return }
        if let inspector { for slot in tracker!.endedSlots { inspector.release(slot: slot) } }
        tracker!.endedSlots.removeAll(keepingCapacity: true)
    }

    /// Ends every tracked flow (shutdown, end of capture).
    public mutating func flushFlows(emit: (Event) -> Void) {
        guard tracker != nil else { return }
        tracker!.flush { c, reason in
            counters.events &+= 1
            emit(Event.flowEnded(c, reason: reason))
        }
        releaseEndedSlots()
    }

    /// The kernel destroyed the conntrack entry of a (bypassed) flow.
    public mutating func kernelDestroyed(_ key: FlowKey, emit: (Event) -> Void) {
        guard tracker != nil else { return }
        tracker!.kernelDestroyed(key) { c, reason in
            counters.events &+= 1
            emit(Event.flowEnded(c, reason: reason))
        }
        releaseEndedSlots()
    }

    /// Installs a new rule snapshot (between batches). Returns the counters
    /// of the rules it replaces; decisions kept per flow are forgotten.
    @discardableResult
    public mutating func replaceRuleSet(_ ruleSet: RuleSet) -> RuleCounters {
        let old = ruleCounters
        self.ruleSet = ruleSet
        ruleCounters = RuleCounters(ruleSet: ruleSet)
        interfaceMasks.removeAll(keepingCapacity: true)
        if tracker != nil { tracker!.clearRuleCaches() }
        return old
    }

    /// Installs a signature set (between batches): the first one creates the
    /// inspector, later ones replace its set. Returns the replaced set's
    /// per-signature hit counts.
    @discardableResult
    public mutating func installSignatures(_ set: SignatureSet, config: InspectionConfig,
                                           flowCapacity: Int) -> [UInt64] {
        if let inspector {
            let old = inspector.replace(set)
            inspectorInterest = inspector.tcpInterest
            return old
        }
        inspector = SignatureInspector(set: set, config: config, flowCapacity: flowCapacity)
        inspectorInterest = inspector!.tcpInterest
        // The inspector keeps per-slot state (stream buffers, HTTP parser):
        // freed when the tracker ends the slot's flow.
        if tracker != nil { tracker!.recordsEndedSlots = true }
        return []
    }

    /// Installs the detectors (once), feeding the shared `hub`.
    public mutating func installDetectors(hub: DetectorHub, flowCapacity: Int) {
        guard !hasDetectors else { return }
        detectors = DetectorProbe(hub: hub, flowCapacity: flowCapacity)
        hasDetectors = true
    }

    /// Flushes the detectors' local counts (an idle worker calls this so
    /// rates and blocks are current without packets).
    public mutating func detectorTick(now: Int64, emit: (Event) -> Void) {
        guard hasDetectors else { return }
        var n: UInt64 = 0
        detectors!.flush(now: now)
        detectors!.takeRaised { d in
            n &+= 1
            emit(Event.detected(d, packet: PacketSummary(), timestampNanoseconds: now, verdict: .accept,
                                flowState: nil, flowID: nil))
        }
        counters.detections &+= n
        counters.events &+= n
    }

    /// The packet a detection is reported on, as the probe went: a scan
    /// counted when the target refused a held probe (its RST) is raised on
    /// that answer, and its EVE line must still read source → target, on
    /// the probed port.
    @inline(__always)
    static func asProbed(_ p: PacketSummary, for d: Detection) -> PacketSummary {
        guard let target = d.target, p.source == target, p.destination == d.source else { return p }
        var q = p
        swap(&q.source, &q.destination)
        swap(&q.sourcePort, &q.destinationPort)
        return q
    }

    /// TCP packets of a tracked flow that no signature can concern (bare
    /// ACKs, a direction nothing inspects) skip the inspector; blocked flows
    /// were dropped before this.
    @inline(__always)
    func inspectorSkips(_ p: PacketSummary, _ flow: TrackResult?) -> Bool {
        // A new flow always reaches the inspector: it resets the slot's state.
        guard p.l4Protocol == IPProtocolNumber.tcp, let t = flow, t.index >= 0, !t.created else { return false }
        return !inspectorInterest.concerns(payloadLength: p.payloadLength, syn: p.tcpFlags.contains(.syn),
                                           toServer: t.direction == .original)
    }

    /// A packet of `t` was dropped or rejected: like Linux, never confirm a
    /// flow whose first packet was refused, and keep it out of the bypass.
    mutating func refused(_ t: TrackResult) {
        tracker!.discardNew(t)
        if t.bypass { tracker!.cancelBypass(t) }
    }

    /// The interface mask of `ruleSet` for an interface index (0: unknown).
    @inline(__always)
    mutating func interfaceMask(_ index: Int32) -> UInt64 {
        guard index > 0, !ruleSet.interfacePatterns.isEmpty else { return 0 }
        if Int(index) < interfaceMasks.count, interfaceMasks[Int(index)] != 0 { return interfaceMasks[Int(index)] }
        return resolveInterface(index)
    }

    @inline(never)
    mutating func resolveInterface(_ index: Int32) -> UInt64 {
        guard let name = interfaceName(index) else { return 0 }
        let mask = ruleSet.interfaceMask(for: name)
        if index < 65536 {
            if interfaceMasks.count <= Int(index) {
                interfaceMasks += Array(repeating: 0, count: Int(index) + 1 - interfaceMasks.count)
            }
            interfaceMasks[Int(index)] = mask
        }
        return mask
    }

    /// Forgets resolved interface names (interfaces came or went).
    public mutating func forgetInterfaces() { interfaceMasks.removeAll(keepingCapacity: true) }

    /// Runs one L3 packet (`bytes` starts at the IP header) through the
    /// pipeline. `wireLength` is its length on the wire when the buffer was
    /// truncated by a copy range or snap length; `inInterface` and
    /// `outInterface` are interface indices (0: unknown). Events go to `emit`.
    public mutating func process(
        _ bytes: UnsafeRawBufferPointer, wireLength: Int? = nil, timestampNanoseconds: Int64,
        inInterface: Int32 = 0, outInterface: Int32 = 0, emit: (Event) -> Void
    ) -> PacketResult {
        counters.packets &+= 1
        counters.bytes &+= UInt64(wireLength ?? bytes.count)
        var summary = PacketSummary()
        do {
            try PacketParser.parse(bytes, wireLength: wireLength, into: &summary)
        } catch {
            if hasDetectors {
                var n: UInt64 = 0
                let verdict = malformedVerdict
                detectors!.malformed(error, summary, now: timestampNanoseconds)
                detectors!.takeRaised { d in
                    n &+= 1
                    emit(Event.detected(d, packet: summary, timestampNanoseconds: timestampNanoseconds,
                                        verdict: verdict, flowState: nil, flowID: nil))
                }
                counters.detections &+= n
                counters.events &+= n
            }
            counters.malformed &+= 1
            counters.parseErrors[error.counterName, default: 0] &+= 1
            counters.count(malformedVerdict)
            if malformedVerdict != .accept {
                counters.events &+= 1
                emit(Event(kind: .drop, timestampNanoseconds: timestampNanoseconds, packet: summary,
                           verdict: malformedVerdict, reason: error.counterName))
            }
            return PacketResult(verdict: malformedVerdict, summary: summary, ruleIndex: -1, malformed: true)
        }
        var flow: TrackResult? = nil
        var context = FlowContext.untracked
        if tracker != nil {
            var ended: UInt64 = 0
            let t = tracker!.track(summary, packet: bytes, now: timestampNanoseconds) { c, reason in
                ended &+= 1
                emit(Event.flowEnded(c, reason: reason))
            }
            counters.events &+= ended
            if ended != 0 { releaseEndedSlots() }
            flow = t
            context = FlowContext(state: t.state, direction: t.direction)
        }
        // Loopback (ifindex 1 in every namespace; host mode queues it) is the
        // host talking to itself: no scans, floods or land attacks there.
        if hasDetectors, inInterface != 1, outInterface != 1 {
            let outcome = detectors!.inspect(summary, packet: bytes, flow: flow, now: timestampNanoseconds)
            if outcome.contains(.holdProbe), let t = flow, tracker != nil { tracker!.markProbeHeld(t) }
            if outcome.contains(.raised) {
                var n: UInt64 = 0
                detectors!.takeRaised { d in
                    n &+= 1
                    emit(Event.detected(d, packet: Self.asProbed(summary, for: d), timestampNanoseconds: timestampNanoseconds,
                                        verdict: d.blocked ? .drop : .accept, flowState: flow?.state,
                                        flowID: flow?.flowID))
                }
                counters.detections &+= n
                counters.events &+= n
            }
            if outcome.contains(.drop) {
                counters.detectorDrops &+= 1
                counters.count(.drop)
                if let t = flow, tracker != nil { refused(t) }
                var result = PacketResult(verdict: .drop, summary: summary, ruleIndex: -1, malformed: false, flow: flow)
                result.detectorVerdict = true
                return result
            }
        }
        if tracker != nil, let t = flow {
            if t.state == .invalid, let verdict = invalidVerdict {
                counters.count(verdict)
                counters.events &+= 1
                emit(Event(kind: .drop, timestampNanoseconds: timestampNanoseconds, packet: summary, verdict: verdict,
                           reason: "ct_invalid_\(t.invalidReason?.name ?? "unknown")", flowState: .invalid))
                return PacketResult(verdict: verdict, summary: summary, ruleIndex: -1, malformed: false, flow: t)
            }
        }
        var eventCount: UInt64 = 0
        if inspector != nil, let t = flow, t.blocked {
            // A signature blocked this flow: the rest of it is dropped.
            if t.finished, t.index >= 0 { inspector!.release(slot: t.index) }
            counters.signatureBlocked &+= 1
            counters.blockedFlowPackets &+= 1
            counters.count(.drop)
            return PacketResult(verdict: .drop, summary: summary, ruleIndex: -1, malformed: false, flow: t,
                                signatureVerdict: true)
        }
        // Decided from a copy of what the inspector wants: most packets skip
        // it without a reference to it being taken (a retain and a release).
        if inspector != nil, !inspectorSkips(summary, flow) {
            let inspector = self.inspector!
            let inspectionFlow = flow.flatMap { t in
                t.index >= 0 ? InspectionFlow(slot: t.index, flowID: t.flowID, created: t.created,
                                              toServer: t.direction == .original, established: t.state == .established)
                    : nil
            }
            var alerts: UInt64 = 0
            let v = inspector.inspect(summary, bytes: bytes, flow: inspectionFlow, now: timestampNanoseconds) { hit in
                alerts &+= 1
                let verdict: Verdict = hit.blocked ? (hit.info.action == .reject ? .reject : .drop) : .accept
                emit(Event.signatureAlert(hit, packet: summary, timestampNanoseconds: timestampNanoseconds,
                                          verdict: verdict, flowState: context.state, flowID: flow?.flowID,
                                          toServer: inspectionFlow?.toServer))
            }
            eventCount &+= alerts
            counters.signatureAlerts &+= alerts
            if alerts != 0, let t = flow, tracker != nil { tracker!.markAlerted(t) }
            if let action = v.action, action == .drop || action == .reject {
                let verdict: Verdict = action == .drop ? .drop : .reject
                counters.signatureBlocked &+= 1
                counters.count(verdict)
                counters.events &+= eventCount
                if let t = flow, tracker != nil {
                    tracker!.markBlocked(t)
                    refused(t)
                }
                var result = PacketResult(verdict: verdict, summary: summary, ruleIndex: -1, malformed: false, flow: flow)
                result.signatureVerdict = true
                return result
            }
        }
        if let t = flow, t.finished, t.index >= 0, inspector != nil {
            // The connection is over: its parser, flowbits and reassembly
            // buffers go back to the pool now, not when the flow expires
            // (TIME_WAIT lasts minutes; busy servers close thousands of
            // connections a second). A late retransmission starts afresh.
            inspector!.release(slot: t.index)
        }
        let rules = ruleSet
        let packetBytes = wireLength ?? bytes.count
        let decision: RuleDecision
        if let t = flow, let cached = tracker!.cachedRule(t) {
            counters.ruleCacheHits &+= 1
            decision = RuleDecision(verdict: cached >= 0 ? rules.rules[cached].action.verdict : rules.defaultAction.verdict,
                                    ruleIndex: cached, flowInvariant: true)
        } else {
            let payloadStart = min(summary.payloadOffset, bytes.count)
            let payloadEnd = min(payloadStart + summary.payloadLength, bytes.count)
            let input = MatchInput(flow: context, inInterfaces: interfaceMask(inInterface),
                                   outInterfaces: interfaceMask(outInterface),
                                   payload: UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<payloadEnd]))
            let limitHits = scratch.regexLimitHits
            decision = rules.evaluate(summary, input: input, scratch: scratch)
            if scratch.regexLimitHits != limitHits { counters.regexLimitHits &+= scratch.regexLimitHits &- limitHits }
            for index in scratch.nonTerminal {
                let rule = rules.rules[Int(index)]
                ruleCounters.count(Int(index), bytes: packetBytes, now: timestampNanoseconds)
                if rule.action == .alert, let t = flow, tracker != nil { tracker!.markAlerted(t) }
                eventCount &+= 1
                emit(Event(kind: rule.action == .alert ? .alert : .log, timestampNanoseconds: timestampNanoseconds,
                           packet: summary, verdict: .accept, ruleID: rule.id, ruleName: rule.name,
                           ruleAction: rule.action, flowState: context.state))
            }
            if decision.flowInvariant, decision.verdict == .accept, let t = flow {
                tracker!.cacheRule(t, ruleIndex: decision.ruleIndex)
            }
        }
        if decision.ruleIndex >= 0 {
            ruleCounters.count(decision.ruleIndex, bytes: packetBytes, now: timestampNanoseconds)
        }
        counters.count(decision.verdict)
        var bypass = false
        if let t = flow, tracker != nil {
            if decision.verdict != .accept {
                refused(t)
            } else if t.bypass {
                bypass = true
                counters.bypassVerdicts &+= 1
            }
        }
        if decision.verdict != .accept {
            eventCount &+= 1
            if decision.ruleIndex >= 0 {
                let rule = rules.rules[decision.ruleIndex]
                emit(Event(kind: .drop, timestampNanoseconds: timestampNanoseconds, packet: summary,
                           verdict: decision.verdict, ruleID: rule.id, ruleName: rule.name, ruleAction: rule.action,
                           flowState: context.state))
            } else {
                emit(Event(kind: .drop, timestampNanoseconds: timestampNanoseconds, packet: summary,
                           verdict: decision.verdict, reason: "default_action", flowState: context.state))
            }
        }
        counters.events &+= eventCount
        return PacketResult(verdict: decision.verdict, summary: summary, ruleIndex: decision.ruleIndex, malformed: false,
                            flow: flow, bypass: bypass)
    }
}
