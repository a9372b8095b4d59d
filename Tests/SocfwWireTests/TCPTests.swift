import Testing
import SocfwWire

/// A comparable rendering of `TCPOption` (which borrows its buffer and so is
/// not Equatable itself).
enum OptionShape: Equatable, CustomStringConvertible {
    case eol, nop, mss(UInt16), wscale(UInt8), sackPermitted, sack([UInt32]), timestamps(UInt32, UInt32)
    case unknown(UInt8, [UInt8])

    init(_ option: TCPOption) {
        switch option {
        case .endOfOptionList: self = .eol
        case .noOperation: self = .nop
        case .maximumSegmentSize(let value): self = .mss(value)
        case .windowScale(let value): self = .wscale(value)
        case .sackPermitted: self = .sackPermitted
        case .sack(let blocks):
            self = .sack((0..<blocks.count).flatMap { [blocks[$0].left, blocks[$0].right] })
        case .timestamps(let value, let echo): self = .timestamps(value, echo)
        case .unknown(let kind, let data): self = .unknown(kind, Array(data))
        }
    }

    var description: String {
        switch self {
        case .eol: "eol"
        case .nop: "nop"
        case .mss(let v): "mss \(v)"
        case .wscale(let v): "wscale \(v)"
        case .sackPermitted: "sackOK"
        case .sack(let edges): "sack \(edges)"
        case .timestamps(let v, let e): "TS val \(v) ecr \(e)"
        case .unknown(let k, let d): "kind \(k) \(d)"
        }
    }
}

/// All options of `options`, or the error that stopped the walk.
func walkOptions(_ options: [UInt8]) -> Result<[OptionShape], WireError> {
    options.withUnsafeBytes { buffer in
        var iterator = TCPOptionIterator(buffer)
        var shapes: [OptionShape] = []
        do throws(WireError) {
            while let option = try iterator.next() { shapes.append(OptionShape(option)) }
            return .success(shapes)
        } catch {
            return .failure(error)
        }
    }
}

@Suite("TCPSegment")
struct TCPTests {
    @Test("getters read every field of a captured Linux SYN")
    func capturedSynFields() throws {
        try Fixtures.ipv4TCPSyn.withUnsafeBytes { buffer in
            let packet = try IPv4Packet(checking: buffer)
            let segment = try TCPSegment(checking: packet.payload)
            #expect(segment.sourcePort == 39818)
            #expect(segment.destinationPort == 80)
            #expect(segment.sequenceNumber == 0xde67_c74a)
            #expect(segment.acknowledgementNumber == 0)
            #expect(segment.dataOffset == 40)
            #expect(segment.reservedBits == 0)
            #expect(segment.flags == .syn)
            #expect(segment.window == 29200)
            #expect(segment.checksum == 0x3f5f)
            #expect(segment.urgentPointer == 0)
            #expect(segment.options.count == 20)
            #expect(segment.payload.isEmpty)
            #expect(segment.verifyChecksum(source: packet.source, destination: packet.destination))
        }
    }

    @Test("the options summary of a Linux SYN: mss, sackOK, timestamps, nop, wscale")
    func synOptionSummary() throws {
        try Fixtures.ipv4TCPSyn.withUnsafeBytes { buffer in
            let segment = try TCPSegment(checking: try IPv4Packet(checking: buffer).payload)
            var expected = TCPOptionSummary()
            expected.count = 5
            expected.maximumSegmentSize = 1460
            expected.windowScale = 7
            expected.sackPermitted = true
            expected.timestampValue = 0x592b_2997
            expected.timestampEchoReply = 0
            #expect(try segment.parseOptions() == expected)
        }
    }

    @Test("the option iterator yields each option of the IPv6 fixtures in order", arguments: [
        (Fixtures.ipv6TCPSyn, [OptionShape.mss(1440), .sackPermitted, .timestamps(0x8a3b_1c2d, 0), .nop, .wscale(7)]),
        (Fixtures.ipv6TCPSack, [OptionShape.nop, .nop, .timestamps(0x0102_0304, 0x0506_0708), .nop, .nop,
                                .sack([1000, 2000, 3000, 4000])]),
    ])
    func optionIteratorOrder(_ bytes: [UInt8], _ expected: [OptionShape]) throws {
        let options = try bytes.withUnsafeBytes { buffer in
            Array(try TCPSegment(checking: try IPv6Packet(checking: buffer).payload).options)
        }
        #expect(walkOptions(options) == .success(expected))
    }

    @Test("checksums verify over the IPv6 pseudo header")
    func ipv6Checksums() throws {
        for bytes in [Fixtures.ipv6TCPSyn, Fixtures.ipv6TCPSack] {
            try bytes.withUnsafeBytes { buffer in
                let packet = try IPv6Packet(checking: buffer)
                let segment = try TCPSegment(checking: packet.payload)
                #expect(segment.verifyChecksum(source: packet.source, destination: packet.destination))
                #expect(segment.verifyChecksum(source: packet.destination, destination: ip("2001:db8::99")) == false)
            }
        }
    }

    @Test("SACK option summary counts blocks")
    func sackSummary() throws {
        try Fixtures.ipv6TCPSack.withUnsafeBytes { buffer in
            let segment = try TCPSegment(checking: try IPv6Packet(checking: buffer).payload)
            let summary = try segment.parseOptions()
            #expect(summary.sackBlockCount == 2)
            #expect(summary.sackPermitted == false)
            #expect(summary.maximumSegmentSize == nil)
            #expect(summary.timestampValue == 0x0102_0304)
            #expect(Array(segment.payload) == Array("0123456789".utf8))
        }
    }

    @Test("flag bits match header byte 13", arguments: [
        (TCPFlags.fin, UInt8(0x01)), (.syn, 0x02), (.rst, 0x04), (.psh, 0x08),
        (.ack, 0x10), (.urg, 0x20), (.ece, 0x40), (.cwr, 0x80),
    ])
    func flagBits(_ flag: TCPFlags, _ bit: UInt8) throws {
        #expect(flag.rawValue == bit)
        var header = Build.tcpHeader(flags: [])
        header[13] = bit
        try header.withUnsafeBytes { buffer in
            let segment = try TCPSegment(checking: buffer)
            #expect(segment.flags == flag)
        }
    }

    @Test("malformed options throw badOptions", arguments: [
        [0x02],  // kind without a length byte
        [0x02, 0x01],  // length below 2
        [0x02, 0x00],  // length 0 would loop forever
        [0x02, 0x04, 0x05],  // runs past the area
        [0x02, 0x03, 0x05],  // MSS must be 4
        [0x03, 0x02],  // window scale must be 3
        [0x04, 0x03, 0x00],  // SACK permitted must be 2
        [0x08, 0x08, 0, 0, 0, 0, 0, 0],  // timestamps must be 10
        [0x05, 0x02],  // SACK without blocks
        [0x05, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0],  // SACK not 2 + 8n
        [0x01, 0x01, 0xfe, 0x00],  // unknown kind, length 0
        [0x01, 0x1e, 0x09, 0, 0, 0, 0],  // unknown kind overrunning
    ] as [[UInt8]])
    func malformedOptions(_ options: [UInt8]) {
        #expect(walkOptions(options) == .failure(.badOptions(layer: .tcp)))
    }

    @Test("well-formed option edge cases", arguments: [
        ([], []),
        ([0x01, 0x00, 0x02, 0x00], [OptionShape.nop, .eol]),  // bytes after EOL are padding
        ([0x1e, 0x04, 0xaa, 0xbb], [OptionShape.unknown(30, [0xaa, 0xbb])]),  // unknown kinds keep their data
        ([0x22, 0x02], [OptionShape.unknown(34, [])]),  // TFO cookie request (RFC 7413): empty data
        ([0x03, 0x03, 0x0f], [OptionShape.wscale(15)]),  // reported as sent; RFC 7323 clamps at use
        ([0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2], [OptionShape.sack([1, 2])]),
    ] as [([UInt8], [OptionShape])])
    func optionEdgeCases(_ options: [UInt8], _ expected: [OptionShape]) {
        #expect(walkOptions(options) == .success(expected))
    }

    @Test("parseOptions reports badOptions from the segment's option area")
    func parseOptionsThrows() {
        let header = Build.tcpHeader(options: [0x02, 0x05, 0x05, 0xb4])
        let error = outcome(header) { buffer throws(WireError) in try TCPSegment(checking: buffer).parseOptions() }
        #expect(error == .badOptions(layer: .tcp))
    }

    @Test("errors of the checking initializer", arguments: [
        ([UInt8](repeating: 0, count: 19), WireError.truncated(layer: .tcp, needed: 20, available: 19)),
        (Build.tcpHeader().enumerated().map { $0.offset == 12 ? 0x40 : $0.element },
         .badHeaderLength(layer: .tcp, value: 16)),
        (Build.tcpHeader().enumerated().map { $0.offset == 12 ? 0x00 : $0.element },
         .badHeaderLength(layer: .tcp, value: 0)),
        (Build.tcpHeader().enumerated().map { $0.offset == 12 ? 0xf0 : $0.element },
         .truncated(layer: .tcp, needed: 60, available: 20)),
    ] as [([UInt8], WireError)])
    func initializerErrors(_ bytes: [UInt8], _ expected: WireError) {
        #expect(outcome(bytes) { buffer throws(WireError) in try TCPSegment(checking: buffer) } == expected)
    }

    @Test("emitHeader and fillChecksum produce a segment that verifies", arguments: [
        (ip("192.0.2.1"), ip("198.51.100.2")), (ip("2001:db8::1"), ip("2001:db8::2")),
    ])
    func emitRoundTrip(_ source: IPAddress, _ destination: IPAddress) throws {
        var bytes = [UInt8](repeating: 0, count: 25)
        bytes.replaceSubrange(20..., with: Array("hello".utf8))
        bytes.withUnsafeMutableBytes { buffer in
            TCPSegment.emitHeader(into: buffer, sourcePort: 443, destinationPort: 51000, sequenceNumber: 0xffff_fff0,
                                  acknowledgementNumber: 7, flags: [.psh, .ack], window: 65535, urgentPointer: 3)
            TCPSegment.fillChecksum(in: buffer, source: source, destination: destination)
        }
        try bytes.withUnsafeBytes { buffer in
            let segment = try TCPSegment(checking: buffer)
            #expect(segment.sourcePort == 443)
            #expect(segment.destinationPort == 51000)
            #expect(segment.sequenceNumber == 0xffff_fff0)
            #expect(segment.acknowledgementNumber == 7)
            #expect(segment.flags == [.psh, .ack])
            #expect(segment.window == 65535)
            #expect(segment.urgentPointer == 3)
            #expect(segment.dataOffset == 20)
            #expect(segment.payload.count == 5)
            #expect(segment.verifyChecksum(source: source, destination: destination))
        }
    }
}
