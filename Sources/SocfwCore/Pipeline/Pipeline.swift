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
}

/// The packet path shared by inline and offline mode: parse → rules → verdict
/// (+ events). A value owned by one thread; it does no I/O and allocates
/// nothing for a well-formed packet.
public struct Pipeline {
    public private(set) var ruleSet: RuleSet
    public let malformedVerdict: Verdict
    public var counters = PipelineCounters()

    public init(ruleSet: RuleSet, malformedAction: RuleAction) {
        self.ruleSet = ruleSet
        self.malformedVerdict = malformedAction.verdict
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
        let rules = ruleSet
        var eventCount: UInt64 = 0
        let decision = rules.evaluate(summary) { index in
            let rule = rules.rules[index]
            eventCount &+= 1
            emit(Event(kind: rule.action == .alert ? .alert : .log, timestampNanoseconds: timestampNanoseconds,
                       packet: summary, verdict: .accept, ruleID: rule.id, ruleName: rule.name,
                       ruleAction: rule.action))
        }
        counters.count(decision.verdict)
        if decision.verdict != .accept {
            eventCount &+= 1
            if decision.ruleIndex >= 0 {
                let rule = rules.rules[decision.ruleIndex]
                emit(Event(kind: .drop, timestampNanoseconds: timestampNanoseconds, packet: summary,
                           verdict: decision.verdict, ruleID: rule.id, ruleName: rule.name, ruleAction: rule.action))
            } else {
                emit(Event(kind: .drop, timestampNanoseconds: timestampNanoseconds, packet: summary,
                           verdict: decision.verdict, reason: "default_action"))
            }
        }
        counters.events &+= eventCount
        return PacketResult(verdict: decision.verdict, summary: summary, ruleIndex: decision.ruleIndex, malformed: false)
    }
}
