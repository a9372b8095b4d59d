import Testing
import SocfwCapture

/// A valid file to mutate, with the offsets at which cutting it still
/// leaves a valid (shorter) file and how many packets precede each.
struct FuzzBase: CustomStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    /// Valid end offsets (after the header and after every block/record) → packets before them.
    var cleanEnds: [Int: Int]
    /// Shortest prefix that `CaptureFile.init` accepts.
    var headerLength: Int
    var description: String { name }

    static let all: [FuzzBase] = [pcapLittleEndian, pcapBigEndian, pcapngSections]

    static let pcapLittleEndian: FuzzBase = {
        let records = (0..<6).map { i in
            PcapFixtureRecord(seconds: UInt32(i), fraction: UInt32(i * 1000), frame: pattern(i * 13 % 70, seed: UInt8(i)))
        }
        let file = pcapFile(nanosecond: true, records: records)
        return FuzzBase(
            name: "pcap little-endian", bytes: file.bytes,
            cleanEnds: Dictionary(uniqueKeysWithValues: file.boundaries.enumerated().map { ($1, $0) }), headerLength: 24)
    }()

    static let pcapBigEndian: FuzzBase = {
        let records = (0..<5).map { i in
            PcapFixtureRecord(seconds: UInt32(i), fraction: 1, frame: pattern(i * 29 % 90, seed: UInt8(i)), originalLength: 2000)
        }
        let file = pcapFile(bigEndian: true, linkType: 113, records: records)
        return FuzzBase(
            name: "pcap big-endian", bytes: file.bytes,
            cleanEnds: Dictionary(uniqueKeysWithValues: file.boundaries.enumerated().map { ($1, $0) }), headerLength: 24)
    }()

    /// Every pcapng block kind, two sections in opposite byte orders.
    static let pcapngSections: FuzzBase = {
        var ng = PcapNGBuilder()
        var packetsBefore: [Int: Int] = [:]
        var packets = 0
        func mark(_ isPacket: Bool) {
            if isPacket { packets += 1 }
            packetsBefore[ng.bytes.count] = packets
        }
        ng.section(bigEndian: false, options: [.init(code: 4, value: Array("fuzz".utf8))]); mark(false)
        let headerLength = ng.bytes.count
        ng.interface(linkType: 1, tsresol: 6); mark(false)
        ng.interface(linkType: 101, tsresol: 0x8A, tsoffset: 5); mark(false)
        ng.enhancedPacket(interface: 0, timestamp: 1_000_000, frame: pattern(42, seed: 1)); mark(true)
        ng.nameResolution(); mark(false)
        ng.enhancedPacket(interface: 1, timestamp: 2048, frame: pattern(7, seed: 2), comment: true); mark(true)
        ng.statistics(interface: 1); mark(false)
        ng.simplePacket(frame: pattern(9, seed: 3)); mark(true)
        ng.section(bigEndian: true); mark(false)
        ng.interface(linkType: 113, snapLength: 30); mark(false)
        ng.obsoletePacket(interface: 0, timestamp: 3, frame: pattern(30, seed: 4)); mark(true)
        ng.customAndUnknown()  // two blocks: the one in between is a clean end too
        packetsBefore[ng.bytes.count - 16] = packets
        mark(false)
        ng.simplePacket(frame: pattern(30, seed: 5), originalLength: 64); mark(true)
        return FuzzBase(name: "pcapng two sections", bytes: ng.bytes, cleanEnds: packetsBefore, headerLength: headerLength)
    }()
}

/// What one read of a (possibly damaged) file did.
struct FuzzOutcome {
    var records = 0
    var error: CaptureError?
    var escaped: String?  // a record outside the bytes, or index out of sequence
}

/// Reads `bytes` to the end or the first error, checking every record lies
/// inside the file. Plain `if`s, not `#expect`, keep 100,000 runs fast.
func fuzzRead(_ bytes: [UInt8]) -> FuzzOutcome {
    var outcome = FuzzOutcome()
    let file: CaptureFile
    do {
        file = try CaptureFile(bytes: bytes)
    } catch {
        outcome.error = error
        return outcome
    }
    var iterator = file.makeRecordIterator()
    do {
        while let record = try iterator.next() {
            if record.dataOffset < 0 || record.capturedLength < 0 || record.originalLength < 0
                || record.dataOffset + record.capturedLength > bytes.count || record.index != outcome.records
            {
                outcome.escaped = "record \(record.index): offset \(record.dataOffset) length \(record.capturedLength) in \(bytes.count) bytes"
                return outcome
            }
            outcome.records += 1
            // Every record consumes at least a 16-byte header; anything
            // more would mean the reader looped.
            if outcome.records > bytes.count / 12 + 1 {
                outcome.escaped = "more records than the file can hold"
                return outcome
            }
        }
    } catch {
        outcome.error = error
    }
    return outcome
}

@Suite struct FuzzTests {
    @Test("cutting a valid file at every length ends cleanly at block boundaries and is an error elsewhere",
          arguments: FuzzBase.all)
    func truncationAtEveryLength(_ base: FuzzBase) {
        for length in 0...base.bytes.count {
            let outcome = fuzzRead(Array(base.bytes.prefix(length)))
            if let escaped = outcome.escaped {
                Issue.record("\(base) cut to \(length): \(escaped)")
                continue
            }
            if length < base.headerLength {
                guard case .truncatedHeader(offset: length) = outcome.error else {
                    Issue.record("\(base) cut to \(length): \(String(describing: outcome.error)), expected truncatedHeader")
                    continue
                }
            } else if let packets = base.cleanEnds[length] {
                if outcome.error != nil || outcome.records != packets {
                    Issue.record("\(base) cut to \(length): \(outcome.records) records, \(String(describing: outcome.error)); expected a clean end after \(packets)")
                }
            } else {
                guard case .truncatedRecord = outcome.error else {
                    Issue.record("\(base) cut to \(length): \(String(describing: outcome.error)), expected truncatedRecord")
                    continue
                }
            }
        }
    }

    @Test("100,000 random byte flips never crash the reader or yield a record outside the file")
    func randomByteFlips() {
        var random = SplitMix64(seed: 0x50CF_C0DE)
        let iterations = 100_000
        var failures = 0
        var errors = 0
        for i in 0..<iterations {
            let base = FuzzBase.all[i % FuzzBase.all.count]
            var bytes = base.bytes
            let flips = 1 + Int(random.next() % 4)
            for _ in 0..<flips {
                let position = Int(random.next() % UInt64(bytes.count))
                bytes[position] ^= UInt8(truncatingIfNeeded: random.next() % 255 + 1)
            }
            if random.next() % 8 == 0 {  // sometimes also cut it short
                bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
            }
            let outcome = fuzzRead(bytes)
            if outcome.error != nil { errors += 1 }
            if let escaped = outcome.escaped {
                failures += 1
                if failures <= 5 { Issue.record("iteration \(i) (\(base)): \(escaped)") }
            }
        }
        #expect(failures == 0)
        // Sanity: the mutations do reach the parsers' error paths.
        #expect(errors > iterations / 10)
    }
}
