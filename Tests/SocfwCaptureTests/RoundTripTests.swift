import Testing
import SocfwCapture

/// Which writer, and at which resolution.
enum WriterKind: CaseIterable, CustomStringConvertible {
    case pcapNanoseconds
    case pcapMicroseconds
    case pcapng

    var description: String {
        switch self {
        case .pcapNanoseconds: return "pcap/ns"
        case .pcapMicroseconds: return "pcap/µs"
        case .pcapng: return "pcapng"
        }
    }

    var format: CaptureFile.Format { self == .pcapng ? .pcapng : .pcap }

    /// Writes `records` with this writer and returns the file's path.
    func write(
        _ records: [ExpectedRecord], linkType: LinkType, snapLength: UInt32 = 262144, to path: String
    ) throws(CaptureError) {
        switch self {
        case .pcapNanoseconds, .pcapMicroseconds:
            let writer = try PcapWriter(
                path: path, linkType: linkType, nanosecondResolution: self == .pcapNanoseconds, snapLength: snapLength)
            for r in records {
                try writer.write(timestampNanoseconds: r.timestampNanoseconds, frame: r.frame, originalLength: r.originalLength)
            }
            try writer.close()
        case .pcapng:
            let writer = try PcapNGWriter(path: path, linkType: linkType, snapLength: snapLength)
            for r in records {
                try writer.write(timestampNanoseconds: r.timestampNanoseconds, frame: r.frame, originalLength: r.originalLength)
            }
            try writer.close()
        }
    }
}

/// Frames of many sizes (0 to 1600 bytes, so every pcapng padding case
/// occurs) with timestamps the writer's resolution can represent.
func sampleRecords(count: Int, linkType: LinkType, microseconds: Bool) -> [ExpectedRecord] {
    var random = SplitMix64(seed: 42)
    var timestamp: Int64 = 1_700_000_000_123_456_789
    return (0..<count).map { i in
        timestamp += Int64(random.next() % 5_000_000_000)
        let stamp = microseconds ? timestamp / 1_000 * 1_000 : timestamp
        let length = i < 8 ? i : Int(random.next() % 1600)
        let frame = pattern(length, seed: UInt8(truncatingIfNeeded: i))
        let original = i % 5 == 0 ? length + 100 : length  // some "cut at snaplen" on the wire
        return ExpectedRecord(timestampNanoseconds: stamp, linkType: linkType, frame: frame, originalLength: original)
    }
}

@Suite struct RoundTripTests {
    static let cases: [(WriterKind, LinkType)] = WriterKind.allCases.flatMap { kind in
        [LinkType.ethernet, .raw].map { (kind, $0) }
    }

    @Test("writing frames and reading them back yields identical timestamps, lengths and bytes", arguments: cases)
    func writtenFramesReadBackIdentically(kind: WriterKind, linkType: LinkType) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.file("round-trip")
        let records = sampleRecords(count: 200, linkType: linkType, microseconds: kind == .pcapMicroseconds)
        try kind.write(records, linkType: linkType, to: path)

        let file = try CaptureFile(path: path)
        #expect(file.format == kind.format)
        let read = try readAll(file)
        #expect(read.count == records.count)
        for (got, want) in zip(read, records) where got != want {
            Issue.record("read \(got), wrote \(want)")
            break
        }
    }

    @Test("writers cut frames at the snapshot length but keep the original length", arguments: WriterKind.allCases)
    func writersHonourSnapLength(kind: WriterKind) throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.file("snap")
        let frame = pattern(300, seed: 3)
        try kind.write(
            [ExpectedRecord(timestampNanoseconds: 5_000, linkType: .ethernet, frame: frame, originalLength: 300)],
            linkType: .ethernet, snapLength: 101, to: path)
        let read = try readAll(CaptureFile(path: path))
        #expect(read == [ExpectedRecord(timestampNanoseconds: 5_000, linkType: .ethernet,
                                        frame: Array(frame[0..<101]), originalLength: 300)])
    }

    @Test("pcapng keeps timestamps pcap cannot hold; pcap clamps them to its 32-bit seconds")
    func extremeTimestamps() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let stamps: [Int64] = [0, 1, Int64(UInt32.max) * 1_000_000_000 + 999_999_999, Int64.max, -5]
        let records = stamps.map {
            ExpectedRecord(timestampNanoseconds: $0, linkType: .raw, frame: [0x45], originalLength: 1)
        }
        try WriterKind.pcapng.write(records, linkType: .raw, to: directory.file("ng"))
        try WriterKind.pcapNanoseconds.write(records, linkType: .raw, to: directory.file("pcap"))
        let ng = try readAll(CaptureFile(path: directory.file("ng"))).map(\.timestampNanoseconds)
        let pcap = try readAll(CaptureFile(path: directory.file("pcap"))).map(\.timestampNanoseconds)
        let pcapMaximum = Int64(UInt32.max) * 1_000_000_000 + 999_999_999
        #expect(ng == [0, 1, pcapMaximum, Int64.max, 0])
        #expect(pcap == [0, 1, pcapMaximum, pcapMaximum, 0])
    }

    @Test("forEachRecord visits the same records and frames as the iterator")
    func forEachRecordMatchesIterator() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let records = sampleRecords(count: 50, linkType: .ethernet, microseconds: false)
        try WriterKind.pcapng.write(records, linkType: .ethernet, to: directory.file("f"))
        let file = try CaptureFile(path: directory.file("f"))
        var seen: [ExpectedRecord] = []
        try file.forEachRecord { record, frame in
            seen.append(ExpectedRecord(timestampNanoseconds: record.timestampNanoseconds, linkType: record.linkType,
                                       frame: Array(frame), originalLength: record.originalLength))
        }
        #expect(seen == records)
    }

    @Test("an empty capture has no records")
    func emptyCaptureHasNoRecords() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        for (i, kind) in WriterKind.allCases.enumerated() {
            let path = directory.file("empty-\(i)")
            try kind.write([], linkType: .ethernet, to: path)
            #expect(try readAll(CaptureFile(path: path)).isEmpty, "\(kind)")
        }
    }

    @Test("a writer flushes buffered records when it is released without close()")
    func deinitFlushes() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let records = sampleRecords(count: 3, linkType: .ethernet, microseconds: false)
        do {
            let writer = try PcapNGWriter(path: directory.file("f"), linkType: .ethernet)
            for r in records { try writer.write(timestampNanoseconds: r.timestampNanoseconds, frame: r.frame, originalLength: r.originalLength) }
        }
        #expect(try readAll(CaptureFile(path: directory.file("f"))) == records)
    }
}
