import Testing
import SocfwIDS
import SocfwWire

// Specifications of TCP stream reassembly (Docs/stream-reassembly.md), one behaviour
// per test. Segments are built by hand; sequence numbers are chosen to show the
// case (an ISN near 2^32 for wrap-around, a bare data segment for mid-stream pickup).

/// A copy of one chunk, so it outlives the next call.
struct DeliveredChunk: Equatable, CustomStringConvertible {
    var window: [UInt8]
    var newData: [UInt8]
    var streamOffset: UInt64

    init(_ chunk: StreamChunk) {
        window = Array(chunk.bytes[..<chunk.newDataStart])
        newData = Array(chunk.newData)
        streamOffset = chunk.streamOffset
        precondition(chunk.newDataOffset == streamOffset + UInt64(window.count))
    }

    var text: String { String(decoding: newData, as: UTF8.self) }
    var all: String { String(decoding: window + newData, as: UTF8.self) }
    var newDataOffset: UInt64 { streamOffset + UInt64(window.count) }
    var description: String { "@\(streamOffset) [\(window.count) | \(newData.count)]" }
}

/// A reassembler with defaults that keep test calls short.
struct StreamHarness {
    let reassembler: StreamReassembler

    init(_ config: StreamConfig = StreamConfig(), flows: Int = 16) {
        reassembler = StreamReassembler(config: config, flowCapacity: flows)
    }

    func send(slot: Int32 = 0, flow: UInt64 = 1, newFlow: Bool = false, _ direction: StreamDirection = .toServer,
              seq: UInt32, syn: Bool = false, fin: Bool = false, rst: Bool = false, _ data: [UInt8] = []) -> DeliveredChunk? {
        data.withUnsafeBytes { payload in
            reassembler.segment(slot: slot, flowID: flow, newFlow: newFlow, direction: direction, sequence: seq,
                                syn: syn, fin: fin, rst: rst, payload: payload).map(DeliveredChunk.init)
        }
    }

    func send(slot: Int32 = 0, flow: UInt64 = 1, _ direction: StreamDirection = .toServer, seq: UInt32,
              _ text: String) -> DeliveredChunk? {
        send(slot: slot, flow: flow, direction, seq: seq, Array(text.utf8))
    }

    var events: StreamSegmentEvents { reassembler.lastSegmentEvents }
    var counters: StreamCounters { reassembler.counters }
}

func randomStreamBytes(_ count: Int, using rng: inout SplitMix64) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

@Suite struct StreamReassemblerTests {
    // MARK: In order

    @Test func inOrderSegmentsAreDeliveredAfterTheirWindow() throws {
        let h = StreamHarness()
        #expect(h.send(seq: 1000, syn: true) == nil)
        let first = try #require(h.send(seq: 1001, "hello "))
        #expect(first.window.isEmpty && first.text == "hello " && first.streamOffset == 0)
        let second = try #require(h.send(seq: 1007, "world"))
        #expect(second.all == "hello world" && second.text == "world")
        #expect(second.streamOffset == 0 && second.newDataOffset == 6)
        #expect(h.counters.inOrder == 2 && h.counters.chunks == 2 && h.counters.deliveredBytes == 11)
    }

    @Test func patternSplitAcrossTwoSegmentsIsInOneChunk() throws {
        let h = StreamHarness()
        _ = h.send(seq: 99, syn: true)
        let first = try #require(h.send(seq: 100, "GET /ev"))
        #expect(!first.all.contains("/evil"))
        let second = try #require(h.send(seq: 107, "il.php HTTP/1.1\r\n"))
        #expect(second.all.contains("GET /evil.php"))
    }

    @Test func pureAckAndFinWithoutDataReturnNothing() {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        #expect(h.send(seq: 1) == nil)
        #expect(h.send(seq: 1, fin: true) == nil)
        #expect(h.counters.segments == 0)
    }

    @Test func dataOnTheSynStartsAfterTheIsn() throws {
        // TCP Fast Open (RFC 7413) carries data on the SYN.
        let h = StreamHarness()
        let chunk = try #require(h.send(seq: 5000, syn: true, Array("early".utf8)))
        #expect(chunk.text == "early" && chunk.streamOffset == 0)
        #expect(try #require(h.send(seq: 5006, " data")).all == "early data")
    }

    @Test func directionsAreReassembledIndependently() throws {
        let h = StreamHarness()
        _ = h.send(.toServer, seq: 100, syn: true)
        _ = h.send(.toClient, seq: 900, syn: true)
        #expect(try #require(h.send(.toServer, seq: 101, "request")).text == "request")
        #expect(try #require(h.send(.toClient, seq: 901, "response")).all == "response")
        #expect(try #require(h.send(.toServer, seq: 108, " more")).all == "request more")
    }

    // MARK: Out of order

    @Test func outOfOrderSegmentIsHeldUntilTheGapFills() throws {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        #expect(h.send(seq: 6, "world") == nil)
        #expect(h.events == [.outOfOrderHeld])
        let chunk = try #require(h.send(seq: 1, "hello"))
        #expect(chunk.text == "helloworld" && chunk.streamOffset == 0)
        #expect(h.counters.outOfOrderHeld == 1 && h.counters.inOrder == 1)
    }

    @Test func severalHeldSegmentsComeOutAsOneChunk() throws {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        _ = h.send(seq: 1, "0123")
        #expect(h.send(seq: 13, "cdef") == nil)
        #expect(h.send(seq: 9, "89ab") == nil)
        #expect(h.send(seq: 22, "lmn") == nil)  // beyond another hole: stays held
        let chunk = try #require(h.send(seq: 5, "4567"))
        #expect(chunk.all == "0123456789abcdef" && chunk.window == Array("0123".utf8))
        let rest = try #require(h.send(seq: 17, "ghijk"))
        #expect(rest.text == "ghijklmn")
    }

    @Test func segmentStartingBeforeTheNextByteDeliversItsNewTail() throws {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        _ = h.send(seq: 1, "abcdef")
        let chunk = try #require(h.send(seq: 4, "defghi"))
        #expect(chunk.text == "ghi" && chunk.all == "abcdefghi")
        #expect(h.events == [.overlap] && h.counters.overlaps == 1 && h.counters.overlapMismatches == 0)
    }

    // MARK: Retransmissions and overlaps

    @Test func retransmissionIsIgnored() {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        _ = h.send(seq: 1, "abcdef")
        #expect(h.send(seq: 1, "abcdef") == nil)
        #expect(h.send(seq: 3, "cd") == nil)
        #expect(h.counters.retransmissions == 2 && h.counters.overlapMismatches == 0)
        #expect(h.events == [.retransmission])
    }

    @Test func overlapWithDifferentBytesKeepsTheFirstCopyAndIsCounted() throws {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        _ = h.send(seq: 1, "ABCDEF")
        let chunk = try #require(h.send(seq: 4, "XYZGHI"))
        #expect(chunk.all == "ABCDEFGHI")
        #expect(h.events.contains(.overlapMismatch) && h.counters.overlapMismatches == 1)
        // A retransmission that rewrites delivered bytes is compared too.
        #expect(h.send(seq: 1, "abc") == nil)
        #expect(h.events == [.retransmission, .overlapMismatch] && h.counters.overlapMismatches == 2)
    }

    @Test func heldDataIsNotReplacedByALaterOverlappingSegment() throws {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        #expect(h.send(seq: 11, "MNOP") == nil)
        #expect(h.send(seq: 11, "mnopQR") == nil)
        #expect(h.events.contains(.overlapMismatch) && h.events.contains(.overlap))
        #expect(h.send(seq: 9, "xxMN") == nil)   // spans the front edge of the held range
        #expect(!h.events.contains(.overlapMismatch))
        let chunk = try #require(h.send(seq: 1, "0123456789"))
        #expect(chunk.text == "01234567xxMNOPQR")   // "xx" came first
        #expect(h.counters.overlapMismatches == 2)
    }

    @Test func inOrderDataCoveringHeldBytesKeepsTheHeldCopy() throws {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        _ = h.send(seq: 4, "DEF")
        let chunk = try #require(h.send(seq: 1, "abcdefgh"))
        #expect(chunk.text == "abcDEFgh")
        #expect(h.events.contains(.overlapMismatch) && h.counters.overlaps == 1)
    }

    // MARK: Sequence space

    @Test func streamCrossingTheSequenceWrapReassembles() throws {
        let h = StreamHarness()
        let isn: UInt32 = 0xFFFF_FFF0
        _ = h.send(seq: isn, syn: true)
        let text = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)   // bytes 15... cross 2^32
        let start = isn &+ 1
        #expect(h.send(seq: start &+ 20, Array(text[20...])) == nil)      // after the wrap, held
        #expect(h.send(seq: start &+ 10, Array(text[10..<20])) == nil)    // spans the wrap, held
        let chunk = try #require(h.send(seq: start, Array(text[..<10])))
        #expect(chunk.newData == text && chunk.streamOffset == 0)
        let more = try #require(h.send(seq: start &+ UInt32(text.count), "!"))
        #expect(more.newDataOffset == UInt64(text.count))
    }

    @Test func flowPickedUpMidStreamStartsAtItsFirstDataSegment() throws {
        let h = StreamHarness()
        let first = try #require(h.send(seq: 5000, "middle"))
        #expect(first.streamOffset == 0 && first.text == "middle")
        #expect(h.send(seq: 4990, "0123456789") == nil)   // older than the pickup point
        #expect(h.events == [.retransmission])
        #expect(try #require(h.send(seq: 5006, " end")).all == "middle end")
    }

    @Test func synRetransmittedWithANewIsnBeforeDataRestartsTheDirection() throws {
        let h = StreamHarness()
        _ = h.send(seq: 100, syn: true)
        _ = h.send(seq: 7000, syn: true)
        #expect(try #require(h.send(seq: 7001, "x")).streamOffset == 0)
        _ = h.send(seq: 9000, syn: true)   // after data: ignored
        #expect(try #require(h.send(seq: 7002, "y")).all == "xy")
    }

    // MARK: Limits

    @Test func depthStopsReassemblyAndFreesTheBuffer() throws {
        let h = StreamHarness(StreamConfig(depthBytes: 100))
        _ = h.send(seq: 0, syn: true)
        let chunk = Array(repeating: UInt8(ascii: "a"), count: 60)
        #expect(try #require(h.send(seq: 1, chunk)).newData.count == 60)
        let last = try #require(h.send(seq: 61, chunk))
        #expect(last.newData.count == 40 && last.newDataOffset == 60)
        #expect(h.events.contains(.depthReached) && h.counters.depthReached == 1)
        #expect(h.send(seq: 121, chunk) == nil)
        #expect(h.events == [.ignored])
        #expect(h.reassembler.memoryBytes == 0)   // freed by the call after the last chunk
        _ = h.send(.toClient, seq: 0, syn: true)
        #expect(try #require(h.send(.toClient, seq: 1, chunk)).newData.count == 60)   // per direction
    }

    @Test func heldDataIsClippedAtTheDepth() throws {
        let h = StreamHarness(StreamConfig(depthBytes: 10))
        _ = h.send(seq: 0, syn: true)
        #expect(h.send(seq: 6, "56789abcdef") == nil)
        let chunk = try #require(h.send(seq: 1, "01234"))
        #expect(chunk.text == "0123456789" && h.counters.depthReached == 1)
    }

    @Test func windowKeepsTheLastWindowBytesAcrossCompactions() throws {
        let window = 100
        let h = StreamHarness(StreamConfig(windowBytes: window))
        var rng = SplitMix64(seed: 7)
        let stream = randomStreamBytes(60_000, using: &rng)
        _ = h.send(seq: 41, syn: true)
        var offset = 0
        while offset < stream.count {
            let length = min(Int.random(in: 1...700, using: &rng), stream.count - offset)
            let chunk = try #require(h.send(seq: 42 &+ UInt32(offset), Array(stream[offset..<offset + length])))
            let shown = min(offset, window)
            #expect(chunk.window == Array(stream[(offset - shown)..<offset]))
            #expect(chunk.newData == Array(stream[offset..<offset + length]))
            #expect(chunk.streamOffset == UInt64(offset - shown))
            offset += length
        }
        // The buffer settled near twice window + segment and never grew with the stream.
        #expect(h.reassembler.memoryBytes <= 4096)
    }

    @Test func dataBeyondTheOutOfOrderSpanIsNotHeld() throws {
        let h = StreamHarness(StreamConfig(outOfOrderBytes: 100))
        _ = h.send(seq: 0, syn: true)
        #expect(h.send(seq: 91, Array(repeating: 0x41, count: 20)) == nil)   // 90..<110: 10 bytes refused
        #expect(h.events == [.outOfOrderHeld, .outOfOrderDropped])
        #expect(h.send(seq: 501, "far") == nil)
        #expect(h.events == [.outOfOrderDropped])
        let chunk = try #require(h.send(seq: 1, Array(repeating: 0x42, count: 90)))
        #expect(chunk.newData.count == 100)   // the held part; the refused tail was not kept
        #expect(h.counters.outOfOrderDropped == 2 && h.counters.gapsSkipped == 0)
    }

    @Test func aGapIsSkippedAfterASpanOfRefusedData() throws {
        // The sender is far ahead (the packets beyond our span passed, so the receiver
        // has them): after refusing a span's worth, the stream resumes at held data.
        let h = StreamHarness(StreamConfig(outOfOrderBytes: 100))
        _ = h.send(seq: 0, syn: true)
        _ = h.send(seq: 1, "start")
        #expect(h.send(seq: 51, "held") == nil)   // gap 5..<50
        #expect(h.send(seq: 201, Array(repeating: 0x7A, count: 60)) == nil)
        #expect(h.events == [.outOfOrderDropped])
        let resumed = try #require(h.send(seq: 301, Array(repeating: 0x7A, count: 60)))
        #expect(h.events.contains(.gapSkipped))
        #expect(resumed.text == "held" && resumed.window.isEmpty && resumed.streamOffset == 50)
        #expect(h.counters.gapsSkipped == 1 && h.counters.gapBytesSkipped == 45)
        // The missing bytes arriving now are old.
        #expect(h.send(seq: 6, "gap") == nil && h.events == [.retransmission])
    }

    @Test func zeroOutOfOrderSpanSkipsEveryGapAtOnce() throws {
        let h = StreamHarness(StreamConfig(outOfOrderBytes: 0))
        _ = h.send(seq: 0, syn: true)
        let chunk = try #require(h.send(seq: 11, "later"))
        #expect(chunk.streamOffset == 10 && h.counters.gapsSkipped == 1)
    }

    @Test func tooManyHolesAreRefused() {
        let h = StreamHarness()
        _ = h.send(seq: 0, syn: true)
        for hole in 0..<40 { _ = h.send(seq: UInt32(10 + hole * 10), "x") }
        #expect(h.counters.outOfOrderHeld == 32 && h.counters.outOfOrderDropped == 8)
    }

    @Test func withoutMemoryInOrderDataStillComesOutUnbuffered() throws {
        let h = StreamHarness(StreamConfig(memcapBytes: 0))
        _ = h.send(seq: 0, syn: true)
        let chunk = try #require(h.send(seq: 1, "abc"))
        #expect(chunk.text == "abc" && chunk.window.isEmpty)
        #expect(h.events == [.memcapHit, .unbuffered])
        #expect(try #require(h.send(seq: 4, "def")).newDataOffset == 3)
        #expect(h.reassembler.memoryBytes == 0 && h.counters.memcapHits == 2 && h.counters.unbufferedChunks == 2)
    }

    // MARK: Slots

    @Test func anotherFlowOnTheSlotStartsAfresh() throws {
        let h = StreamHarness()
        _ = h.send(flow: 1, seq: 0, syn: true)
        _ = h.send(flow: 1, seq: 1, "old flow")
        #expect(h.send(flow: 1, seq: 20, "held") == nil)
        let reused = try #require(h.send(flow: 2, seq: 777, "new flow"))
        #expect(reused.window.isEmpty && reused.streamOffset == 0)
        #expect(h.reassembler.counters.activeBuffers == 1)
        // `newFlow` resets even with the same ID.
        let again = try #require(h.send(flow: 2, newFlow: true, seq: 5, Array("fresh".utf8)))
        #expect(again.window.isEmpty && again.streamOffset == 0)
    }

    @Test func releaseFreesTheFlowsBuffers() {
        let h = StreamHarness()
        _ = h.send(slot: 3, seq: 0, syn: true)
        _ = h.send(slot: 3, seq: 1, "data")
        _ = h.send(slot: 3, .toClient, seq: 50, "reply")
        #expect(h.reassembler.counters.activeBuffers == 2)
        h.reassembler.release(slot: 3)
        #expect(h.reassembler.memoryBytes == 0 && h.reassembler.counters.activeBuffers == 0)
    }

    @Test func rstPayloadAndUnknownSlotsAreIgnored() {
        let h = StreamHarness(flows: 4)
        _ = h.send(seq: 0, syn: true)
        #expect(h.send(seq: 1, rst: true, Array("connection reset".utf8)) == nil)
        #expect(h.send(slot: 4, seq: 1, Array("x".utf8)) == nil)
        #expect(h.send(slot: -1, seq: 1, Array("x".utf8)) == nil)
        #expect(h.counters.ignoredSegments == 3 && h.counters.segments == 0)
        h.reassembler.release(slot: 99)
    }

    @Test(arguments: [
        (StreamConfig(depthBytes: -1), "depthBytes"),
        (StreamConfig(windowBytes: 17 << 20), "windowBytes"),
        (StreamConfig(outOfOrderBytes: -5), "outOfOrderBytes"),
        (StreamConfig(memcapBytes: -1), "memcapBytes"),
    ])
    func configurationOutOfRangeIsRefused(config: StreamConfig, field: String) {
        let error = #expect(throws: StreamConfigError.self) { try config.validate() }
        guard case let .outOfRange(name, _, _)? = error else { return }
        #expect(name == field)
        #expect(throws: Never.self) { try StreamConfig().validate() }
    }

    // MARK: Memory

    @Test func memcapBoundsMemoryAcrossAHundredThousandFlows() throws {
        let flows = 100_000
        let memcap = 1 << 20
        let h = StreamHarness(StreamConfig(memcapBytes: memcap), flows: flows)
        let data = Array(repeating: UInt8(ascii: "d"), count: 1000)
        var highest = 0
        var delivered = 0
        for round in 0..<3 {
            for flow in 0..<flows {
                let slot = Int32(flow)
                if round == 0 { _ = h.send(slot: slot, flow: UInt64(flow + 1), seq: 0, syn: true) }
                let chunk = try #require(h.send(slot: slot, flow: UInt64(flow + 1), seq: 1 + UInt32(round * 1000), data))
                #expect(chunk.newData.count == 1000)
                delivered += chunk.newData.count
                highest = max(highest, h.reassembler.memoryBytes)
            }
        }
        #expect(highest <= memcap)
        #expect(delivered == 3 * flows * 1000)
        #expect(h.counters.memcapHits > 0 && h.counters.unbufferedChunks > 0)
        print("100k flows, memcap \(memcap): peak \(highest) bytes, \(h.counters.activeBuffers) buffers, "
              + "\(h.counters.unbufferedChunks) unbuffered chunks; slot state \(h.reassembler.reservedBytes) bytes")
    }

    @Test func outOfOrderFloodWithRandomSequenceNumbersStaysBounded() {
        let memcap = 2 << 20
        let flows = 1000
        let h = StreamHarness(StreamConfig(outOfOrderBytes: 16 << 10, memcapBytes: memcap), flows: flows)
        var rng = SplitMix64(seed: 99)
        let data = randomStreamBytes(1400, using: &rng)
        // Half anywhere in sequence space, half scattered around each flow's stream.
        let bases = (0..<flows).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
        var highest = 0
        for _ in 0..<200_000 {
            let slot = Int.random(in: 0..<flows, using: &rng)
            let length = Int.random(in: 1...1400, using: &rng)
            let sequence = Bool.random(using: &rng)
                ? UInt32.random(in: 0...UInt32.max, using: &rng)
                : bases[slot] &+ UInt32(bitPattern: Int32.random(in: -50_000...100_000, using: &rng))
            _ = data[..<length].withUnsafeBytes { payload in
                h.reassembler.segment(slot: Int32(slot), flowID: UInt64(slot), newFlow: false,
                                      direction: Bool.random(using: &rng) ? .toServer : .toClient,
                                      sequence: sequence, syn: Int.random(in: 0..<50, using: &rng) == 0,
                                      fin: false, rst: false, payload: payload)
            }
            highest = max(highest, h.reassembler.memoryBytes)
        }
        #expect(highest <= memcap)
        let counters = h.counters
        #expect(counters.outOfOrderHeld > 0 && counters.gapsSkipped > 0)
        print("out-of-order flood: peak \(highest) bytes of \(memcap), held \(counters.outOfOrderHeld), "
              + "dropped \(counters.outOfOrderDropped), memcap hits \(counters.memcapHits), gaps \(counters.gapsSkipped)")
    }

    // MARK: Speed

    /// Prints throughput, no threshold (numbers depend on the machine; run with
    /// `swift test -c release --filter inOrderMicrobenchmark`). Also prints the cost
    /// when every second segment arrives before the one it follows.
    @Test func inOrderMicrobenchmark() {
        let flows = 1000
        let segmentBytes = 1460
        let rounds = 400
        for swapped in [false, true] {
            let h = StreamHarness(StreamConfig(depthBytes: 0), flows: flows)
            let payload = Array(repeating: UInt8(ascii: "p"), count: segmentBytes)
            var sink = 0
            func run(from first: Int, rounds: Int) {
                payload.withUnsafeBytes { bytes in
                    for round in first..<(first + rounds) {
                        let position = swapped ? round ^ 1 : round
                        let seq = UInt32(1 + position * segmentBytes)
                        for flow in 0..<flows {
                            if let chunk = h.reassembler.segment(slot: Int32(flow), flowID: UInt64(flow + 1),
                                                                 newFlow: false, direction: .toServer, sequence: seq,
                                                                 syn: false, fin: false, rst: false, payload: bytes) {
                                sink &+= chunk.bytes.count
                            }
                        }
                    }
                }
            }
            for flow in 0..<flows {
                _ = h.send(slot: Int32(flow), flow: UInt64(flow + 1), seq: 0, syn: true)
            }
            run(from: 0, rounds: 20)   // warm up: buffers reach their steady size
            let clock = ContinuousClock()
            let elapsed = clock.measure { run(from: 20, rounds: rounds) }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let segments = Double(flows * rounds)
            let megabytes = segments * Double(segmentBytes) / 1e6
            print("stream reassembly, \(swapped ? "pairs swapped" : "in order"), \(flows) flows x \(segmentBytes) B: "
                  + "\(Int(megabytes / seconds)) MB/s, \(Int(seconds / segments * 1e9)) ns/segment, "
                  + "\(h.reassembler.memoryBytes / flows) B/flow (checksum \(sink))")
            #expect(h.counters.deliveredBytes == UInt64(flows * (rounds + 20) * segmentBytes))
        }
    }
}
