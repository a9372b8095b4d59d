import CSocfwNetlink
import Foundation
import Logging
import SocfwCore
import SocfwIDS
import SocfwWire
import Synchronization

public struct QueueError: Error, CustomStringConvertible {
    public var description: String
}

/// One NFQUEUE queue and the OS thread that serves it. The thread owns the
/// netlink socket, its pipeline and its counters; nothing on its packet path
/// takes a lock except the rule-set swap check (an atomic load per batch)
/// and handing a batch of events to the output queue.
public final class QueueWorker: Sendable {
    public let queueNumber: Int
    public let stats: WorkerStats
    private let config: SocfwConfig
    private let rules: RuleSnapshot
    private let ruleHits: RuleHitTotals
    private let events: EventQueue
    private let stopping = Atomic<Bool>(false)
    /// Flows the kernel destroyed (ctnetlink), delivered by the event
    /// thread; drained by the worker between batches.
    private let destroyed = Mutex<[FlowKey]>([])
    private let destroyedPending = Atomic<Bool>(false)
    /// A connection snapshot asked for by the engine, answered between batches.
    private let snapshotPending = Atomic<Bool>(false)
    private let snapshotBox = Mutex<SnapshotRequest?>(nil)

    struct SnapshotRequest: Sendable {
        var filter: ConnectionFilter
        var limit: Int
        var result: [ConnectionSummary]?
    }
    private let finished = Atomic<Bool>(false)
    // The C handle is created on the caller's thread (so bind errors are
    // reported at start) and used only by the worker thread afterwards.
    private nonisolated(unsafe) let handle: OpaquePointer
    private let rejecter: BridgeRejecter?
    /// IDS signatures in force (nil: payload inspection off).
    private let signatures: Snapshot<SignatureSet>?
    private let inspection: InspectionConfig
    private let signatureHits: SignatureHitTotals?
    /// The behavioural detectors' shared state (nil: detection off).
    private let detectors: DetectorHub?

    public init(queue: Int, config: SocfwConfig, rules: RuleSnapshot, ruleHits: RuleHitTotals, events: EventQueue,
                rejecter: BridgeRejecter?, signatures: Snapshot<SignatureSet>? = nil,
                inspection: InspectionConfig = InspectionConfig(),
                signatureHits: SignatureHitTotals? = nil, detectors: DetectorHub? = nil) throws(QueueError) {
        var c = socfw_nfq_config()
        c.queue_num = UInt16(queue)
        c.max_length = UInt32(config.queues.maxLength)
        c.copy_range = UInt32(config.queues.copyRange)
        c.fail_open = config.queues.failOpen ? 1 : 0
        c.gso = config.queues.gso ? 1 : 0
        c.receive_buffer_bytes = Int32(config.queues.receiveBufferBytes)
        c.max_batch = UInt32(config.queues.batchSize)
        var err = [CChar](repeating: 0, count: 256)
        // The receive timeout bounds how long a stop request or a rule
        // reload waits on an idle queue.
        guard let h = socfw_nfq_open(&c, 200, &err, err.count) else {
            throw QueueError(description: String(cMessage: err))
        }
        self.handle = h
        self.queueNumber = queue
        self.config = config
        self.rules = rules
        self.ruleHits = ruleHits
        self.events = events
        self.rejecter = rejecter
        self.signatures = signatures
        self.inspection = inspection
        self.signatureHits = signatureHits
        self.detectors = detectors
        self.stats = WorkerStats(queue: queue)
    }

    public func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "socfw-queue-\(queueNumber)"
        thread.start()
    }

    /// Asks the thread to stop; it notices within one poll interval.
    public func stop() { stopping.store(true, ordering: .relaxed) }

    /// Asks for this worker's connections; collect with `takeSnapshot()`.
    public func requestSnapshot(filter: ConnectionFilter, limit: Int) {
        snapshotBox.withLock { $0 = SnapshotRequest(filter: filter, limit: limit, result: nil) }
        snapshotPending.store(true, ordering: .releasing)
    }

    /// The answer to `requestSnapshot`, once the worker has given it.
    public func takeSnapshot() -> [ConnectionSummary]? {
        snapshotBox.withLock { box in
            guard let result = box?.result else { return nil }
            box = nil
            return result
        }
    }

    /// Hands the worker flows whose kernel conntrack entry ended.
    public func kernelDestroyed(_ keys: [FlowKey]) {
        destroyed.withLock { $0.append(contentsOf: keys) }
        destroyedPending.store(true, ordering: .releasing)
    }

    public var isFinished: Bool { finished.load(ordering: .acquiring) }

    private func run() {
        let batch = config.queues.batchSize
        var packets = [socfw_packet](repeating: socfw_packet(), count: batch)
        var ids = [UInt32](repeating: 0, count: batch)
        var verdicts = [UInt32](repeating: 0, count: batch)
        var marks = [UInt32](repeating: 0, count: batch)
        var setMark = [UInt8](repeating: 0, count: batch)
        var pending: [Event] = []
        pending.reserveCapacity(batch)
        var (ruleSet, generation) = rules.load()
        var pipeline = Pipeline(ruleSet: ruleSet, malformedAction: config.malformedAction, conntrack: config.conntrack,
                                connectionCapacity: config.conntrack.maxConnections / config.queues.count)
        pipeline.interfaceName = QueueWorker.interfaceName
        let flowsPerQueue = config.conntrack.maxConnections / config.queues.count
        var signatureGeneration: UInt64 = 0
        if let detectors { pipeline.installDetectors(hub: detectors, flowCapacity: flowsPerQueue) }
        if let signatures {
            let (set, g) = signatures.load()
            pipeline.installSignatures(set, config: inspection, flowCapacity: flowsPerQueue)
            signatureGeneration = g
        }
        var local = WorkerStats.Values()
        var netlinkErrors: UInt64 = 0
        // Rule hit counters are copied out at most once a second (10,000
        // rules are 240 KB), and when the rules change.
        var nextHitsPublish: Int64 = 0
        let mask = config.marks.mask
        let rejectMark = config.marks.reject
        let bypassMark = config.marks.bypass
        let bridge = config.mode == .bridge
        let useBatch: Int32 = config.queues.batchVerdicts ? 1 : 0

        while !stopping.load(ordering: .relaxed) {
            let n = Int(socfw_nfq_receive(handle, &packets, Int32(batch), &netlinkErrors))
            if n < 0 {
                netlinkErrors &+= 1
                continue
            }
            if let signatures, signatures.generation != signatureGeneration {
                let (set, g) = signatures.load()
                pipeline.installSignatures(set, config: inspection, flowCapacity: flowsPerQueue)
                signatureGeneration = g
            }
            if rules.generation != generation {
                (ruleSet, generation) = rules.load()
                let old = pipeline.replaceRuleSet(ruleSet)
                ruleHits.retire(worker: queueNumber, old, next: ruleSet)
            }
            let timestamp = wallClockNanoseconds()
            if timestamp >= nextHitsPublish {
                ruleHits.publish(worker: queueNumber, pipeline.ruleCounters)
                if let inspector = pipeline.inspector {
                    signatureHits?.publish(worker: queueNumber, set: inspector.set, inspector.hitsPerSignature)
                }
                nextHitsPublish = timestamp + 1_000_000_000
                // Interfaces may have come and gone: resolve names afresh.
                pipeline.forgetInterfaces()
            }
            // Bounded expiry work every batch (and every idle timeout), never a full sweep.
            pipeline.expireFlows(now: timestamp, budget: 256) { pending.append($0) }
            // One atomic load per batch; the lock only when keys are waiting.
            if destroyedPending.load(ordering: .acquiring) {
                destroyedPending.store(false, ordering: .relaxed)
                let ended = destroyed.withLock { keys -> [FlowKey] in
                    defer { keys.removeAll(keepingCapacity: true) }
                    return keys
                }
                for key in ended { pipeline.kernelDestroyed(key) { pending.append($0) } }
            }
            if snapshotPending.load(ordering: .acquiring) {
                snapshotPending.store(false, ordering: .relaxed)
                let tracker = pipeline.tracker
                snapshotBox.withLock { box in
                    guard var request = box else { return }
                    request.result = tracker?.snapshot(filter: request.filter, limit: request.limit) ?? []
                    box = request
                }
            }
            guard n > 0 else {
                // Idle: local detector counts still reach the hub, blocks still expire.
                pipeline.detectorTick(now: timestamp) { pending.append($0) }
                if !pending.isEmpty {
                    events.push(pending)
                    pending.removeAll(keepingCapacity: true)
                }
                local.netlinkErrors = netlinkErrors
                stats.publish(local, counters: pipeline.counters, conntrack: pipeline.tracker?.counters)
                continue
            }
            for i in 0..<n {
                let p = packets[i]
                if p.skbinfo & UInt32(SOCFW_SKB_GSO) != 0 { local.gsoPackets &+= 1 }
                // Checksum-partial (GSO / offload) packets carry checksums the
                // NIC fills in later: the parser never judges L4 checksums.
                if p.skbinfo & UInt32(SOCFW_SKB_CSUMNOTREADY) != 0 { local.checksumPartial &+= 1 }
                let bytes = UnsafeRawBufferPointer(start: p.payload, count: Int(p.payload_len))
                let wire = Int(p.wire_len) > Int(p.payload_len) ? Int(p.wire_len) : nil
                // Bridge mode: the bridge ports, as nft's iifname/oifname in the bridge family.
                let inInterface = Int32(bitPattern: p.physindev != 0 ? p.physindev : p.indev)
                let outInterface = Int32(bitPattern: p.physoutdev != 0 ? p.physoutdev : p.outdev)
                let result = pipeline.process(bytes, wireLength: wire, timestampNanoseconds: timestamp,
                                              inInterface: inInterface, outInterface: outInterface) {
                    pending.append($0)
                }
                ids[i] = p.id
                setMark[i] = 0
                marks[i] = 0
                switch result.verdict {
                case .accept where result.bypass:
                    // NF_REPEAT re-enters the base chain, whose rule copies
                    // this mark into the connection's ct mark and accepts.
                    verdicts[i] = UInt32(SOCFW_NF_REPEAT)
                    marks[i] = (p.mark & ~mask) | bypassMark
                    setMark[i] = 1
                case .accept:
                    verdicts[i] = UInt32(SOCFW_NF_ACCEPT)
                case .drop:
                    verdicts[i] = UInt32(SOCFW_NF_DROP)
                case .reject where bridge:
                    verdicts[i] = UInt32(SOCFW_NF_DROP)
                    if let rejecter, rejecter.sendReject(for: p, packet: bytes) {
                        local.rejectsSent &+= 1
                    } else {
                        local.rejectSendErrors &+= 1
                    }
                case .reject:
                    // NF_REPEAT re-enters the base chain, whose first rules
                    // reject packets carrying this mark.
                    verdicts[i] = UInt32(SOCFW_NF_REPEAT)
                    marks[i] = (p.mark & ~mask) | rejectMark
                    setMark[i] = 1
                }
            }
            let sent = socfw_nfq_send_verdicts(handle, &ids, &verdicts, &marks, &setMark, Int32(n), useBatch)
            if sent < 0 { netlinkErrors &+= 1 } else { local.verdictMessages &+= UInt64(sent) }
            local.batches &+= 1
            if !pending.isEmpty {
                events.push(pending)
                pending.removeAll(keepingCapacity: true)
            }
            local.netlinkErrors = netlinkErrors
            stats.publish(local, counters: pipeline.counters, conntrack: pipeline.tracker?.counters)
        }
        ruleHits.publish(worker: queueNumber, pipeline.ruleCounters)
        // Flows still open end with socfwd (EVE flow records, reason "shutdown").
        pipeline.flushFlows { pending.append($0) }
        events.push(pending)
        socfw_nfq_close(handle)
        finished.store(true, ordering: .releasing)
    }
}

extension QueueWorker {
    static func interfaceName(_ index: Int32) -> String? {
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard index > 0, if_indextoname(UInt32(index), &name) != nil else { return nil }
        return String(cMessage: name)
    }
}

/// Bridge-mode REJECT: writes the TCP RST or ICMP error as an Ethernet frame
/// out of the bridge port the packet came in on (NFQA_IFINDEX_PHYSINDEV),
/// addressed to the sender's MAC (NFQA_HWADDR).
public final class BridgeRejecter: Sendable {
    private let fd: Int32

    public init() throws(QueueError) {
        let fd = socfw_packet_socket()
        guard fd >= 0 else {
            throw QueueError(description: "opening an AF_PACKET socket for bridge-mode REJECT: \(String(cString: strerror(-fd)))")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    func sendReject(for p: socfw_packet, packet: UnsafeRawBufferPointer) -> Bool {
        guard p.physindev != 0, p.hwaddr_len == 6, let reply = RejectBuilder.reply(to: packet) else { return false }
        var ownMAC = [UInt8](repeating: 0, count: 6)
        guard socfw_interface_hwaddr(p.physindev, &ownMAC) == 0 else { return false }
        var frame = [UInt8]()
        frame.reserveCapacity(14 + reply.count)
        withUnsafeBytes(of: p.hwaddr) { frame += $0.prefix(6) }
        frame += ownMAC
        let etherType: UInt16 = (reply.first ?? 0) >> 4 == 6 ? 0x86dd : 0x0800
        frame += [UInt8(etherType >> 8), UInt8(etherType & 0xff)]
        frame += reply
        return socfw_packet_send(fd, p.physindev, frame, frame.count) == 0
    }
}
