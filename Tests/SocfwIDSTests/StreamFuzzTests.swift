import Testing
import SocfwIDS
import SocfwWire

// Property tests of stream reassembly: known streams cut into segments that arrive
// in random order, duplicated, overlapping, sometimes with conflicting bytes, over
// several flows at once; and hostile input with tiny limits. Seeds are fixed so a
// failure reproduces.

/// One segment to send: `length` stream bytes from `offset` of stream `stream`,
/// carrying `content` (the original bytes unless a test rewrote them).
private struct PlannedStreamSegment {
    var stream: Int
    var offset: Int
    var content: [UInt8]
}

/// A stream under test: one direction of one slot.
private struct StreamUnderTest {
    var slot: Int32
    var direction: StreamDirection
    var isn: UInt32
    var bytes: [UInt8]
    var delivered: [UInt8] = []
    /// Stream offset one past the last delivered byte.
    var end: UInt64 = 0

    var firstSequence: UInt32 { isn &+ 1 }
}

/// Cuts `length` bytes into segments of `sizes` bytes, then (with `extras`) adds
/// duplicates of random segments and random overlapping ranges, up to `extras` of
/// each; returns (offset, length) pairs in stream order of their start.
private func cutStream(_ length: Int, sizes: ClosedRange<Int>, extras: Int, using rng: inout SplitMix64) -> [(Int, Int)] {
    var pieces: [(Int, Int)] = []
    var offset = 0
    while offset < length {
        let size = min(Int.random(in: sizes, using: &rng), length - offset)
        pieces.append((offset, size))
        offset += size
    }
    guard extras > 0 else { return pieces }
    for _ in 0..<Int.random(in: 0...extras, using: &rng) {
        pieces.append(pieces.randomElement(using: &rng)!)
    }
    for _ in 0..<Int.random(in: 0...extras, using: &rng) {
        let start = Int.random(in: 0..<length, using: &rng)
        pieces.append((start, Int.random(in: 1...min(3000, length - start), using: &rng)))
    }
    return pieces.sorted { $0.0 < $1.0 }
}

/// An arrival order for `pieces` (sorted by offset) that never leaves more separate
/// holes than a direction may hold (`StreamBuffer.maxHeldRanges`, 32): either any
/// permutation of at most 28 pieces, or stream order with each piece moved up to 9
/// places.
private func streamArrivalOrder(_ pieces: [(Int, Int)], using rng: inout SplitMix64) -> [(Int, Int)] {
    if pieces.count <= 28 && Bool.random(using: &rng) { return pieces.shuffled(using: &rng) }
    let reach = Int.random(in: 0...9, using: &rng)
    return pieces.enumerated()
        .map { (key: $0.offset + Int.random(in: 0...reach, using: &rng), piece: $0.element) }
        .sorted { $0.key < $1.key }
        .map(\.piece)
}

/// Index of the first byte where `a` and `b` differ (or where one ends); nil when equal.
private func firstByteDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    if let index = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] }) { return index }
    return a.count == b.count ? nil : min(a.count, b.count)
}

/// An ISN, a quarter of the time placed so the stream crosses 2^32.
private func randomStreamISN(streamLength: Int, using rng: inout SplitMix64) -> UInt32 {
    Int.random(in: 0..<4, using: &rng) == 0
        ? UInt32.max &- UInt32(Int.random(in: 0...streamLength, using: &rng))
        : UInt32.random(in: 0...UInt32.max, using: &rng)
}

/// Merges the per-stream sequences of `plan` in a random way, keeping each stream's
/// own order.
private func interleaveStreams(_ plan: [PlannedStreamSegment], streams: Int, using rng: inout SplitMix64) -> [PlannedStreamSegment] {
    var queues = (0..<streams).map { stream in plan.filter { $0.stream == stream }[...] }
    var merged: [PlannedStreamSegment] = []
    merged.reserveCapacity(plan.count)
    while let stream = queues.indices.filter({ !queues[$0].isEmpty }).randomElement(using: &rng) {
        merged.append(queues[stream].removeFirst())
    }
    return merged
}

private extension StreamReassembler {
    func send(_ stream: StreamUnderTest, flowID: UInt64 = 1, sequence: UInt32, syn: Bool = false,
              content: [UInt8]) -> StreamChunk? {
        content.withUnsafeBytes { payload in
            segment(slot: stream.slot, flowID: flowID, newFlow: false, direction: stream.direction, sequence: sequence,
                    syn: syn, fin: false, rst: false, payload: payload)
        }
    }
}

@Suite struct StreamFuzzTests {
    /// Any order, any duplication, any overlap of identical bytes: when no limit is
    /// reached, each direction's new data concatenated is exactly its stream, every
    /// window is exactly the stream before it, and nothing is counted as suspicious.
    @Test(arguments: 0..<8 as Range<UInt64>)
    func anyArrivalOrderReassemblesExactlyTheStream(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0x5EED_0000 + seed)
        for _ in 0..<25 {
            let window = Int.random(in: 0...4096, using: &rng)
            let r = StreamReassembler(config: StreamConfig(depthBytes: 0, windowBytes: window,
                                                           outOfOrderBytes: 1 << 20, memcapBytes: 256 << 20),
                                      flowCapacity: 4)
            var streams: [StreamUnderTest] = []
            var plan: [PlannedStreamSegment] = []
            for slot in 0..<2 {
                for direction in StreamDirection.allCases {
                    let tiny = Int.random(in: 0..<3, using: &rng) == 0   // 1- to 16-byte segments
                    let length = Int.random(in: 1...(tiny ? 3000 : 30_000), using: &rng)
                    let bytes = randomStreamBytes(length, using: &rng)
                    streams.append(StreamUnderTest(slot: Int32(slot), direction: direction,
                                              isn: randomStreamISN(streamLength: length, using: &rng), bytes: bytes))
                    let sizes = tiny ? [1...1, 1...16].randomElement(using: &rng)!
                        : [1...536, 536...1460, 1...9000, (length / 24 + 1)...(length / 12 + 1)].randomElement(using: &rng)!
                    let pieces = cutStream(length, sizes: sizes, extras: length / sizes.lowerBound > 24 ? 10 : 2, using: &rng)
                    plan.append(contentsOf: streamArrivalOrder(pieces, using: &rng).map { offset, size in
                        PlannedStreamSegment(stream: streams.count - 1, offset: offset,
                                       content: Array(bytes[offset..<offset + size]))
                    })
                }
            }
            // Interleave the four streams, each keeping its own arrival order.
            plan = interleaveStreams(plan, streams: streams.count, using: &rng)
            for stream in streams { #expect(r.send(stream, sequence: stream.isn, syn: true, content: []) == nil) }
            for segment in plan {
                var stream = streams[segment.stream]
                if let chunk = r.send(stream, sequence: stream.firstSequence &+ UInt32(segment.offset),
                                      content: segment.content) {
                    #expect(chunk.newDataOffset == stream.end)
                    #expect(chunk.newDataStart == min(Int(stream.end), window))
                    let windowStart = Int(chunk.streamOffset)
                    #expect(Array(chunk.bytes[..<chunk.newDataStart]) == Array(stream.bytes[windowStart..<Int(stream.end)]))
                    stream.delivered += chunk.newData
                    stream.end += UInt64(chunk.newData.count)
                    streams[segment.stream] = stream
                }
            }
            for stream in streams { #expect(firstByteDifference(stream.delivered, stream.bytes) == nil) }
            let counters = r.counters
            #expect(counters.overlapMismatches == 0 && counters.gapsSkipped == 0 && counters.outOfOrderDropped == 0)
            #expect(counters.memcapHits == 0 && counters.unbufferedChunks == 0)
            for slot in 0..<2 { r.release(slot: Int32(slot)) }
            #expect(r.memoryBytes == 0 && r.counters.activeBuffers == 0)
        }
    }

    /// Overlapping copies with different bytes: the first copy of every byte to arrive
    /// is the one delivered, and exactly the segments that contradict an earlier copy
    /// are counted (the window is larger than the stream, so every copy can be checked).
    @Test(arguments: 0..<6 as Range<UInt64>)
    func firstCopyOfEveryByteWinsAndContradictionsAreCounted(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0xF125_7000 + seed)
        for _ in 0..<30 {
            let r = StreamReassembler(config: StreamConfig(depthBytes: 0, windowBytes: 1 << 16,
                                                           outOfOrderBytes: 1 << 20, memcapBytes: 64 << 20),
                                      flowCapacity: 1)
            let length = Int.random(in: 1...20_000, using: &rng)
            var stream = StreamUnderTest(slot: 0, direction: .toServer,
                                    isn: randomStreamISN(streamLength: length, using: &rng),
                                    bytes: randomStreamBytes(length, using: &rng))
            let pieces = cutStream(length, sizes: 1...1460, extras: 12, using: &rng)
            let plan = streamArrivalOrder(pieces, using: &rng).map { offset, size in
                var content = Array(stream.bytes[offset..<offset + size])
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    content[Int.random(in: 0..<size, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                }
                return PlannedStreamSegment(stream: 0, offset: offset, content: content)
            }

            // Reference model: the first value seen for each byte; a segment contradicts
            // when a byte it carries was seen before with another value.
            var first = [UInt8?](repeating: nil, count: length)
            var contradictions: UInt64 = 0
            for segment in plan {
                var contradicts = false
                for (index, byte) in segment.content.enumerated() {
                    let position = segment.offset + index
                    if let seen = first[position] { contradicts = contradicts || seen != byte } else { first[position] = byte }
                }
                if contradicts { contradictions += 1 }
            }

            _ = r.send(stream, sequence: stream.isn, syn: true, content: [])
            for segment in plan {
                if let chunk = r.send(stream, sequence: stream.firstSequence &+ UInt32(segment.offset),
                                      content: segment.content) {
                    #expect(chunk.newDataOffset == stream.end)
                    stream.delivered += chunk.newData
                    stream.end += UInt64(chunk.newData.count)
                }
            }
            #expect(firstByteDifference(stream.delivered, first.map { $0! }) == nil)
            #expect(r.counters.overlapMismatches == contradictions && r.counters.outOfOrderDropped == 0)
        }
    }

    /// Tight limits (small window, span, memcap and depth), lost and reordered
    /// segments: whatever is delivered is the stream's own bytes at the offsets the
    /// chunk claims, offsets only move forward (jumping only over a counted gap), the
    /// depth holds, and memory never passes the memcap.
    @Test(arguments: 0..<8 as Range<UInt64>)
    func underTightLimitsDeliveredBytesAreAlwaysTheStreamsOwn(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0x7167_0000 + seed)
        var exercised = StreamCounters()
        for _ in 0..<20 {
            let length = Int.random(in: 1...40_000, using: &rng)
            let config = StreamConfig(
                depthBytes: Bool.random(using: &rng) ? 0 : Int.random(in: 1...length, using: &rng),
                windowBytes: Int.random(in: 0...300, using: &rng),
                outOfOrderBytes: Int.random(in: 0...4000, using: &rng),
                memcapBytes: [0, 2000, 8000, 30_000, 1 << 20].randomElement(using: &rng)!)
            let r = StreamReassembler(config: config, flowCapacity: 3)
            var streams: [StreamUnderTest] = []
            var plan: [PlannedStreamSegment] = []
            for slot in 0..<3 {
                let bytes = randomStreamBytes(length, using: &rng)
                streams.append(StreamUnderTest(slot: Int32(slot), direction: .toServer,
                                          isn: randomStreamISN(streamLength: length, using: &rng), bytes: bytes))
                // Roughly in order, with local reordering, losses and duplicates.
                var pieces = cutStream(length, sizes: 1...1460, extras: Bool.random(using: &rng) ? 10 : 0, using: &rng)
                for index in pieces.indices where Int.random(in: 0..<5, using: &rng) == 0 {
                    let other = min(pieces.count - 1, index + Int.random(in: 1...8, using: &rng))
                    pieces.swapAt(index, other)
                }
                for (offset, size) in pieces where Int.random(in: 0..<20, using: &rng) != 0 {
                    plan.append(PlannedStreamSegment(stream: slot, offset: offset, content: Array(bytes[offset..<offset + size])))
                }
            }
            for stream in streams { _ = r.send(stream, sequence: stream.isn, syn: true, content: []) }
            for segment in interleaveStreams(plan, streams: 3, using: &rng) {
                let stream = segment.stream
                var state = streams[stream]
                let chunk = r.send(state, sequence: state.firstSequence &+ UInt32(segment.offset), content: segment.content)
                #expect(r.memoryBytes <= config.memcapBytes)
                guard let chunk else { continue }
                let start = Int(chunk.streamOffset)
                #expect(Array(chunk.bytes) == Array(state.bytes[start..<start + chunk.bytes.count]))
                #expect(chunk.newDataStart <= config.windowBytes)
                if r.lastSegmentEvents.contains(.gapSkipped) {
                    #expect(chunk.newDataOffset >= state.end)
                } else {
                    #expect(chunk.newDataOffset == state.end)
                }
                state.end = chunk.newDataOffset + UInt64(chunk.newData.count)
                if config.depthBytes > 0 { #expect(state.end <= UInt64(config.depthBytes)) }
                streams[stream] = state
            }
            let counters = r.counters
            exercised.gapsSkipped += counters.gapsSkipped
            exercised.unbufferedChunks += counters.unbufferedChunks
            exercised.outOfOrderHeld += counters.outOfOrderHeld
            exercised.outOfOrderDropped += counters.outOfOrderDropped
            exercised.depthReached += counters.depthReached
            for slot in 0..<3 { r.release(slot: Int32(slot)) }
            #expect(r.memoryBytes == 0)
        }
        // The limits were really reached, so the paths above were taken.
        #expect(exercised.gapsSkipped > 0 && exercised.unbufferedChunks > 0 && exercised.outOfOrderHeld > 0)
        #expect(exercised.outOfOrderDropped > 0 && exercised.depthReached > 0)
    }

    /// Garbage: random slots, flow IDs, flags, sequence numbers and lengths, with tiny
    /// limits. Nothing traps, chunks are well formed, memory stays under the memcap,
    /// and releasing every slot returns it all.
    @Test(arguments: 0..<4 as Range<UInt64>)
    func hostileSegmentsNeverBreakTheBounds(seed: UInt64) {
        var rng = SplitMix64(seed: 0xBAD0_0000 + seed)
        let config = StreamConfig(depthBytes: Int.random(in: 0...100_000, using: &rng),
                                  windowBytes: Int.random(in: 0...2000, using: &rng),
                                  outOfOrderBytes: Int.random(in: 0...70_000, using: &rng),
                                  memcapBytes: Int.random(in: 0...500_000, using: &rng))
        let flows = 64
        let r = StreamReassembler(config: config, flowCapacity: flows)
        let noise = randomStreamBytes(70_000, using: &rng)
        var anchors = (0..<flows).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
        var flowIDs = (0..<flows).map { UInt64($0) }
        for _ in 0..<60_000 {
            let slot = Int32.random(in: -2...Int32(flows + 1), using: &rng)
            let index = Int(max(0, min(slot, Int32(flows - 1))))
            let anchor = anchors[index]
            if Int.random(in: 0..<500, using: &rng) == 0 { flowIDs[index] &+= 1000 }
            let sequence: UInt32 = switch Int.random(in: 0..<4, using: &rng) {
            case 0: UInt32.random(in: 0...UInt32.max, using: &rng)
            case 1: anchor &+ UInt32(bitPattern: Int32.random(in: Int32.min...Int32.max, using: &rng))
            default: anchor &+ UInt32.random(in: 0...150_000, using: &rng)
            }
            let length = Int.random(in: 0..<10, using: &rng) == 0
                ? Int.random(in: 0...noise.count, using: &rng) : Int.random(in: 0...1500, using: &rng)
            let offset = Int.random(in: 0...(noise.count - length), using: &rng)
            let chunk = noise[offset..<offset + length].withUnsafeBytes { payload in
                r.segment(slot: slot, flowID: flowIDs[index],
                          newFlow: Int.random(in: 0..<500, using: &rng) == 0,
                          direction: Bool.random(using: &rng) ? .toServer : .toClient, sequence: sequence,
                          syn: Int.random(in: 0..<30, using: &rng) == 0, fin: Bool.random(using: &rng),
                          rst: Int.random(in: 0..<200, using: &rng) == 0, payload: payload).map {
                    ($0.bytes.count, $0.newDataStart)
                }
            }
            if let (count, newDataStart) = chunk {
                #expect(newDataStart <= config.windowBytes && newDataStart < count)
            }
            #expect(r.memoryBytes <= config.memcapBytes)
            if Int.random(in: 0..<1000, using: &rng) == 0 {
                r.release(slot: Int32.random(in: 0..<Int32(flows), using: &rng))
            }
            if Int.random(in: 0..<3000, using: &rng) == 0 {
                anchors[Int.random(in: 0..<flows, using: &rng)] = UInt32.random(in: 0...UInt32.max, using: &rng)
            }
        }
        for slot in 0..<flows { r.release(slot: Int32(slot)) }
        #expect(r.memoryBytes == 0 && r.counters.activeBuffers == 0)
    }
}
