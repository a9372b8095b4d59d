#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import SocfwCapture

/// An input that must fail, the exact error, and words its description must contain.
struct ErrorCase: CustomStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var expected: CaptureError
    var mentions: [String]
    var description: String { name }
}

private func pcapHeader(major: UInt16 = 2, minor: UInt16 = 4) -> [UInt8] {
    pcapFile(major: major, minor: minor, records: []).bytes
}

/// A record header claiming `captured` bytes.
private func pcapRecordHeader(captured: UInt32) -> [UInt8] {
    var b = ByteBuilder()
    b.u32(1)
    b.u32(0)
    b.u32(captured)
    b.u32(captured)
    return b.bytes
}

/// A little-endian pcapng prefix (SHB + one ethernet IDB) and its length.
private func pcapngPrefix() -> [UInt8] {
    var ng = PcapNGBuilder()
    ng.section(bigEndian: false)
    ng.interface(linkType: 1)
    return ng.bytes
}

/// A raw block with a caller-chosen header length and trailer.
private func rawBlock(type: UInt32, length: UInt32, body: [UInt8], trailer: UInt32) -> [UInt8] {
    var b = ByteBuilder()
    b.u32(type)
    b.u32(length)
    b.raw(body)
    b.u32(trailer)
    return b.bytes
}

private let ngPrefix = pcapngPrefix()
private let oneRecord = pcapFile(records: [PcapFixtureRecord(seconds: 1, fraction: 2, frame: pattern(10, seed: 1))]).bytes

@Suite struct CaptureErrorTests {
    static let cases: [ErrorCase] = [
        ErrorCase(
            name: "not a capture", bytes: Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 40),
            expected: .notACapture(firstBytes: 0x4749_4638), mentions: ["47494638", "bytes 0-3"]),
        ErrorCase(name: "empty file", bytes: [], expected: .truncatedHeader(offset: 0), mentions: ["byte 0"]),
        ErrorCase(
            name: "pcap header cut short", bytes: Array(pcapHeader().prefix(10)),
            expected: .truncatedHeader(offset: 10), mentions: ["byte 10", "header"]),
        ErrorCase(
            name: "pcapng section header cut short", bytes: Array(ngPrefix.prefix(20)),
            expected: .truncatedHeader(offset: 20), mentions: ["byte 20"]),
        ErrorCase(
            name: "pcapng section header options cut short",
            bytes: {
                var ng = PcapNGBuilder()
                ng.section(bigEndian: false, options: [.init(code: 4, value: Array("writer".utf8))])
                return Array(ng.bytes.prefix(30))
            }(),
            expected: .truncatedHeader(offset: 30), mentions: ["byte 30"]),
        ErrorCase(
            name: "pcap record header cut short", bytes: oneRecord + [1, 2, 3, 4, 5],
            expected: .truncatedRecord(index: 1, offset: 50, needed: 16, available: 5),
            mentions: ["record 1", "byte 50", "16", "5"]),
        ErrorCase(
            name: "pcap frame cut short", bytes: oneRecord + pcapRecordHeader(captured: 100) + pattern(10, seed: 2),
            expected: .truncatedRecord(index: 1, offset: 50, needed: 116, available: 26),
            mentions: ["record 1", "byte 50", "116", "26"]),
        ErrorCase(
            name: "pcapng block cut short", bytes: ngPrefix + Array(rawBlock(type: 6, length: 64, body: [], trailer: 64).prefix(8)) + [0, 0, 0, 0],
            expected: .truncatedRecord(index: 0, offset: ngPrefix.count, needed: 64, available: 12),
            mentions: ["record 0", "byte \(ngPrefix.count)", "64", "12"]),
        ErrorCase(
            name: "pcapng trailing bytes shorter than a block", bytes: ngPrefix + [6, 0, 0],
            expected: .truncatedRecord(index: 0, offset: ngPrefix.count, needed: 12, available: 3),
            mentions: ["record 0", "byte \(ngPrefix.count)"]),
        ErrorCase(
            name: "pcap captured length beyond any snaplen", bytes: pcapHeader() + pcapRecordHeader(captured: 0x7FFF_FFFF),
            expected: .badRecord(
                index: 0, offset: 24,
                reason: "captured length 2147483647 exceeds the snapshot length 65535 and the 262144-byte maximum"),
            mentions: ["record 0 at byte 24", "2147483647"]),
        ErrorCase(
            name: "pcapng trailer disagrees", bytes: ngPrefix + rawBlock(type: 0x7777, length: 16, body: [0, 0, 0, 0], trailer: 20),
            expected: .badRecord(index: 0, offset: ngPrefix.count,
                                 reason: "block trailer length 20 does not match header length 16"),
            mentions: ["record 0 at byte \(ngPrefix.count)", "trailer"]),
        ErrorCase(
            name: "pcapng length not a multiple of 4", bytes: ngPrefix + rawBlock(type: 0x7777, length: 14, body: [0, 0], trailer: 14),
            expected: .badRecord(index: 0, offset: ngPrefix.count, reason: "block total length 14 is not a multiple of 4"),
            mentions: ["multiple of 4"]),
        ErrorCase(
            name: "pcapng length below the minimum", bytes: ngPrefix + rawBlock(type: 0x7777, length: 8, body: [0, 0, 0, 0], trailer: 8),
            expected: .badRecord(index: 0, offset: ngPrefix.count, reason: "block total length 8 is less than the minimum of 12"),
            mentions: ["less than"]),
        ErrorCase(
            name: "pcapng absurd block length", bytes: ngPrefix + rawBlock(type: 6, length: 0x7FFF_FFF0, body: [], trailer: 0),
            expected: .badRecord(index: 0, offset: ngPrefix.count,
                                 reason: "block total length 2147483632 exceeds the 16777216-byte limit"),
            mentions: ["limit"]),
        ErrorCase(
            name: "EPB before any interface",
            bytes: {
                var ng = PcapNGBuilder()
                ng.section(bigEndian: false)
                ng.enhancedPacket(interface: 0, timestamp: 0, frame: [1])
                return ng.bytes
            }(),
            expected: .badRecord(index: 0, offset: 28, reason: "packet refers to interface 0 but the section describes 0"),
            mentions: ["record 0 at byte 28", "interface 0"]),
        ErrorCase(
            name: "SPB before any interface",
            bytes: {
                var ng = PcapNGBuilder()
                ng.section(bigEndian: false)
                ng.simplePacket(frame: [1])
                return ng.bytes
            }(),
            expected: .badRecord(index: 0, offset: 28,
                                 reason: "simple packet block before any interface description in its section"),
            mentions: ["record 0 at byte 28"]),
        ErrorCase(
            name: "EPB captured length beyond its block",
            bytes: ngPrefix + rawBlock(type: 6, length: 36, body: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 9, 0, 0, 0, 1, 2, 3, 4], trailer: 36),
            expected: .badRecord(index: 0, offset: ngPrefix.count,
                                 reason: "captured length 9 exceeds the block's 4 bytes of packet data"),
            mentions: ["captured length 9"]),
        ErrorCase(
            name: "EPB too short for its fields", bytes: ngPrefix + rawBlock(type: 6, length: 16, body: [0, 0, 0, 0], trailer: 16),
            expected: .badRecord(index: 0, offset: ngPrefix.count, reason: "packet block length 16 is less than 32"),
            mentions: ["16"]),
        ErrorCase(
            name: "second section with a bad byte-order magic",
            bytes: {
                var b = pcapngPrefix()
                var ng = PcapNGBuilder()
                ng.section(bigEndian: false)
                ng.bytes[8] = 0x99
                b += ng.bytes
                return b
            }(),
            expected: .badRecord(index: 0, offset: ngPrefix.count,
                                 reason: "section header byte-order magic 0x993c2b1a is not 1a2b3c4d in either byte order"),
            mentions: ["993c2b1a"]),
        ErrorCase(
            name: "interface option overruns its block",
            bytes: {
                var ng = PcapNGBuilder()
                ng.section(bigEndian: false)
                ng.block(type: 1) { b in
                    b.u16(1)
                    b.u16(0)
                    b.u32(0)
                    b.u16(9)
                    b.u16(200)
                }
                return ng.bytes
            }(),
            expected: .badRecord(index: 0, offset: 28, reason: "interface option 9 of length 200 at byte 44 overruns the block"),
            mentions: ["option 9"]),
        ErrorCase(
            name: "if_tsresol of the wrong length",
            bytes: {
                var ng = PcapNGBuilder()
                ng.section(bigEndian: false)
                ng.block(type: 1) { b in
                    b.u16(1)
                    b.u16(0)
                    b.u32(0)
                    b.u16(9)
                    b.u16(2)
                    b.raw([6, 0])
                }
                return ng.bytes
            }(),
            expected: .badRecord(index: 0, offset: 28, reason: "if_tsresol option has length 2, expected 1"),
            mentions: ["if_tsresol"]),
        ErrorCase(
            name: "pcap version 3", bytes: pcapHeader(major: 3, minor: 0),
            expected: .unsupportedVersion(major: 3, minor: 0), mentions: ["3.0"]),
        ErrorCase(
            name: "pcap version 2.5", bytes: pcapHeader(major: 2, minor: 5),
            expected: .unsupportedVersion(major: 2, minor: 5), mentions: ["2.5"]),
        ErrorCase(
            name: "pcapng version 2",
            bytes: {
                var ng = PcapNGBuilder()
                ng.section(bigEndian: true, major: 2)
                return ng.bytes
            }(),
            expected: .unsupportedVersion(major: 2, minor: 0), mentions: ["2.0"]),
        ErrorCase(
            name: "pcapng later section version 1.3",
            bytes: {
                var ng = PcapNGBuilder()
                ng.section(bigEndian: false)
                ng.section(bigEndian: true, minor: 3)
                return ng.bytes
            }(),
            expected: .unsupportedVersion(major: 1, minor: 3), mentions: ["1.3"]),
    ]

    @Test("malformed input produces the right error, and its description names where", arguments: cases)
    func malformedInput(_ c: ErrorCase) {
        let error = readError(c.bytes)
        #expect(error == c.expected)
        let text = c.expected.description
        for word in c.mentions {
            #expect(text.contains(word), "\(text) should mention \(word)")
        }
    }

    @Test("after an error the iterator keeps throwing it")
    func errorsAreSticky() throws {
        let bytes = oneRecord + [1, 2, 3]
        var iterator = try CaptureFile(bytes: bytes).makeRecordIterator()
        #expect(try iterator.next() != nil)
        let expected = CaptureError.truncatedRecord(index: 1, offset: 50, needed: 16, available: 3)
        #expect(throws: expected) { try iterator.next() }
        #expect(throws: expected) { try iterator.next() }
    }

    @Test("a missing file is cannotOpen with ENOENT and names the path")
    func missingFile() {
        let path = "/nonexistent/socfw/capture.pcap"
        #expect(throws: CaptureError.cannotOpen(path: path, errno: ENOENT)) { try CaptureFile(path: path) }
        let text = CaptureError.cannotOpen(path: path, errno: ENOENT).description
        #expect(text.contains(path) && text.contains("errno 2"), "\(text)")
    }

    @Test("reading a directory is cannotOpen with EISDIR")
    func directoryIsNotACapture() {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        #expect(throws: CaptureError.cannotOpen(path: directory.path, errno: EISDIR)) {
            try CaptureFile(path: directory.path)
        }
    }

    @Test("a writer that cannot create its file is cannotOpen")
    func writerCannotCreate() {
        let path = "/nonexistent/socfw/out.pcap"
        #expect(throws: CaptureError.cannotOpen(path: path, errno: ENOENT)) {
            try PcapWriter(path: path, linkType: .ethernet)
        }
        #expect(throws: CaptureError.cannotOpen(path: path, errno: ENOENT)) {
            try PcapNGWriter(path: path, linkType: .ethernet)
        }
    }

    @Test("a write to a full device is cannotWrite with ENOSPC", .enabled(if: access("/dev/full", W_OK) == 0))
    func writeToFullDevice() throws {
        let writer = try PcapNGWriter(path: "/dev/full", linkType: .ethernet)
        try writer.write(timestampNanoseconds: 1, frame: [1, 2, 3])
        #expect(throws: CaptureError.cannotWrite(path: "/dev/full", errno: ENOSPC)) { try writer.close() }
        let text = CaptureError.cannotWrite(path: "/dev/full", errno: ENOSPC).description
        #expect(text.contains("/dev/full") && text.contains("errno \(ENOSPC)"), "\(text)")
    }

    @Test("writing after close is cannotWrite with EBADF; closing twice is harmless")
    func writeAfterClose() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.file("closed")
        let writer = try PcapWriter(path: path, linkType: .ethernet)
        try writer.close()
        try writer.close()
        #expect(throws: CaptureError.cannotWrite(path: path, errno: EBADF)) {
            try writer.write(timestampNanoseconds: 1, frame: [1])
        }
        #expect(try readAll(CaptureFile(path: path)).isEmpty)
    }
}
