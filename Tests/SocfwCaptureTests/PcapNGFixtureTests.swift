import Testing
import SocfwCapture

/// Hand-built pcapng files, one feature of draft-ietf-opsawg-pcapng each.
@Suite struct PcapNGFixtureTests {
    static let seconds: Int64 = 1_700_000_000

    @Test("two interfaces with different link types and if_tsresol (10^-6 and 2^-10)", arguments: [false, true])
    func twoInterfacesWithOwnResolution(bigEndian: Bool) throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: bigEndian)
        ng.interface(linkType: 1, tsresol: 6)
        ng.interface(linkType: 101, tsresol: 0x8A)
        let a = pattern(60, seed: 1), b = pattern(41, seed: 2), c = pattern(3, seed: 3)
        ng.enhancedPacket(interface: 0, timestamp: UInt64(Self.seconds) * 1_000_000 + 123_456, frame: a)
        // 2^-10 s units: 512 of them are half a second.
        ng.enhancedPacket(interface: 1, timestamp: UInt64(Self.seconds) * 1024 + 512, frame: b, originalLength: 1000)
        ng.enhancedPacket(interface: 1, timestamp: UInt64(Self.seconds) * 1024 + 1, frame: c, comment: true)

        let file = try CaptureFile(bytes: ng.bytes)
        #expect(file.format == .pcapng)
        #expect(try readAll(file) == [
            ExpectedRecord(timestampNanoseconds: Self.seconds * 1_000_000_000 + 123_456_000, linkType: .ethernet,
                           frame: a, originalLength: 60),
            ExpectedRecord(timestampNanoseconds: Self.seconds * 1_000_000_000 + 500_000_000, linkType: .raw,
                           frame: b, originalLength: 1000),
            // 1/1024 s = 976562.5 ns, truncated.
            ExpectedRecord(timestampNanoseconds: Self.seconds * 1_000_000_000 + 976_562, linkType: .raw,
                           frame: c, originalLength: 3),
        ])
    }

    @Test("without if_tsresol timestamps are microseconds; if_tsoffset adds seconds")
    func defaultResolutionAndOffset() throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: false)
        ng.interface(linkType: 1)
        ng.interface(linkType: 1, tsresol: 9, tsoffset: 100)
        ng.enhancedPacket(interface: 0, timestamp: 2_000_001, frame: [1])
        ng.enhancedPacket(interface: 1, timestamp: 7, frame: [2])
        #expect(try readAll(ng.bytes).map(\.timestampNanoseconds) == [2_000_001_000, 100_000_000_007])
    }

    static let resolutions: [(tsresol: UInt8, units: UInt64, nanoseconds: Int64)] = [
        (0, 3, 3_000_000_000),
        (3, 3, 3_000_000),
        (9, 3, 3),
        (12, 3_000_999, 3_000),
        (0x80, 5, 5_000_000_000),
        (0x80 | 20, 1 << 20, 1_000_000_000),
        (0x80 | 30, 3 << 30, 3_000_000_000),
        (0x80 | 64, UInt64.max, 999_999_999),
        (40, UInt64.max, 0),
    ]

    @Test("if_tsresol converts every power of 10 and of 2 to nanoseconds", arguments: resolutions)
    func timestampResolutions(tsresol: UInt8, units: UInt64, nanoseconds: Int64) throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: false)
        ng.interface(linkType: 1, tsresol: tsresol)
        ng.enhancedPacket(interface: 0, timestamp: units, frame: [])
        #expect(try readAll(ng.bytes).map(\.timestampNanoseconds) == [nanoseconds])
    }

    @Test("timestamps beyond Int64 nanoseconds saturate instead of trapping")
    func timestampsSaturate() throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: false)
        ng.interface(linkType: 1, tsresol: 0, tsoffset: Int64.max)
        ng.interface(linkType: 1, tsresol: 9, tsoffset: Int64.min)
        ng.enhancedPacket(interface: 0, timestamp: UInt64.max, frame: [])
        ng.enhancedPacket(interface: 1, timestamp: 0, frame: [])
        #expect(try readAll(ng.bytes).map(\.timestampNanoseconds) == [Int64.max, Int64.min])
    }

    @Test("name resolution, statistics, custom and unknown blocks between packets are skipped")
    func nonPacketBlocksSkipped() throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: false)
        ng.nameResolution()
        ng.interface(linkType: 1, tsresol: 9)
        ng.enhancedPacket(interface: 0, timestamp: 1, frame: pattern(14, seed: 1))
        ng.nameResolution()
        ng.statistics(interface: 0)
        ng.customAndUnknown()
        ng.enhancedPacket(interface: 0, timestamp: 2, frame: pattern(15, seed: 2))
        ng.statistics(interface: 0)
        var iterator = try CaptureFile(bytes: ng.bytes).makeRecordIterator()
        var seen: [(Int, Int64, Int)] = []
        while let r = try iterator.next() { seen.append((r.index, r.timestampNanoseconds, r.capturedLength)) }
        #expect(seen.map(\.0) == [0, 1])
        #expect(seen.map(\.1) == [1, 2])
        #expect(seen.map(\.2) == [14, 15])
    }

    @Test("simple packet blocks use interface 0, its snaplen, and the previous timestamp")
    func simplePacketBlocks() throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: true)
        ng.interface(linkType: 101, snapLength: 64, tsresol: 9)
        let long = pattern(64, seed: 1), short = pattern(5, seed: 2)
        ng.simplePacket(frame: short)  // before any timestamp: 0
        ng.enhancedPacket(interface: 0, timestamp: 777, frame: [0x45])
        ng.simplePacket(frame: long, originalLength: 1500)  // data cut at snaplen 64
        ng.simplePacket(frame: short)  // 3 bytes of padding must not count
        #expect(try readAll(ng.bytes) == [
            ExpectedRecord(timestampNanoseconds: 0, linkType: .raw, frame: short, originalLength: 5),
            ExpectedRecord(timestampNanoseconds: 777, linkType: .raw, frame: [0x45], originalLength: 1),
            ExpectedRecord(timestampNanoseconds: 777, linkType: .raw, frame: long, originalLength: 1500),
            ExpectedRecord(timestampNanoseconds: 777, linkType: .raw, frame: short, originalLength: 5),
        ])
    }

    @Test("the obsolete Packet Block is read like an Enhanced Packet Block")
    func obsoletePacketBlock() throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: false)
        ng.interface(linkType: 113, tsresol: 9)
        ng.interface(linkType: 1, tsresol: 9)
        ng.obsoletePacket(interface: 1, timestamp: 99, frame: pattern(20, seed: 1))
        #expect(try readAll(ng.bytes) == [
            ExpectedRecord(timestampNanoseconds: 99, linkType: .ethernet, frame: pattern(20, seed: 1), originalLength: 20)
        ])
    }

    @Test("a second section may switch byte order and starts a fresh interface list", arguments: [false, true])
    func secondSectionOtherByteOrder(firstBigEndian: Bool) throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: firstBigEndian, options: [.init(code: 4, value: Array("socfw tests".utf8))])
        ng.interface(linkType: 1, tsresol: 9)
        ng.interface(linkType: 113, tsresol: 9)
        ng.enhancedPacket(interface: 1, timestamp: 10, frame: [1, 2, 3])
        ng.section(bigEndian: !firstBigEndian, minor: 2)
        ng.interface(linkType: 229, tsresol: 3)
        ng.enhancedPacket(interface: 0, timestamp: 20, frame: [0x60, 0, 0, 0, 9])
        ng.section(bigEndian: firstBigEndian)
        ng.interface(linkType: 276, tsresol: 9)
        ng.simplePacket(frame: [7, 7])
        #expect(try readAll(ng.bytes) == [
            ExpectedRecord(timestampNanoseconds: 10, linkType: .linuxSLL, frame: [1, 2, 3], originalLength: 3),
            ExpectedRecord(timestampNanoseconds: 20_000_000, linkType: .ipv6, frame: [0x60, 0, 0, 0, 9], originalLength: 5),
            ExpectedRecord(timestampNanoseconds: 20_000_000, linkType: .linuxSLL2, frame: [7, 7], originalLength: 2),
        ])
    }

    @Test("a packet may not use an interface from an earlier section")
    func interfacesDoNotOutliveTheirSection() throws {
        var ng = PcapNGBuilder()
        ng.section(bigEndian: false)
        ng.interface(linkType: 1)
        ng.interface(linkType: 1)
        ng.section(bigEndian: true)
        ng.interface(linkType: 1)
        let offset = ng.bytes.count
        ng.enhancedPacket(interface: 1, timestamp: 0, frame: [])
        let error = readError(ng.bytes)
        #expect(error == .badRecord(index: 0, offset: offset,
                                    reason: "packet refers to interface 1 but the section describes 1"))
    }
}
