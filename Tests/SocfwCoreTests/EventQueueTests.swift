import Dispatch
import Foundation
import SocfwCore
import SocfwWire
import Testing

@Suite struct EventQueueTests {
    func event(_ kind: Event.Kind) -> Event {
        Event(kind: kind, timestampNanoseconds: 1, packet: PacketSummary(), verdict: .accept)
    }

    @Test func anAlertWakesTheSleepingConsumerAndAnEndedFlowDoesNot() {
        let queue = EventQueue(capacity: 16)
        // An ended flow while the consumer sleeps: it sleeps its full pause.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { queue.push([event(.flow)]) }
        var t = ContinuousClock.now
        queue.wait(milliseconds: 300)
        #expect(ContinuousClock.now - t >= .milliseconds(290))
        #expect(queue.drain().count == 1)

        // An alert: woken long before the 10 s pause ends.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { queue.push([event(.alert)]) }
        t = ContinuousClock.now
        queue.wait(milliseconds: 10_000)
        #expect(ContinuousClock.now - t < .seconds(5))
        #expect(queue.drain().map(\.kind) == [.alert])

        // Events already queued: no sleep at all.
        queue.push([event(.flow)])
        t = ContinuousClock.now
        queue.wait(milliseconds: 10_000)
        #expect(ContinuousClock.now - t < .seconds(5))
    }

    @Test func aFullQueueCountsWhatItLoses() {
        let queue = EventQueue(capacity: 3)
        #expect(queue.push([event(.drop), event(.drop)]) == 0)
        #expect(queue.push([event(.drop), event(.drop)]) == 1)
        #expect(queue.lostCount == 1 && queue.drain().count == 3)
    }
}
