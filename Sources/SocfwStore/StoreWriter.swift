internal import GRDB
import Dispatch
import Foundation
import Synchronization

/// Batched writes off the packet path: a bounded queue drained by one background thread that
/// commits each batch in one transaction (one fsync for up to `maxBatch` jobs).
///
/// `enqueue` never waits for the disk: it takes a short lock, appends, and returns false (and
/// counts a drop) when `capacity` jobs are already outstanding (queued or being written), so
/// memory stays bounded however far the disk falls behind. Jobs are written in the order they
/// were accepted. A batch whose transaction fails is retried job by job, so one bad job costs
/// itself only (counted in `failed`).
///
/// Invariant after `flush()` returns: `enqueued == written + failed`.
public final class StoreWriter: Sendable {
    /// One unit of work.
    public enum Job: Sendable {
        /// Insert one alert (batched with its neighbours).
        case alert(AlertRecord)
        /// Append one audit entry (batched with its neighbours, chained in order).
        case audit(actor: String, action: String, details: String, at: Int64)
        /// Anything else, run alone on the writer thread, outside any batch transaction
        /// (it may call any `SocfwStore` method).
        case custom(@Sendable (SocfwStore) throws -> Void)
    }

    /// Jobs accepted.
    public var enqueued: Int { queue.enqueued.load(ordering: .relaxed) }
    /// Jobs committed to the database.
    public var written: Int { queue.written.load(ordering: .relaxed) }
    /// Jobs refused because the queue was full (or the writer stopped).
    public var dropped: Int { queue.dropped.load(ordering: .relaxed) }
    /// Jobs whose write failed (reported through `onError`).
    public var failed: Int { queue.failed.load(ordering: .relaxed) }
    /// The most recent write succeeded (true before the first one): the
    /// database is writable as far as socfwd can tell without writing.
    public var lastWriteSucceeded: Bool { queue.lastWriteSucceeded.load(ordering: .relaxed) }

    private let queue: WriterQueue

    /// Starts the writer thread.
    /// - Parameters:
    ///   - capacity: most jobs outstanding (queued or in the batch being written).
    ///   - maxBatch: most jobs committed in one transaction.
    ///   - onError: called on the writer thread for each failed job; must not block for long.
    public init(store: SocfwStore, capacity: Int = 65_536, maxBatch: Int = 4_096,
                onError: (@Sendable (StoreError) -> Void)? = nil) {
        precondition(capacity > 0 && maxBatch > 0, "StoreWriter: capacity and maxBatch must be positive")
        queue = WriterQueue(store: store, capacity: capacity, maxBatch: maxBatch, onError: onError)
        let queue = queue
        let thread = Thread { queue.run() }
        thread.name = "socfw-store-writer"
        thread.start()
    }

    deinit { stop() }

    /// Queues a job; never blocks. Returns false (and counts a drop) when the queue is full
    /// or the writer has stopped.
    @discardableResult
    public func enqueue(_ job: Job) -> Bool {
        queue.enqueue(.job(job))
    }

    /// Waits until every job accepted before this call has been written (or has failed).
    /// Returns at once after `stop()`.
    public func flush() {
        let done = DispatchSemaphore(value: 0)
        if queue.enqueue(.barrier(done)) { done.wait() }
    }

    /// Writes what is queued, then ends the writer thread. Later `enqueue`s return false.
    /// Idempotent; also done on deinit.
    public func stop() {
        queue.stop()
    }
}

/// The queue and the writer loop, apart from `StoreWriter` so that the thread does not keep
/// the public handle alive (its deinit stops the thread).
private final class WriterQueue: Sendable {
    enum Work: Sendable {
        case job(StoreWriter.Job)
        /// Signalled when the writer reaches it, i.e. after everything queued before it.
        case barrier(DispatchSemaphore)
    }

    struct State {
        var pending: [Work] = []
        /// Jobs queued or in the batch being written; bounded by `capacity`.
        var outstanding = 0
        /// The writer thread found nothing to do and waits on `wakeup`.
        var idle = false
        var stopping = false
    }

    let store: SocfwStore
    let capacity: Int
    let maxBatch: Int
    let onError: (@Sendable (StoreError) -> Void)?
    let state = Mutex(State())
    /// Signalled once per transition of the writer from idle to busy, so a producer pays a
    /// futex wake only when the writer actually sleeps.
    let wakeup = DispatchSemaphore(value: 0)
    /// Signalled when the writer thread ends; `stop()` waits on it and signals it again so
    /// later `stop()`s return too.
    let finished = DispatchSemaphore(value: 0)
    let enqueued = Atomic<Int>(0)
    let written = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let lastWriteSucceeded = Atomic<Bool>(true)

    init(store: SocfwStore, capacity: Int, maxBatch: Int, onError: (@Sendable (StoreError) -> Void)?) {
        self.store = store
        self.capacity = capacity
        self.maxBatch = maxBatch
        self.onError = onError
    }

    func enqueue(_ work: Work) -> Bool {
        let isJob = if case .job = work { true } else { false }
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            // Barriers bypass the capacity: a flush must not fail because the queue is full.
            guard !state.stopping, !isJob || state.outstanding < capacity else {
                if isJob { dropped.add(1, ordering: .relaxed) }
                return (false, false)
            }
            state.pending.append(work)
            if isJob {
                state.outstanding += 1
                // Counted under the lock so that `written` never runs ahead of `enqueued`.
                enqueued.add(1, ordering: .relaxed)
            }
            let wake = state.idle
            state.idle = false
            return (true, wake)
        }
        if wake { wakeup.signal() }
        return accepted
    }

    func stop() {
        let wake = state.withLock { state -> Bool in
            state.stopping = true
            let wake = state.idle
            state.idle = false
            return wake
        }
        if wake { wakeup.signal() }
        finished.wait()
        finished.signal()
    }

    /// The writer thread: take everything queued, write it in batches, sleep when empty.
    func run() {
        while true {
            let taken = state.withLock { state -> [Work]? in
                if !state.pending.isEmpty {
                    defer { state.pending = [] }
                    return state.pending
                }
                if state.stopping { return nil }
                state.idle = true
                return []
            }
            guard let taken else { break }
            if taken.isEmpty {
                wakeup.wait()
                continue
            }
            var start = 0
            while start < taken.count {
                let end = min(start + maxBatch, taken.count)
                let batch = taken[start..<end]
                write(batch)
                let jobs = batch.count { if case .job = $0 { true } else { false } }
                state.withLock { $0.outstanding -= jobs }
                start = end
            }
        }
        finished.signal()
    }

    /// Writes one batch in order: runs of alerts and audit entries in one transaction each,
    /// custom jobs alone, barriers signalled once everything before them is done.
    private func write(_ batch: ArraySlice<Work>) {
        var run: [StoreWriter.Job] = []
        for work in batch {
            switch work {
            case .job(.custom(let body)):
                commit(run)
                run.removeAll(keepingCapacity: true)
                runCustom(body)
            case .job(let job):
                run.append(job)
            case .barrier(let done):
                commit(run)
                run.removeAll(keepingCapacity: true)
                done.signal()
            }
        }
        commit(run)
    }

    private func commit(_ run: [StoreWriter.Job]) {
        guard !run.isEmpty else { return }
        do {
            try store.write("write batch of \(run.count) jobs") { db in
                for job in run { try Self.apply(job, in: db) }
            }
            written.add(run.count, ordering: .relaxed)
            lastWriteSucceeded.store(true, ordering: .relaxed)
        } catch {
            // Retry one by one so a single bad job does not lose its neighbours.
            for job in run {
                do {
                    try store.write("write \(Self.name(job))") { db in try Self.apply(job, in: db) }
                    written.add(1, ordering: .relaxed)
                    lastWriteSucceeded.store(true, ordering: .relaxed)
                } catch {
                    failed.add(1, ordering: .relaxed)
                    lastWriteSucceeded.store(false, ordering: .relaxed)
                    onError?(error)
                }
            }
        }
    }

    private func runCustom(_ body: @Sendable (SocfwStore) throws -> Void) {
        do {
            try body(store)
            written.add(1, ordering: .relaxed)
            lastWriteSucceeded.store(true, ordering: .relaxed)
        } catch {
            failed.add(1, ordering: .relaxed)
            lastWriteSucceeded.store(false, ordering: .relaxed)
            onError?(StoreError(path: store.path, operation: "custom write job", underlying: error))
        }
    }

    private static func apply(_ job: StoreWriter.Job, in db: Database) throws {
        switch job {
        case .alert(let alert):
            try SocfwStore.insertAlerts(CollectionOfOne(alert), in: db)
        case .audit(let actor, let action, let details, let time):
            _ = try SocfwStore.appendAudit(actor: actor, action: action, details: details, at: time, in: db)
        case .custom:
            preconditionFailure("custom jobs run outside batch transactions")
        }
    }

    private static func name(_ job: StoreWriter.Job) -> String {
        switch job {
        case .alert: "alert"
        case .audit(_, let action, _, _): "audit entry \(action)"
        case .custom: "custom job"
        }
    }
}
