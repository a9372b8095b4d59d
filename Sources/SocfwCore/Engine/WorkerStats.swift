import Synchronization

/// Counters a queue worker publishes after each batch, read by the stats
/// reporter on another thread. Single writer (the worker), relaxed atomics.
public final class WorkerStats: Sendable {
    public let queue: Int
    let packets = Atomic<UInt64>(0)
    let bytes = Atomic<UInt64>(0)
    let accepted = Atomic<UInt64>(0)
    let dropped = Atomic<UInt64>(0)
    let rejected = Atomic<UInt64>(0)
    let malformed = Atomic<UInt64>(0)
    let events = Atomic<UInt64>(0)
    let netlinkErrors = Atomic<UInt64>(0)
    let batches = Atomic<UInt64>(0)
    let verdictMessages = Atomic<UInt64>(0)
    let gsoPackets = Atomic<UInt64>(0)
    let checksumPartial = Atomic<UInt64>(0)
    let rejectsSent = Atomic<UInt64>(0)
    let rejectSendErrors = Atomic<UInt64>(0)
    let bypassVerdicts = Atomic<UInt64>(0)
    let flowsActive = Atomic<UInt64>(0)
    let flowsNew = Atomic<UInt64>(0)
    let flowsClosed = Atomic<UInt64>(0)
    let flowsExpired = Atomic<UInt64>(0)
    let flowsInvalid = Atomic<UInt64>(0)
    let flowsEarlyDropped = Atomic<UInt64>(0)
    let flowsBypassed = Atomic<UInt64>(0)

    public init(queue: Int) { self.queue = queue }

    /// Values the worker keeps locally and publishes.
    public struct Values: Equatable, Sendable {
        public var queue = 0
        public var packets: UInt64 = 0, bytes: UInt64 = 0, accepted: UInt64 = 0, dropped: UInt64 = 0
        public var rejected: UInt64 = 0, malformed: UInt64 = 0, events: UInt64 = 0, netlinkErrors: UInt64 = 0
        public var batches: UInt64 = 0, verdictMessages: UInt64 = 0, gsoPackets: UInt64 = 0
        public var checksumPartial: UInt64 = 0, rejectsSent: UInt64 = 0, rejectSendErrors: UInt64 = 0
        public var bypassVerdicts: UInt64 = 0
        public var flowsActive: UInt64 = 0, flowsNew: UInt64 = 0, flowsClosed: UInt64 = 0, flowsExpired: UInt64 = 0
        public var flowsInvalid: UInt64 = 0, flowsEarlyDropped: UInt64 = 0, flowsBypassed: UInt64 = 0
        public init() {}
    }

    public func publish(_ v: Values, counters: PipelineCounters, conntrack: ConntrackCounters? = nil) {
        bypassVerdicts.store(counters.bypassVerdicts, ordering: .relaxed)
        if let c = conntrack {
            flowsActive.store(UInt64(c.active), ordering: .relaxed)
            flowsNew.store(c.new, ordering: .relaxed)
            flowsClosed.store(c.closed, ordering: .relaxed)
            flowsExpired.store(c.expired, ordering: .relaxed)
            flowsInvalid.store(c.invalid, ordering: .relaxed)
            flowsEarlyDropped.store(c.earlyDropped, ordering: .relaxed)
            flowsBypassed.store(c.bypassed, ordering: .relaxed)
        }
        packets.store(counters.packets, ordering: .relaxed)
        bytes.store(counters.bytes, ordering: .relaxed)
        accepted.store(counters.accepted, ordering: .relaxed)
        dropped.store(counters.dropped, ordering: .relaxed)
        rejected.store(counters.rejected, ordering: .relaxed)
        malformed.store(counters.malformed, ordering: .relaxed)
        events.store(counters.events, ordering: .relaxed)
        netlinkErrors.store(v.netlinkErrors, ordering: .relaxed)
        batches.store(v.batches, ordering: .relaxed)
        verdictMessages.store(v.verdictMessages, ordering: .relaxed)
        gsoPackets.store(v.gsoPackets, ordering: .relaxed)
        checksumPartial.store(v.checksumPartial, ordering: .relaxed)
        rejectsSent.store(v.rejectsSent, ordering: .relaxed)
        rejectSendErrors.store(v.rejectSendErrors, ordering: .relaxed)
    }

    public func snapshot() -> Values {
        var v = Values()
        v.queue = queue
        v.packets = packets.load(ordering: .relaxed)
        v.bytes = bytes.load(ordering: .relaxed)
        v.accepted = accepted.load(ordering: .relaxed)
        v.dropped = dropped.load(ordering: .relaxed)
        v.rejected = rejected.load(ordering: .relaxed)
        v.malformed = malformed.load(ordering: .relaxed)
        v.events = events.load(ordering: .relaxed)
        v.netlinkErrors = netlinkErrors.load(ordering: .relaxed)
        v.batches = batches.load(ordering: .relaxed)
        v.verdictMessages = verdictMessages.load(ordering: .relaxed)
        v.gsoPackets = gsoPackets.load(ordering: .relaxed)
        v.checksumPartial = checksumPartial.load(ordering: .relaxed)
        v.rejectsSent = rejectsSent.load(ordering: .relaxed)
        v.rejectSendErrors = rejectSendErrors.load(ordering: .relaxed)
        v.bypassVerdicts = bypassVerdicts.load(ordering: .relaxed)
        v.flowsActive = flowsActive.load(ordering: .relaxed)
        v.flowsNew = flowsNew.load(ordering: .relaxed)
        v.flowsClosed = flowsClosed.load(ordering: .relaxed)
        v.flowsExpired = flowsExpired.load(ordering: .relaxed)
        v.flowsInvalid = flowsInvalid.load(ordering: .relaxed)
        v.flowsEarlyDropped = flowsEarlyDropped.load(ordering: .relaxed)
        v.flowsBypassed = flowsBypassed.load(ordering: .relaxed)
        return v
    }
}

/// One line of `/proc/net/netfilter/nfnetlink_queue` (kernel
/// net/netfilter/nfnetlink_queue.c, seq_show): queue number, peer port id,
/// packets waiting, copy mode, copy range, dropped because the queue was
/// full, dropped because the netlink socket was full (user dropped), last
/// packet id, and a constant 1.
public struct KernelQueueCounters: Equatable, Sendable {
    public var queue: Int
    public var portID: UInt32
    public var waiting: UInt64
    public var copyMode: Int
    public var copyRange: Int
    public var queueDropped: UInt64
    public var userDropped: UInt64
    public var lastPacketID: UInt64

    public init(queue: Int, portID: UInt32, waiting: UInt64, copyMode: Int, copyRange: Int, queueDropped: UInt64,
                userDropped: UInt64, lastPacketID: UInt64) {
        self.queue = queue
        self.portID = portID
        self.waiting = waiting
        self.copyMode = copyMode
        self.copyRange = copyRange
        self.queueDropped = queueDropped
        self.userDropped = userDropped
        self.lastPacketID = lastPacketID
    }

    /// Parses the whole file; malformed lines are skipped.
    public static func parse(_ text: String) -> [KernelQueueCounters] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 8, let q = Int(f[0]), let port = UInt32(f[1]), let waiting = UInt64(f[2]),
                  let mode = Int(f[3]), let range = Int(f[4]), let qd = UInt64(f[5]), let ud = UInt64(f[6]),
                  let id = UInt64(f[7]) else { return nil }
            return KernelQueueCounters(queue: q, portID: port, waiting: waiting, copyMode: mode, copyRange: range,
                                       queueDropped: qd, userDropped: ud, lastPacketID: id)
        }
    }
}
