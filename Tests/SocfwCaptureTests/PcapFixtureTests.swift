import Testing
import SocfwCapture

/// Hand-built classic pcap files, one feature of pcap-savefile(5) each.
@Suite struct PcapFixtureTests {
    static let records = [
        PcapFixtureRecord(seconds: 1_700_000_000, fraction: 250_000, frame: pattern(60, seed: 1)),
        PcapFixtureRecord(seconds: 1_700_000_001, fraction: 999_999, frame: pattern(1, seed: 2), originalLength: 1500),
        PcapFixtureRecord(seconds: 0, fraction: 0, frame: []),
        PcapFixtureRecord(seconds: UInt32.max, fraction: 7, frame: pattern(77, seed: 4)),
    ]

    static func expected(nanosecond: Bool, linkType: LinkType) -> [ExpectedRecord] {
        records.map { r in
            ExpectedRecord(
                timestampNanoseconds: Int64(r.seconds) * 1_000_000_000 + Int64(r.fraction) * (nanosecond ? 1 : 1_000),
                linkType: linkType, frame: r.frame, originalLength: Int(r.originalLength ?? UInt32(r.frame.count)))
        }
    }

    @Test(
        "pcap files in either byte order and either resolution read the same",
        arguments: [(false, false), (false, true), (true, false), (true, true)])
    func byteOrderAndResolution(bigEndian: Bool, nanosecond: Bool) throws {
        let file = pcapFile(bigEndian: bigEndian, nanosecond: nanosecond, linkType: 101, records: Self.records)
        let captured = try CaptureFile(bytes: file.bytes)
        #expect(captured.format == .pcap)
        #expect(try readAll(captured) == Self.expected(nanosecond: nanosecond, linkType: .raw))
    }

    @Test("a big-endian file starts with the magic in network order")
    func bigEndianMagicIsNetworkOrder() {
        let file = pcapFile(bigEndian: true, records: [])
        #expect(Array(file.bytes[0..<4]) == [0xA1, 0xB2, 0xC3, 0xD4])
    }

    @Test("record indices and data offsets point at each frame in the file")
    func recordOffsets() throws {
        let file = pcapFile(records: Self.records)
        var iterator = try CaptureFile(bytes: file.bytes).makeRecordIterator()
        var offsets: [Int] = []
        var indices: [Int] = []
        while let record = try iterator.next() {
            offsets.append(record.dataOffset)
            indices.append(record.index)
        }
        #expect(indices == [0, 1, 2, 3])
        #expect(offsets == file.boundaries.dropLast().map { $0 + 16 })
        #expect(try iterator.next() == nil)  // stays at the end
    }

    @Test("the FCS bits above the 16-bit link type are ignored")
    func linkTypeUpperBitsIgnored() throws {
        let file = pcapFile(linkType: 0x1400_0001, records: [Self.records[0]])
        #expect(try readAll(file.bytes).map(\.linkType) == [.ethernet])
    }

    @Test("files older than 2.3 have the two length fields the other way round")
    func oldVersionsSwapLengths() throws {
        for minor: UInt16 in [2, 3] {
            var b = ByteBuilder()
            b.raw(pcapFile(minor: minor, records: []).bytes)
            b.u32(10)
            b.u32(20)
            b.u32(100)  // original length first in 2.2; 2.3 files written this way have caplen > len
            b.u32(8)
            b.raw(pattern(8, seed: 9))
            let read = try readAll(b.bytes)
            #expect(read.map(\.frame.count) == [8], "2.\(minor)")
            #expect(read.map(\.originalLength) == [100], "2.\(minor)")
        }
    }

    @Test("a captured length above the header's snaplen but within libpcap's maximum is accepted")
    func snapLengthIsAdvisory() throws {
        let frame = pattern(200, seed: 5)
        let file = pcapFile(snapLength: 64, records: [PcapFixtureRecord(seconds: 1, fraction: 0, frame: frame)])
        #expect(try readAll(file.bytes).map(\.frame) == [frame])
    }
}
