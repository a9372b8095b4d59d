import Dispatch
import Foundation
import SocfwCore
import SocfwWire
import Synchronization
import Testing

@Suite struct EventQueueTests {
    func event(_ kind: Event.Kind) -> Event {
        Event(kind: kind, timestampNanoseconds: 1, packet: PacketSummary(), verdict: .accept)
    }

    /// Runs `wait` on another thread and pushes `kind` from this one once it is about to sleep.
    func waitWhilePushing(_ queue: EventQueue, _ kind: Event.Kind, pause: Int) -> EventQueue.WaitResult {
        let started = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let result = Mutex(EventQueue.WaitResult.pending)
        Thread {
            started.signal()
            let r = queue.wait(milliseconds: pause)
            result.withLock { $0 = r }
            done.signal()
        }.start()
        started.wait()
        usleep(50_000)
        queue.push([event(kind)])
        done.wait()
        return result.withLock { $0 }
    }

    @Test func anAlertWakesTheSleepingConsumerAndAnEndedFlowDoesNot() {
        let queue = EventQueue(capacity: 16)
        // An ended flow never wakes the consumer: it sleeps its pause out
        // (or, on a very busy machine, found the flow queued before it slept).
        #expect(waitWhilePushing(queue, .flow, pause: 300) != .woken)
        #expect(queue.drain().map(\.kind) == [.flow])
        // An alert does (or was already queued): never the full 60 s pause.
        #expect(waitWhilePushing(queue, .alert, pause: 60_000) != .timedOut)
        #expect(queue.drain().map(\.kind) == [.alert])
        // Events already queued: no pause at all.
        queue.push([event(.flow)])
        #expect(queue.wait(milliseconds: 60_000) == .pending)
    }

    @Test func aFullQueueCountsWhatItLoses() {
        let queue = EventQueue(capacity: 3)
        #expect(queue.push([event(.drop), event(.drop)]) == 0)
        #expect(queue.push([event(.drop), event(.drop)]) == 1)
        #expect(queue.lostCount == 1 && queue.drain().count == 3)
    }
}
