#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import SocfwCapture

/// Opt-in throughput check (`SOCFW_CAPTURE_BENCH=1 swift test -c release
/// --filter Throughput`): offline mode must read several million packets
/// per second on one core, which rules out allocating per packet.
@Suite struct ThroughputTests {
    @Test("iterating a large capture reads millions of packets per second",
          .enabled(if: getenv("SOCFW_CAPTURE_BENCH") != nil, "set SOCFW_CAPTURE_BENCH=1, build with -c release"),
          arguments: [WriterKind.pcapNanoseconds, .pcapng])
    func throughput(kind: WriterKind) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.file("bench")
        let packets = 5_000_000
        let frame = pattern(64, seed: 1)
        switch kind {
        case .pcapng:
            let writer = try PcapNGWriter(path: path, linkType: .ethernet)
            for i in 0..<packets { try writer.write(timestampNanoseconds: Int64(i) * 1000, frame: frame) }
            try writer.close()
        default:
            let writer = try PcapWriter(path: path, linkType: .ethernet)
            for i in 0..<packets { try writer.write(timestampNanoseconds: Int64(i) * 1000, frame: frame) }
            try writer.close()
        }
        let file = try CaptureFile(path: path)

        let clock = ContinuousClock()
        var iterator = file.makeRecordIterator()
        var bytes = 0
        let iterated = try clock.measure {
            while let record = try iterator.next() { bytes &+= record.capturedLength }
        }
        var sum = 0
        let visited = try clock.measure {
            try file.forEachRecord { record, frame in sum &+= Int(frame[0]) &+ record.capturedLength }
        }
        func rate(_ duration: Duration) -> Double {
            Double(packets) / (Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18) / 1e6
        }
        print("\(kind): next() \(rate(iterated)) Mpps, forEachRecord \(rate(visited)) Mpps")
        #expect(bytes == packets * 64)
        #expect(rate(iterated) > 3)
    }
}
