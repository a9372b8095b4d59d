#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SocfwCapture

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence
/// on every run and platform, so fuzz failures reproduce from the seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Appends integers in a chosen byte order, for hand-built fixtures.
struct ByteBuilder {
    var bytes: [UInt8] = []
    var bigEndian = false

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { append(bigEndian ? value.bigEndian : value.littleEndian) }
    mutating func u32(_ value: UInt32) { append(bigEndian ? value.bigEndian : value.littleEndian) }
    mutating func u64(_ value: UInt64) { append(bigEndian ? value.bigEndian : value.littleEndian) }
    mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }
    mutating func padTo4() { while bytes.count % 4 != 0 { bytes.append(0) } }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }
}

/// A record as the tests expect to read it back.
struct ExpectedRecord: Equatable, CustomStringConvertible {
    var timestampNanoseconds: Int64
    var linkType: LinkType
    var frame: [UInt8]
    var originalLength: Int

    var description: String {
        "ts=\(timestampNanoseconds) \(linkType) caplen=\(frame.count) len=\(originalLength)"
    }
}

/// Reads every record of `bytes`, copying out the frames.
func readAll(_ bytes: [UInt8]) throws(CaptureError) -> [ExpectedRecord] {
    try readAll(CaptureFile(bytes: bytes))
}

func readAll(_ file: CaptureFile) throws(CaptureError) -> [ExpectedRecord] {
    var iterator = file.makeRecordIterator()
    var records: [ExpectedRecord] = []
    while let record = try iterator.next() {
        precondition(record.index == records.count, "record index \(record.index) out of sequence")
        records.append(
            ExpectedRecord(
                timestampNanoseconds: record.timestampNanoseconds, linkType: record.linkType,
                frame: Array(file.bytes[record.dataRange]), originalLength: record.originalLength))
    }
    return records
}

/// The error a read throws, or nil if it read to a clean end.
func readError(_ bytes: [UInt8]) -> CaptureError? {
    do {
        _ = try readAll(bytes)
        return nil
    } catch {
        return error
    }
}

/// Deterministic filler bytes for a frame of `length`.
func pattern(_ length: Int, seed: UInt8) -> [UInt8] {
    (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
}

// MARK: - pcap fixtures

/// One record for `pcapFile`: seconds, fraction (µs or ns per the magic),
/// frame, and an original length if it differs from the frame's.
struct PcapFixtureRecord {
    var seconds: UInt32
    var fraction: UInt32
    var frame: [UInt8]
    var originalLength: UInt32?
}

/// A classic pcap file built field by field, independent of `PcapWriter`.
/// `boundaries` lists every offset at which a file cut short is still
/// valid (after the header and after each record).
func pcapFile(
    bigEndian: Bool = false, nanosecond: Bool = false, major: UInt16 = 2, minor: UInt16 = 4,
    snapLength: UInt32 = 65535, linkType: UInt32 = 1, records: [PcapFixtureRecord]
) -> (bytes: [UInt8], boundaries: [Int]) {
    var b = ByteBuilder(bigEndian: bigEndian)
    b.u32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
    b.u16(major)
    b.u16(minor)
    b.u32(0)
    b.u32(0)
    b.u32(snapLength)
    b.u32(linkType)
    var boundaries = [b.bytes.count]
    for record in records {
        b.u32(record.seconds)
        b.u32(record.fraction)
        b.u32(UInt32(record.frame.count))
        b.u32(record.originalLength ?? UInt32(record.frame.count))
        b.raw(record.frame)
        boundaries.append(b.bytes.count)
    }
    return (b.bytes, boundaries)
}

// MARK: - pcapng fixtures

/// Builds pcapng files block by block, independent of `PcapNGWriter`, in
/// whichever byte order the current section uses. `boundaries` lists the
/// offset after each block.
struct PcapNGBuilder {
    var bytes: [UInt8] = []
    var bigEndian = false
    var boundaries: [Int] = []

    /// An option: code, value (padded here).
    struct Option {
        var code: UInt16
        var value: [UInt8]
    }

    /// A generic block: type, total length, body padded to 32 bits, total length.
    mutating func block(type: UInt32, body: (inout ByteBuilder) -> Void) {
        var inner = ByteBuilder(bigEndian: bigEndian)
        body(&inner)
        inner.padTo4()
        var b = ByteBuilder(bigEndian: bigEndian)
        let length = UInt32(12 + inner.bytes.count)
        b.u32(type)
        b.u32(length)
        b.raw(inner.bytes)
        b.u32(length)
        bytes += b.bytes
        boundaries.append(bytes.count)
    }

    static func options(_ options: [Option], into b: inout ByteBuilder) {
        guard !options.isEmpty else { return }
        for option in options {
            b.u16(option.code)
            b.u16(UInt16(option.value.count))
            b.raw(option.value)
            b.padTo4()
        }
        b.u16(0)  // opt_endofopt
        b.u16(0)
    }

    mutating func section(bigEndian: Bool, major: UInt16 = 1, minor: UInt16 = 0, options: [Option] = []) {
        self.bigEndian = bigEndian
        block(type: 0x0A0D_0D0A) { b in
            b.u32(0x1A2B_3C4D)
            b.u16(major)
            b.u16(minor)
            b.u64(UInt64.max)  // section length unknown
            Self.options(options, into: &b)
        }
    }

    mutating func interface(linkType: UInt16, snapLength: UInt32 = 0, tsresol: UInt8? = nil, tsoffset: Int64? = nil) {
        var options: [Option] = [Option(code: 2, value: Array("eth0".utf8))]  // if_name, to be skipped
        if let tsresol { options.append(Option(code: 9, value: [tsresol])) }
        if let tsoffset {
            var v = ByteBuilder(bigEndian: bigEndian)
            v.u64(UInt64(bitPattern: tsoffset))
            options.append(Option(code: 14, value: v.bytes))
        }
        block(type: 1) { b in
            b.u16(linkType)
            b.u16(0)
            b.u32(snapLength)
            Self.options(options, into: &b)
        }
    }

    mutating func enhancedPacket(
        interface: UInt32, timestamp: UInt64, frame: [UInt8], originalLength: UInt32? = nil, comment: Bool = false
    ) {
        block(type: 6) { b in
            b.u32(interface)
            b.u32(UInt32(truncatingIfNeeded: timestamp >> 32))
            b.u32(UInt32(truncatingIfNeeded: timestamp))
            b.u32(UInt32(frame.count))
            b.u32(originalLength ?? UInt32(frame.count))
            b.raw(frame)
            b.padTo4()
            if comment { Self.options([Option(code: 1, value: Array("hi".utf8))], into: &b) }
        }
    }

    mutating func simplePacket(frame: [UInt8], originalLength: UInt32? = nil) {
        block(type: 3) { b in
            b.u32(originalLength ?? UInt32(frame.count))
            b.raw(frame)
        }
    }

    mutating func obsoletePacket(interface: UInt16, timestamp: UInt64, frame: [UInt8]) {
        block(type: 2) { b in
            b.u16(interface)
            b.u16(0)  // drops count
            b.u32(UInt32(truncatingIfNeeded: timestamp >> 32))
            b.u32(UInt32(truncatingIfNeeded: timestamp))
            b.u32(UInt32(frame.count))
            b.u32(UInt32(frame.count))
            b.raw(frame)
        }
    }

    /// Name Resolution Block with one IPv4 record, then nrb_record_end.
    mutating func nameResolution() {
        block(type: 4) { b in
            b.u16(1)  // nrb_record_ipv4
            b.u16(4 + 10)
            b.raw([192, 0, 2, 1])
            b.raw(Array("host.test\0".utf8))
            b.padTo4()
            b.u16(0)
            b.u16(0)
        }
    }

    /// Interface Statistics Block for interface `interface`.
    mutating func statistics(interface: UInt32) {
        block(type: 5) { b in
            b.u32(interface)
            b.u32(0)
            b.u32(1000)
        }
    }

    /// A Custom Block (PEN 32473, the documentation PEN) and an unknown type.
    mutating func customAndUnknown() {
        block(type: 0x0000_0BAD) { b in
            b.u32(32473)
            b.raw([1, 2, 3, 4, 5])
        }
        block(type: 0x0000_7777) { b in b.raw([9, 9, 9, 9]) }
    }
}

// MARK: - files

/// A fresh directory under the system temporary directory, removed by `cleanUp`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/socfw-capture-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: errno \(errno)")
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    func file(_ name: String) -> String { path + "/" + name }

    func cleanUp() {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name != "." && name != ".." { unlink(file(name)) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}
