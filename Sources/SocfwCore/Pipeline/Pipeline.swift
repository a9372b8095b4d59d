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
}

/// The packet path shared by inline and offline mode: parse → rules → verdict
/// (+ events). A value owned by one thread; it does no I/O and allocates
/// nothing for a well-formed packet.
public struct Pipeline {
    public private(set) var ruleSet: RuleSet
    public let malformedVerdict: Verdict
    public var counters = PipelineCounters()
    /// Connection tracking; nil runs the rules on packets alone (ct_state is
    /// then `untracked`).
    public private(set) var tracker: ConnectionTracker?
    let invalidVerdict: Verdict?

    public init(ruleSet: RuleSet, malformedAction: RuleAction, conntrack: ConntrackConfig? = nil,
                connectionCapacity: Int = 0) {
        self.ruleSet = ruleSet
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
    }

    /// Ends every tracked flow (shutdown, end of capture).
    public mutating func flushFlows(emit: (Event) -> Void) {
        guard tracker != nil else { return }
        tracker!.flush { c, reason in
            counters.events &+= 1
            emit(Event.flowEnded(c, reason: reason))
        }
    }

    /// The kernel destroyed the conntrack entry of a (bypassed) flow.
    public mutating func kernelDestroyed(_ key: FlowKey, emit: (Event) -> Void) {
        guard tracker != nil else { return }
        tracker!.kernelDestroyed(key) { c, reason in
            counters.events &+= 1
            emit(Event.flowEnded(c, reason: reason))
        }
    }

    /// Installs a new rule snapshot (between batches).
    public mutating func replaceRuleSet(_ ruleSet: RuleSet) { self.ruleSet = ruleSet }

    /// Runs one L3 packet (`bytes` starts at the IP header) through the
    /// pipeline. `wireLength` is its length on the wire when the buffer was
    /// truncated by a copy range or snap length. Events go to `emit`.
    public mutating func process(
        _ bytes: UnsafeRawBufferPointer, wireLength: Int? = nil, timestampNanoseconds: Int64,
        emit: (Event) -> Void
    ) -> PacketResult {
        counters.packets &+= 1
        counters.bytes &+= UInt64(wireLength ?? bytes.count)
        var summary = PacketSummary()
        do {
            try PacketParser.parse(bytes, wireLength: wireLength, into: &summary)
        } catch {
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
            flow = t
            context = FlowContext(state: t.state, direction: t.direction)
            if t.state == .invalid, let verdict = invalidVerdict {
                counters.count(verdict)
                counters.events &+= 1
                emit(Event(kind: .drop, timestampNanoseconds: timestampNanoseconds, packet: summary, verdict: verdict,
                           reason: "ct_invalid_\(t.invalidReason?.name ?? "unknown")", flowState: .invalid))
                return PacketResult(verdict: verdict, summary: summary, ruleIndex: -1, malformed: false, flow: t)
            }
        }
        let rules = ruleSet
        var eventCount: UInt64 = 0
        let decision = rules.evaluate(summary, flow: context) { index in
            let rule = rules.rules[index]
            eventCount &+= 1
            emit(Event(kind: rule.action == .alert ? .alert : .log, timestampNanoseconds: timestampNanoseconds,
                       packet: summary, verdict: .accept, ruleID: rule.id, ruleName: rule.name,
                       ruleAction: rule.action, flowState: context.state))
        }
        counters.count(decision.verdict)
        var bypass = false
        if let t = flow, tracker != nil {
            if decision.verdict != .accept {
                // Like Linux, never confirm a flow whose first packet was dropped.
                tracker!.discardNew(t)
                if t.bypass { tracker!.cancelBypass(t) }
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
