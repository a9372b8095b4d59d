import XCTest
import SocfwCore
import SocfwWire

// Packets are built byte by byte below (checksums left zero: PacketParser
// does not verify them), parsed with PacketParser, and inspected as the
// pipeline would.

private let second: Int64 = 1_000_000_000

private func address(_ text: String) -> IPAddress {
    guard let value = IPAddress(text) else { fatalError("bad address literal \(text)") }
    return value
}

/// Hand-built packets with correct lengths.
private enum Make {
    static let client = address("198.51.100.7")
    static let server = address("192.0.2.80")
    static let client6 = address("2001:db8::7")
    static let server6 = address("2001:db8:1::80")

    static func bytes(of a: IPAddress) -> [UInt8] {
        if !a.isV6 { return (0..<4).map { UInt8(truncatingIfNeeded: a.v4 >> (24 - 8 * UInt32($0))) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: a.high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: a.low >> (56 - 8 * UInt64($0))) }
    }

    static func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }

    /// An IPv4 packet; `options` must be a multiple of 4 bytes.
    static func ipv4(_ protocolNumber: UInt8, _ payload: [UInt8], source: IPAddress = client,
                     destination: IPAddress = server, ttl: UInt8 = 64, identification: Int = 0x1234,
                     moreFragments: Bool = false, fragmentOffset: Int = 0, options: [UInt8] = [],
                     totalLength: Int? = nil) -> [UInt8] {
        precondition(options.count % 4 == 0 && fragmentOffset % 8 == 0)
        let headerLength = 20 + options.count
        var b: [UInt8] = [0x40 | UInt8(headerLength / 4), 0]
        b += be16(totalLength ?? headerLength + payload.count)
        b += be16(identification)
        b += be16(fragmentOffset / 8 | (moreFragments ? 0x2000 : 0))
        b += [ttl, protocolNumber, 0, 0]
        b += bytes(of: source) + bytes(of: destination) + options
        return b + payload
    }

    /// An IPv6 packet: fixed header, then `payload` (extension headers included).
    static func ipv6(_ nextHeader: UInt8, _ payload: [UInt8], source: IPAddress = client6,
                     destination: IPAddress = server6, hopLimit: UInt8 = 64) -> [UInt8] {
        var b: [UInt8] = [0x60, 0, 0, 0]
        b += be16(payload.count)
        b += [nextHeader, hopLimit]
        return b + bytes(of: source) + bytes(of: destination) + payload
    }

    /// An IPv6 fragment header (RFC 8200 §4.5).
    static func fragmentHeader(next: UInt8, offset: Int, more: Bool, identification: UInt32 = 0xabcd) -> [UInt8] {
        [next, 0] + be16(offset | (more ? 1 : 0)) + be16(Int(identification >> 16)) + be16(Int(identification & 0xffff))
    }

    /// An IPv6 routing header (RFC 8200 §4.4) of `type` with one address.
    static func routingHeader(next: UInt8, type: UInt8, segmentsLeft: UInt8 = 1) -> [UInt8] {
        [next, 2, type, segmentsLeft, 0, 0, 0, 0] + bytes(of: address("2001:db8:2::1"))
    }

    /// An 8-byte hop-by-hop options header holding one PadN.
    static func hopByHop(next: UInt8) -> [UInt8] { [next, 0, 1, 4, 0, 0, 0, 0] }

    /// A TCP header: `flags` is byte 13, `reservedBits` the low nibble of byte 12.
    static func tcp(_ flags: UInt8, reservedBits: UInt8 = 0, options: [UInt8] = [], payload: Int = 0,
                    dataOffsetWords: Int? = nil) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let words = dataOffsetWords ?? (20 + options.count) / 4
        var b = be16(40_000) + be16(443) + [0, 0, 0x10, 0] + [0, 0, 0x20, 0]
        b += [UInt8(words << 4) | reservedBits, flags] + be16(64_240) + [0, 0, 0, 0]
        return b + options + [UInt8](repeating: 0x61, count: payload)
    }

    static func udp(payload: Int) -> [UInt8] {
        be16(53_000) + be16(53) + be16(8 + payload) + [0, 0] + [UInt8](repeating: 0x62, count: payload)
    }

    static func icmp(type: UInt8, code: UInt8 = 0, payload: Int = 0) -> [UInt8] {
        [type, code, 0, 0, 0x12, 0x34, 0, 1] + [UInt8](repeating: 0x63, count: payload)
    }
}

/// TCP flag bytes.
private enum F {
    static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08
    static let ack: UInt8 = 0x10, urg: UInt8 = 0x20, ece: UInt8 = 0x40, cwr: UInt8 = 0x80
}

/// Parses `bytes` (failing the test when the parser rejects them) and inspects them.
private func inspect(_ bytes: [UInt8], with detector: inout AnomalyDetector, fromOutside: Bool = true,
                     now: Int64 = 0, file: StaticString = #filePath, line: UInt = #line) -> AnomalyID? {
    bytes.withUnsafeBytes { buffer in
        var summary = PacketSummary()
        do throws(WireError) {
            try PacketParser.parse(buffer, into: &summary)
        } catch {
            XCTFail("parser rejected the packet: \(error)", file: file, line: line)
            return nil
        }
        return detector.inspect(summary, packet: buffer, fromOutside: fromOutside, now: now)
    }
}

/// `inspect` with a fresh detector.
private func anomaly(_ bytes: [UInt8], fromOutside: Bool = true, config: AnomalyConfig = AnomalyConfig(),
                     file: StaticString = #filePath, line: UInt = #line) -> AnomalyID? {
    var detector = AnomalyDetector(config: config)
    return inspect(bytes, with: &detector, fromOutside: fromOutside, file: file, line: line)
}

/// The parser's error and partial summary for bytes it must reject.
private func rejection(_ bytes: [UInt8], wireLength: Int? = nil, file: StaticString = #filePath,
                       line: UInt = #line) -> (WireError, PacketSummary)? {
    bytes.withUnsafeBytes { buffer in
        var summary = PacketSummary()
        do throws(WireError) {
            try PacketParser.parse(buffer, wireLength: wireLength, into: &summary)
            XCTFail("parser accepted the packet", file: file, line: line)
            return nil
        } catch {
            return (error, summary)
        }
    }
}

final class AnomalyIDTests: XCTestCase {
    func testNamesAreUniqueLayerPrefixedAndRoundTrip() {
        XCTAssertEqual(Set(AnomalyID.allNames).count, AnomalyID.allCases.count)
        XCTAssertEqual(AnomalyID.allNames, AnomalyID.allCases.map(\.name))
        for id in AnomalyID.allCases {
            let prefixes = ["tcp.", "icmp.", "ip.", "ipv4.", "ipv6."]
            XCTAssertTrue(prefixes.contains { id.name.hasPrefix($0) }, id.name)
            XCTAssertTrue(id.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" || $0 == "." }, id.name)
            XCTAssertEqual(AnomalyID(name: id.name), id)
            XCTAssertEqual(id.signatureID, 2_210_000 + Int(id.rawValue))
            XCTAssertFalse(id.summary.isEmpty)
        }
        XCTAssertNil(AnomalyID(name: "tcp.syn-fin"))
        XCTAssertNil(AnomalyID(name: ""))
    }

    func testRawValuesAndNamesAreStable() {
        let expected: [(AnomalyID, UInt16, String)] = [
            (.tcpSynFin, 1, "tcp.syn_fin"), (.tcpSynRst, 2, "tcp.syn_rst"),
            (.tcpFinWithoutAck, 3, "tcp.fin_without_ack"), (.tcpNull, 4, "tcp.null"), (.tcpXmas, 5, "tcp.xmas"),
            (.tcpReservedBits, 6, "tcp.reserved_bits"), (.tcpBadDataOffset, 7, "tcp.bad_data_offset"),
            (.tcpBadOptions, 8, "tcp.bad_options"),
            (.icmpPingOfDeath, 20, "icmp.ping_of_death"), (.icmpFragmented, 21, "icmp.fragmented"),
            (.icmpRedirectFromOutside, 22, "icmp.redirect_from_outside"),
            (.icmpTimestampFromOutside, 23, "icmp.timestamp_from_outside"),
            (.icmpAddressMaskFromOutside, 24, "icmp.address_mask_from_outside"),
            (.icmpLargeEcho, 25, "icmp.large_echo"),
            (.ipLand, 40, "ip.land"), (.ipTinyFragment, 41, "ip.tiny_fragment"),
            (.ipOverlappingFragment, 42, "ip.overlapping_fragment"), (.ipv4SourceRoute, 43, "ipv4.source_route"),
            (.ipv6RoutingType0, 44, "ipv6.routing_type_0"), (.ipZeroTTL, 45, "ip.zero_ttl"),
            (.ipBadLength, 46, "ip.bad_length"),
        ]
        XCTAssertEqual(expected.count, AnomalyID.allCases.count)
        for (id, raw, name) in expected {
            XCTAssertEqual(id.rawValue, raw)
            XCTAssertEqual(id.name, name)
        }
        XCTAssertEqual(AnomalyID.ipLand.signatureID, 2_210_040)
    }

    func testImpossibleOrHostilePacketsDropAndSuspiciousOnesOnlyAlert() {
        let alertOnly: Set<AnomalyID> = [.tcpReservedBits, .icmpFragmented, .icmpRedirectFromOutside,
                                         .icmpTimestampFromOutside, .icmpAddressMaskFromOutside, .icmpLargeEcho]
        for id in AnomalyID.allCases {
            XCTAssertEqual(id.defaultDrops, !alertOnly.contains(id), id.name)
        }
    }

    func testEveryAnomalyHasAnExample() {
        // One packet (or parser error) per id; the other suites cover each in depth.
        let land = Make.client
        let examples: [(AnomalyID, AnomalyID?)] = [
            (.tcpSynFin, anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn | F.fin)))),
            (.tcpSynRst, anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn | F.rst)))),
            (.tcpFinWithoutAck, anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.fin)))),
            (.tcpNull, anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(0)))),
            (.tcpXmas, anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.fin | F.psh | F.urg)))),
            (.tcpReservedBits, anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, reservedBits: 0x08)))),
            (.tcpBadDataOffset, rejection(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn, dataOffsetWords: 3)))
                .flatMap { AnomalyDetector.classify($0.0) }),
            (.tcpBadOptions, anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn, options: [2, 0, 0, 0])))),
            (.icmpPingOfDeath, anomaly(Make.ipv4(IPProtocolNumber.icmp, [UInt8](repeating: 0, count: 1000),
                                                 fragmentOffset: 65_000))),
            (.icmpFragmented, anomaly(Make.ipv4(IPProtocolNumber.icmp, [UInt8](repeating: 0, count: 80),
                                                fragmentOffset: 1480))),
            (.icmpRedirectFromOutside, anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 5, payload: 28)))),
            (.icmpTimestampFromOutside, anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 13, payload: 12)))),
            (.icmpAddressMaskFromOutside, anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 17, payload: 4)))),
            (.icmpLargeEcho, anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 8, payload: 1400)))),
            (.ipLand, anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn), source: land, destination: land))),
            (.ipTinyFragment, anomaly(Make.ipv4(IPProtocolNumber.tcp, [UInt8](repeating: 0, count: 12),
                                                fragmentOffset: 8))),
            (.ipOverlappingFragment, {
                var detector = AnomalyDetector()
                _ = inspect(Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 200), moreFragments: true),
                            with: &detector)
                return inspect(Make.ipv4(IPProtocolNumber.udp, [UInt8](repeating: 0, count: 100), fragmentOffset: 200),
                               with: &detector)
            }()),
            (.ipv4SourceRoute, anomaly(Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 4),
                                                 options: [0x89, 7, 4, 192, 0, 2, 1, 0]))),
            (.ipv6RoutingType0, anomaly(Make.ipv6(IPProtocolNumber.routing,
                                                  Make.routingHeader(next: IPProtocolNumber.udp, type: 0)
                                                      + Make.udp(payload: 4)))),
            (.ipZeroTTL, anomaly(Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 4), ttl: 0))),
            (.ipBadLength, rejection(Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 4), totalLength: 100))
                .flatMap { AnomalyDetector.classify($0.0) }),
        ]
        XCTAssertEqual(Set(examples.map(\.0)), Set(AnomalyID.allCases), "an id without an example")
        for (expected, found) in examples { XCTAssertEqual(found, expected, expected.name) }
    }

    func testConfigDefaults() {
        let config = AnomalyConfig()
        XCTAssertEqual(config.largeEchoPayloadBytes, 1024)
        XCTAssertEqual(config.tinyFragmentBytes, 64)
        XCTAssertEqual(config.fragmentTableCapacity, 4096)
        XCTAssertEqual(config.fragmentTimeoutSeconds, 30)
    }
}

final class AnomalyTCPTests: XCTestCase {
    /// MSS 1460, SACK permitted, timestamps, NOP, window scale 7: a Linux SYN.
    let synOptions: [UInt8] = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
    /// NOP, NOP, timestamps.
    let timestampOptions: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1]

    func testNormalSegmentsAreClean() {
        let cases: [(String, [UInt8])] = [
            ("SYN", Make.tcp(F.syn, options: synOptions)),
            ("bare SYN", Make.tcp(F.syn)),
            ("SYN-ACK", Make.tcp(F.syn | F.ack, options: synOptions)),
            ("ACK", Make.tcp(F.ack, options: timestampOptions)),
            ("PSH-ACK with data", Make.tcp(F.psh | F.ack, options: timestampOptions, payload: 100)),
            ("FIN-ACK", Make.tcp(F.fin | F.ack)),
            ("FIN-PSH-ACK", Make.tcp(F.fin | F.psh | F.ack, payload: 10)),
            ("URG-PSH-ACK", Make.tcp(F.urg | F.psh | F.ack, payload: 1)),
            ("RST", Make.tcp(F.rst)),
            ("RST-ACK", Make.tcp(F.rst | F.ack)),
            ("ECN SYN", Make.tcp(F.syn | F.ece | F.cwr, options: synOptions)),
            ("ECN SYN-ACK", Make.tcp(F.syn | F.ack | F.ece)),
            ("CWR ACK", Make.tcp(F.ack | F.cwr)),
            ("AccECN AE bit", Make.tcp(F.ack, reservedBits: 0x01)),
            ("unknown option kind", Make.tcp(F.ack, options: [30, 4, 0, 0])),
            ("options padded with EOL", Make.tcp(F.syn, options: [2, 4, 5, 0xb4, 1, 0, 9, 9])),
        ]
        for (label, segment) in cases {
            XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.tcp, segment)), "IPv4 \(label)")
            XCTAssertNil(anomaly(Make.ipv6(IPProtocolNumber.tcp, segment)), "IPv6 \(label)")
        }
    }

    func testImpossibleFlagSetsAreNamed() {
        let cases: [(UInt8, AnomalyID)] = [
            (F.syn | F.fin, .tcpSynFin),
            (F.syn | F.fin | F.ack, .tcpSynFin),
            (F.syn | F.fin | F.psh, .tcpSynFin),
            (F.syn | F.rst, .tcpSynRst),
            (F.syn | F.rst | F.ack, .tcpSynRst),
            (F.fin, .tcpFinWithoutAck),
            (F.fin | F.psh, .tcpFinWithoutAck),
            (F.fin | F.rst, .tcpFinWithoutAck),
            (0, .tcpNull),
            (F.ece | F.cwr, .tcpNull),
            (F.fin | F.psh | F.urg, .tcpXmas),
            (F.fin | F.psh | F.urg | F.syn, .tcpXmas),
            (0x3f, .tcpXmas),
            (0xff, .tcpXmas),
        ]
        for (flags, expected) in cases {
            XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(flags))), expected,
                           "flags 0x\(String(flags, radix: 16))")
            XCTAssertEqual(anomaly(Make.ipv6(IPProtocolNumber.tcp, Make.tcp(flags))), expected,
                           "IPv6 flags 0x\(String(flags, radix: 16))")
        }
    }

    func testReservedBitsAreFlaggedButNotAE() {
        for bits: UInt8 in [0x02, 0x04, 0x08, 0x0e, 0x0f] {
            XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, reservedBits: bits))),
                           .tcpReservedBits, "bits 0x\(String(bits, radix: 16))")
        }
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, reservedBits: 0x01))))
        // A drop-by-default anomaly wins over the alert-only one.
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn | F.fin, reservedBits: 0x08))),
                       .tcpSynFin)
    }

    func testMalformedOptionsAreFlagged() {
        let cases: [(String, [UInt8])] = [
            ("length 0", [8, 0, 1, 1]),
            ("length 1", [3, 1, 1, 1]),
            ("past the option area", [1, 1, 5, 10]),
            ("kind without length byte", [1, 1, 1, 30]),
            ("MSS of length 3", [2, 3, 5, 1]),
            ("timestamps of length 8", [8, 8, 0, 0, 0, 0, 0, 0]),
            ("SACK of length 6", [5, 6, 0, 0, 0, 0, 1, 1]),
            ("bad option after timestamps", [1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1, 3, 4, 7, 0]),
        ]
        for (label, options) in cases {
            XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, options: options))),
                           .tcpBadOptions, label)
        }
        // Timestamps as the fast path checks them, but with a broken length: still walked.
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp,
                                         Make.tcp(F.ack, options: [1, 1, 8, 11, 0, 0, 0, 2, 0, 0, 0, 1]))),
                       .tcpBadOptions)
    }

    func testOptionCheckAgreesWithTCPOptionIterator() {
        var rng = SplitMix64(seed: 0x0b7_1095)
        var bad = 0
        for _ in 0..<5_000 {
            // Mostly small kinds and lengths, so that valid and invalid areas both occur.
            let options = (0..<(4 * (1 + rng.below(10)))).map { _ in
                UInt8(rng.below(3) == 0 ? rng.below(256) : rng.below(12))
            }
            let iteratorRejects = options.withUnsafeBytes { area -> Bool in
                var iterator = TCPOptionIterator(area)
                do throws(WireError) {
                    while try iterator.next() != nil {}
                    return false
                } catch {
                    return true
                }
            }
            if iteratorRejects { bad += 1 }
            let found = anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, options: options)))
            XCTAssertEqual(found, iteratorRejects ? .tcpBadOptions : nil, "options \(options)")
        }
        XCTAssertGreaterThan(bad, 500)
        XCTAssertLessThan(bad, 4_500)
    }

    func testSegmentsInsideNonFirstFragmentsAreNotReadAsTCP() {
        // The bytes of a non-first fragment are payload: a "NULL" there is data.
        let fragment = Make.ipv4(IPProtocolNumber.tcp, [UInt8](repeating: 0, count: 400), fragmentOffset: 1480)
        XCTAssertNil(anomaly(fragment))
    }
}

final class AnomalyICMPTests: XCTestCase {
    func testNormalEchoIsClean() {
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 8, payload: 56))))
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 0, payload: 56))))
        XCTAssertNil(anomaly(Make.ipv6(IPProtocolNumber.icmpv6, Make.icmp(type: 128, payload: 56))))
        XCTAssertNil(anomaly(Make.ipv6(IPProtocolNumber.icmpv6, Make.icmp(type: 129, payload: 56))))
    }

    func testLargeEchoIsFlaggedOnlyAboveTheThreshold() {
        let echo1400 = Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 8, payload: 1400))
        XCTAssertEqual(anomaly(echo1400), .icmpLargeEcho)
        var lenient = AnomalyConfig()
        lenient.largeEchoPayloadBytes = 1400
        XCTAssertNil(anomaly(echo1400, config: lenient))
        lenient.largeEchoPayloadBytes = 1399
        XCTAssertEqual(anomaly(echo1400, config: lenient), .icmpLargeEcho)

        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 0, payload: 1024))))
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 0, payload: 1025))), .icmpLargeEcho)
        XCTAssertEqual(anomaly(Make.ipv6(IPProtocolNumber.icmpv6, Make.icmp(type: 128, payload: 1400))),
                       .icmpLargeEcho)
        XCTAssertEqual(anomaly(Make.ipv6(IPProtocolNumber.icmpv6, Make.icmp(type: 129, payload: 1400))),
                       .icmpLargeEcho)
        // Not an echo: a large destination unreachable is not a tunnel signal here.
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 3, code: 3, payload: 1400))))
    }

    func testLargeEchoCountsTheDeclaredLengthOfATruncatedCapture() {
        let echo = Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 8, payload: 1400))
        let captured = Array(echo.prefix(96))
        captured.withUnsafeBytes { buffer in
            var summary = PacketSummary()
            do throws(WireError) {
                try PacketParser.parse(buffer, wireLength: echo.count, into: &summary)
            } catch {
                XCTFail("parser rejected a truncated capture: \(error)")
            }
            XCTAssertTrue(summary.isTruncated)
            var detector = AnomalyDetector()
            XCTAssertEqual(detector.inspect(summary, packet: buffer, fromOutside: true, now: 0), .icmpLargeEcho)
        }
    }

    func testRedirectTimestampAndAddressMaskAreFlaggedOnlyFromOutside() {
        let cases: [([UInt8], AnomalyID)] = [
            (Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 5, code: 1, payload: 28)), .icmpRedirectFromOutside),
            (Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 13, payload: 12)), .icmpTimestampFromOutside),
            (Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 17, payload: 4)), .icmpAddressMaskFromOutside),
            (Make.ipv6(IPProtocolNumber.icmpv6, Make.icmp(type: 137, payload: 32)), .icmpRedirectFromOutside),
        ]
        for (packet, expected) in cases {
            XCTAssertEqual(anomaly(packet, fromOutside: true), expected)
            XCTAssertNil(anomaly(packet, fromOutside: false), "\(expected.name) from inside")
        }
    }

    func testRepliesAndOtherTypesFromOutsideAreClean() {
        let cases: [[UInt8]] = [
            Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 14, payload: 12)),  // timestamp reply
            Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 18, payload: 4)),  // address mask reply
            Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 3, code: 4, payload: 28)),
            Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 11, payload: 28)),
            Make.ipv6(IPProtocolNumber.icmpv6, Make.icmp(type: 2, payload: 48)),
            Make.ipv6(IPProtocolNumber.icmpv6, Make.icmp(type: 135, payload: 24)),
            // ICMPv4 type numbers mean nothing in ICMPv6 and the reverse.
            Make.ipv6(IPProtocolNumber.icmpv6, Make.icmp(type: 5, payload: 28)),
            Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 137, payload: 28)),
        ]
        for packet in cases { XCTAssertNil(anomaly(packet, fromOutside: true)) }
    }

    func testFragmentedICMPIsFlaggedWhateverTheFragment() {
        let echo = Make.icmp(type: 8, payload: 2000)
        let first = Make.ipv4(IPProtocolNumber.icmp, Array(echo[0..<1480]), moreFragments: true)
        let last = Make.ipv4(IPProtocolNumber.icmp, Array(echo[1480...]), fragmentOffset: 1480)
        var detector = AnomalyDetector()
        XCTAssertEqual(inspect(first, with: &detector), .icmpFragmented)
        XCTAssertEqual(inspect(last, with: &detector), .icmpFragmented)
        XCTAssertEqual(inspect(first, with: &detector, fromOutside: false), .icmpFragmented)

        let echo6 = Make.icmp(type: 128, payload: 2000)
        let first6 = Make.ipv6(IPProtocolNumber.fragment, Make.fragmentHeader(next: IPProtocolNumber.icmpv6,
                                                                               offset: 0, more: true) + echo6[0..<1232])
        let last6 = Make.ipv6(IPProtocolNumber.fragment, Make.fragmentHeader(next: IPProtocolNumber.icmpv6,
                                                                              offset: 1232, more: false) + echo6[1232...])
        XCTAssertEqual(inspect(first6, with: &detector), .icmpFragmented)
        XCTAssertEqual(inspect(last6, with: &detector), .icmpFragmented)
    }

    func testAtomicICMPv6FragmentIsAWholeMessage() {
        // RFC 6946: offset 0 without more fragments is not fragmented.
        let atomic = Make.ipv6(IPProtocolNumber.fragment,
                               Make.fragmentHeader(next: IPProtocolNumber.icmpv6, offset: 0, more: false)
                                   + Make.icmp(type: 128, payload: 56))
        XCTAssertNil(anomaly(atomic))
    }
}

final class AnomalyIPTests: XCTestCase {
    func testLandIsFlaggedForAnyProtocolAndVersion() {
        let v4 = Make.client
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn), source: v4, destination: v4)), .ipLand)
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 10), source: v4, destination: v4)),
                       .ipLand)
        XCTAssertEqual(anomaly(Make.ipv6(IPProtocolNumber.tcp, Make.tcp(F.syn), source: Make.server6,
                                         destination: Make.server6)), .ipLand)
        // Land wins over the flags of the segment that carries it.
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn | F.fin), source: v4, destination: v4)),
                       .ipLand)
    }

    func testLoopbackTalkingToItselfIsNotLand() {
        let lo4 = address("127.0.0.1"), lo6 = address("::1")
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn), source: lo4, destination: lo4)))
        XCTAssertNil(anomaly(Make.ipv6(IPProtocolNumber.tcp, Make.tcp(F.syn), source: lo6, destination: lo6)))
    }

    func testZeroTTLIsFlaggedAndOneIsNot() {
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 4), ttl: 0)), .ipZeroTTL)
        XCTAssertEqual(anomaly(Make.ipv6(IPProtocolNumber.udp, Make.udp(payload: 4), hopLimit: 0)), .ipZeroTTL)
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 4), ttl: 1)))
        XCTAssertNil(anomaly(Make.ipv6(IPProtocolNumber.udp, Make.udp(payload: 4), hopLimit: 1)))
    }

    func testSourceRouteOptionsAreFlagged() {
        let cases: [(String, [UInt8])] = [
            ("LSRR", [0x83, 7, 4, 192, 0, 2, 1, 0]),
            ("SSRR", [0x89, 7, 4, 192, 0, 2, 1, 0]),
            ("LSRR after NOPs", [1, 1, 1, 0x83, 7, 4, 192, 0, 2, 1, 0, 0]),
            ("LSRR after record route", [7, 7, 4, 0, 0, 0, 0, 0x83, 7, 4, 192, 0, 2, 1, 0, 0]),
        ]
        for (label, options) in cases {
            XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn), options: options)),
                           .ipv4SourceRoute, label)
        }
    }

    func testOtherOptionsAreClean() {
        let cases: [(String, [UInt8])] = [
            ("NOPs and EOL", [1, 1, 1, 0]),
            ("record route", [7, 7, 4, 0, 0, 0, 0, 0]),
            ("router alert", [0x94, 4, 0, 0]),
            ("timestamp", [0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("LSRR byte after EOL is padding", [0, 0x83, 7, 4]),
            ("LSRR type inside another option's data", [0x94, 4, 0x83, 0x89]),
            ("malformed option hides nothing: Linux drops the packet", [1, 0x44, 1, 0x83, 7, 4, 192, 0]),
            ("copy bit clear is not a source route", [0x03, 4, 0, 0]),
        ]
        for (label, options) in cases {
            XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn), options: options)), label)
        }
    }

    func testRoutingHeaderType0IsFlaggedAndType2IsNot() {
        let tcp = Make.tcp(F.syn)
        let rh0 = Make.ipv6(IPProtocolNumber.routing, Make.routingHeader(next: IPProtocolNumber.tcp, type: 0) + tcp)
        let rh2 = Make.ipv6(IPProtocolNumber.routing, Make.routingHeader(next: IPProtocolNumber.tcp, type: 2) + tcp)
        let srh = Make.ipv6(IPProtocolNumber.routing, Make.routingHeader(next: IPProtocolNumber.tcp, type: 4) + tcp)
        XCTAssertEqual(anomaly(rh0), .ipv6RoutingType0)
        XCTAssertNil(anomaly(rh2))
        XCTAssertNil(anomaly(srh))
        // RFC 5095: no node may originate RH0, even with no segments left.
        let spent = Make.ipv6(IPProtocolNumber.routing,
                              Make.routingHeader(next: IPProtocolNumber.tcp, type: 0, segmentsLeft: 0) + tcp)
        XCTAssertEqual(anomaly(spent), .ipv6RoutingType0)
        let afterHopByHop = Make.ipv6(IPProtocolNumber.hopByHop, Make.hopByHop(next: IPProtocolNumber.routing)
            + Make.routingHeader(next: IPProtocolNumber.udp, type: 0) + Make.udp(payload: 4))
        XCTAssertEqual(anomaly(afterHopByHop), .ipv6RoutingType0)
    }

    func testRoutingHeaderType0HiddenBeforeAType2IsFound() {
        // The summary keeps only the last routing header's type; the walk sees both.
        let packet = Make.ipv6(IPProtocolNumber.routing, Make.routingHeader(next: IPProtocolNumber.routing, type: 0)
            + Make.routingHeader(next: IPProtocolNumber.tcp, type: 2) + Make.tcp(F.syn))
        XCTAssertEqual(anomaly(packet), .ipv6RoutingType0)
    }

    func testPlainUDPIsClean() {
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 100))))
        XCTAssertNil(anomaly(Make.ipv6(IPProtocolNumber.udp, Make.udp(payload: 100))))
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.gre, [0, 0, 8, 0])))
    }
}

final class AnomalyFragmentTests: XCTestCase {
    /// IPv4 fragment of a UDP datagram with id `identification`: `length` bytes at `offset`.
    func udpFragment(offset: Int, length: Int, more: Bool, identification: Int = 0x4242,
                     source: IPAddress = Make.client) -> [UInt8] {
        let data = offset == 0 ? Make.udp(payload: 4000)[0..<length] : ArraySlice(repeating: 0x62, count: length)
        return Make.ipv4(IPProtocolNumber.udp, Array(data), source: source, identification: identification,
                         moreFragments: more, fragmentOffset: offset)
    }

    func udpFragment6(offset: Int, length: Int, more: Bool, identification: UInt32 = 7) -> [UInt8] {
        let data = offset == 0 ? Make.udp(payload: 4000)[0..<length] : ArraySlice(repeating: 0x62, count: length)
        return Make.ipv6(IPProtocolNumber.fragment, Make.fragmentHeader(next: IPProtocolNumber.udp, offset: offset,
                                                                         more: more, identification: identification) + data)
    }

    func testInOrderAndOutOfOrderFragmentsAreClean() {
        var detector = AnomalyDetector()
        XCTAssertNil(inspect(udpFragment(offset: 0, length: 1480, more: true), with: &detector))
        XCTAssertNil(inspect(udpFragment(offset: 1480, length: 1480, more: true), with: &detector))
        XCTAssertNil(inspect(udpFragment(offset: 2960, length: 100, more: false), with: &detector))

        XCTAssertNil(inspect(udpFragment(offset: 2960, length: 100, more: false, identification: 9), with: &detector))
        XCTAssertNil(inspect(udpFragment(offset: 0, length: 1480, more: true, identification: 9), with: &detector))
        XCTAssertNil(inspect(udpFragment(offset: 1480, length: 1480, more: true, identification: 9), with: &detector))
    }

    func testExactDuplicateIsARetransmissionNotAnOverlap() {
        var detector = AnomalyDetector()
        let second = udpFragment(offset: 1480, length: 1480, more: true)
        XCTAssertNil(inspect(udpFragment(offset: 0, length: 1480, more: true), with: &detector))
        XCTAssertNil(inspect(second, with: &detector))
        XCTAssertNil(inspect(second, with: &detector))
        XCTAssertNil(inspect(udpFragment(offset: 0, length: 1480, more: true), with: &detector))
    }

    func testOverlappingFragmentIsFlagged() {
        var detector = AnomalyDetector()
        XCTAssertNil(inspect(udpFragment(offset: 0, length: 1480, more: true), with: &detector))
        XCTAssertNil(inspect(udpFragment(offset: 1480, length: 1480, more: true), with: &detector))
        // Starts inside the first, ends inside the second.
        XCTAssertEqual(inspect(udpFragment(offset: 1400, length: 160, more: true), with: &detector),
                       .ipOverlappingFragment)
        // Same start as the second, different length: rewrites part of it.
        XCTAssertEqual(inspect(udpFragment(offset: 1480, length: 800, more: false), with: &detector),
                       .ipOverlappingFragment)
        // Another datagram (other id, other source) with the same ranges is clean.
        XCTAssertNil(inspect(udpFragment(offset: 1400, length: 160, more: true, identification: 1), with: &detector))
        XCTAssertNil(inspect(udpFragment(offset: 1400, length: 160, more: true, source: address("198.51.100.8")),
                             with: &detector))
    }

    func testOverlappingIPv6FragmentIsFlagged() {
        var detector = AnomalyDetector()
        XCTAssertNil(inspect(udpFragment6(offset: 0, length: 1232, more: true), with: &detector))
        XCTAssertNil(inspect(udpFragment6(offset: 1232, length: 1232, more: true), with: &detector))
        XCTAssertNil(inspect(udpFragment6(offset: 1232, length: 1232, more: true), with: &detector))
        XCTAssertEqual(inspect(udpFragment6(offset: 1200, length: 200, more: false), with: &detector),
                       .ipOverlappingFragment)
    }

    func testFragmentsAreForgottenAfterTheTimeout() {
        var detector = AnomalyDetector()
        XCTAssertNil(inspect(udpFragment(offset: 0, length: 1480, more: true), with: &detector, now: 0))
        XCTAssertEqual(inspect(udpFragment(offset: 8 * 100, length: 1480, more: true), with: &detector,
                               now: 29 * second), .ipOverlappingFragment)
        // 30 s after the first fragment the datagram is gone: this starts a new one.
        XCTAssertNil(inspect(udpFragment(offset: 8 * 100, length: 1480, more: true), with: &detector,
                             now: 30 * second))
    }

    func testPingOfDeathIsFlagged() {
        // Offset 65528 (8191 x 8) + 100 bytes + 20 header > 65535.
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.icmp, [UInt8](repeating: 0, count: 100),
                                         fragmentOffset: 65_528)), .icmpPingOfDeath)
        // Exactly 65535 once reassembled: legal.
        XCTAssertNil(anomaly(Make.ipv4(IPProtocolNumber.udp, [UInt8](repeating: 0, count: 515),
                                       fragmentOffset: 65_000)))
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.udp, [UInt8](repeating: 0, count: 516),
                                         fragmentOffset: 65_000)), .icmpPingOfDeath)
        // IPv6: the fragment header is not part of the reassembled payload.
        let v6 = Make.ipv6(IPProtocolNumber.fragment, Make.fragmentHeader(next: IPProtocolNumber.icmpv6,
                                                                           offset: 65_528, more: false)
            + [UInt8](repeating: 0, count: 100))
        XCTAssertEqual(anomaly(v6), .icmpPingOfDeath)
        let fits6 = Make.ipv6(IPProtocolNumber.fragment, Make.fragmentHeader(next: IPProtocolNumber.udp,
                                                                              offset: 65_528, more: false)
            + [UInt8](repeating: 0, count: 7))
        XCTAssertNil(anomaly(fits6))
    }

    func testTinyFragmentsAreFlagged() {
        // RFC 1858 §4: a TCP fragment at offset 8 rewrites the header's flags.
        XCTAssertEqual(anomaly(Make.ipv4(IPProtocolNumber.tcp, [UInt8](repeating: 0, count: 200),
                                         fragmentOffset: 8)), .ipTinyFragment)
        // Also when the first fragment came before (it overlaps too: tiny is the more specific name).
        var detector = AnomalyDetector()
        XCTAssertNil(inspect(Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, payload: 100), moreFragments: true),
                             with: &detector))
        XCTAssertEqual(inspect(Make.ipv4(IPProtocolNumber.tcp, [UInt8](repeating: 0, count: 16),
                                         fragmentOffset: 8), with: &detector), .ipTinyFragment)
        // A non-last fragment no real MTU produces.
        XCTAssertEqual(anomaly(udpFragment(offset: 0, length: 16, more: true)), .ipTinyFragment)
        XCTAssertEqual(anomaly(udpFragment(offset: 16, length: 8, more: true)), .ipTinyFragment)
        XCTAssertEqual(anomaly(udpFragment6(offset: 0, length: 24, more: true)), .ipTinyFragment)
        // UDP at offset 8 is not the RFC 1858 case.
        XCTAssertNil(anomaly(udpFragment(offset: 8, length: 1480, more: false)))
    }

    func testSmallLastFragmentsAndLargeOnesAreNotTiny() {
        XCTAssertNil(anomaly(udpFragment(offset: 1480, length: 8, more: false)))
        XCTAssertNil(anomaly(udpFragment(offset: 0, length: 64, more: true)))
        XCTAssertNil(anomaly(udpFragment6(offset: 1232, length: 1, more: false)))
        var config = AnomalyConfig()
        config.tinyFragmentBytes = 0
        XCTAssertNil(anomaly(udpFragment(offset: 0, length: 16, more: true), config: config))
    }

    func testFragmentTableStaysBounded() {
        var config = AnomalyConfig()
        config.fragmentTableCapacity = 1024
        var detector = AnomalyDetector(config: config)
        let bytes = detector.memoryBytes
        // A 64-byte slot and 8 ranges of 8 bytes per datagram: two arrays of
        // 64 KiB, each with its header in whole pages.
        XCTAssertEqual(bytes, 2 * (64 * 1024 + 4096))
        config.fragmentTableCapacity = 1000
        XCTAssertEqual(AnomalyDetector(config: config).memoryBytes, bytes, "rounded up to a power of two")
        var packet = udpFragment(offset: 0, length: 1480, more: true)
        for n in 0..<100_000 {
            // A new datagram each time: identification and source vary.
            packet[4] = UInt8(truncatingIfNeeded: n >> 8)
            packet[5] = UInt8(truncatingIfNeeded: n)
            packet[14] = UInt8(truncatingIfNeeded: n >> 16)
            XCTAssertNil(inspect(packet, with: &detector, now: Int64(n) * 1_000))
        }
        XCTAssertEqual(detector.memoryBytes, bytes)
        // The most recent datagram is still tracked: a fragment overlapping it is caught.
        var overlapping = udpFragment(offset: 1000, length: 1480, more: true)
        for i in [4, 5, 14] { overlapping[i] = packet[i] }
        XCTAssertEqual(inspect(overlapping, with: &detector, now: 100_000 * 1_000), .ipOverlappingFragment)
    }

    func testOverlapDetectionCanBeTurnedOff() {
        var config = AnomalyConfig()
        config.fragmentTableCapacity = 0
        var detector = AnomalyDetector(config: config)
        XCTAssertEqual(detector.memoryBytes, 0)
        XCTAssertNil(inspect(udpFragment(offset: 0, length: 1480, more: true), with: &detector))
        XCTAssertNil(inspect(udpFragment(offset: 1000, length: 1480, more: true), with: &detector))
    }
}

final class AnomalyClassifyTests: XCTestCase {
    func testErrorsMapToAnomalies() {
        let cases: [(WireError, AnomalyID?)] = [
            (.badHeaderLength(layer: .tcp, value: 16), .tcpBadDataOffset),
            (.badOptions(layer: .tcp), .tcpBadOptions),
            (.badTotalLength(layer: .ipv4, declared: 1500, available: 60), .ipBadLength),
            (.badTotalLength(layer: .ipv6, declared: 1500, available: 60), .ipBadLength),
            (.badTotalLength(layer: .udp, declared: 1500, available: 60), .ipBadLength),
            (.badHeaderLength(layer: .ipv4, value: 16), .ipBadLength),
            (.badHeaderLength(layer: .udp, value: 4), .ipBadLength),
            (.truncated(layer: .tcp, needed: 60, available: 40), nil),
            (.truncated(layer: .ipv4, needed: 20, available: 0), nil),
            (.badVersion(5), nil),
            (.badOptions(layer: .ipv4), nil),
            (.extensionChainTooLong(limit: 8), nil),
            (.badExtensionHeader(nextHeader: 0), nil),
        ]
        for (error, expected) in cases {
            XCTAssertEqual(AnomalyDetector.classify(error), expected, "\(error)")
        }
    }

    func testRejectedPacketsAreClassified() {
        let cases: [(String, [UInt8], AnomalyID?)] = [
            ("TCP data offset 4 words", Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn, dataOffsetWords: 4)),
             .tcpBadDataOffset),
            ("IPv4 total length past the packet",
             Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 8), totalLength: 200), .ipBadLength),
            ("IPv4 total length below the header",
             Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 8), totalLength: 12), .ipBadLength),
            ("UDP length past the IP payload",
             Make.ipv4(IPProtocolNumber.udp, Make.be16(1) + Make.be16(2) + Make.be16(400) + [0, 0]), .ipBadLength),
            ("not IP", [0x50] + [UInt8](repeating: 0, count: 40), nil),
        ]
        for (label, bytes, expected) in cases {
            guard let (error, partial) = rejection(bytes) else { continue }
            XCTAssertEqual(AnomalyDetector.classify(error), expected, label)
            XCTAssertEqual(AnomalyDetector.classify(error, partial: partial), expected, label)
        }
    }

    func testTruncationIsAnAnomalyOnlyWhenTheCaptureIsComplete() {
        // Data offset 15 words in a 20-byte segment.
        let badOffset = Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, dataOffsetWords: 15))
        if let (error, partial) = rejection(badOffset) {
            XCTAssertNil(AnomalyDetector.classify(error))
            XCTAssertEqual(AnomalyDetector.classify(error, partial: partial), .tcpBadDataOffset)
        }
        // The same bytes as the start of a longer packet cut by a copy range: not the sender's doing.
        let fullOptions = Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, options: [UInt8](repeating: 1, count: 40)))
        if let (error, partial) = rejection(Array(fullOptions.prefix(64)), wireLength: fullOptions.count) {
            XCTAssertEqual(error, .truncated(layer: .tcp, needed: 60, available: 44))
            XCTAssertNil(AnomalyDetector.classify(error, partial: partial))
        }
        // An IP payload too short for a TCP header.
        if let (error, partial) = rejection(Make.ipv4(IPProtocolNumber.tcp, [0, 1, 2, 3])) {
            XCTAssertEqual(AnomalyDetector.classify(error, partial: partial), .ipBadLength)
        }
        // IPv6: an extension header running past the payload length.
        if let (error, partial) = rejection(Make.ipv6(IPProtocolNumber.routing, [6, 2, 0, 1, 0, 0, 0, 0])) {
            XCTAssertEqual(AnomalyDetector.classify(error, partial: partial), .ipBadLength)
        }
        // Nothing decoded at all.
        if let (error, partial) = rejection([0x45, 0, 0]) {
            XCTAssertNil(AnomalyDetector.classify(error, partial: partial))
        }
    }

    func testFirstFragmentWithoutTheWholeTransportHeaderIsTiny() {
        // RFC 1858 §3: 8 bytes of TCP header in the first fragment, the flags in the next.
        let tcp = Make.ipv4(IPProtocolNumber.tcp, Array(Make.tcp(F.syn)[0..<8]), moreFragments: true)
        if let (error, partial) = rejection(tcp) {
            XCTAssertEqual(AnomalyDetector.classify(error, partial: partial), .ipTinyFragment)
        }
        // The options cut by the fragment boundary.
        let synWithOptions = Make.tcp(F.syn, options: [UInt8](repeating: 1, count: 20))
        let options = Make.ipv4(IPProtocolNumber.tcp, Array(synWithOptions[0..<24]), moreFragments: true)
        if let (error, partial) = rejection(options) {
            XCTAssertEqual(AnomalyDetector.classify(error, partial: partial), .ipTinyFragment)
        }
        let udp6 = Make.ipv6(IPProtocolNumber.fragment, Make.fragmentHeader(next: IPProtocolNumber.udp, offset: 0,
                                                                             more: true) + [0, 53, 0, 53])
        if let (error, partial) = rejection(udp6) {
            XCTAssertEqual(AnomalyDetector.classify(error, partial: partial), .ipTinyFragment)
        }
    }
}

final class AnomalyFuzzTests: XCTestCase {
    /// `isPlainTCPSegment` lets a packet skip `inspect`: it must never pass
    /// one `inspect` flags. Ordinary segments (with and without the usual
    /// timestamps, IPv4 and IPv6) with a few bytes of their headers mutated.
    func testPlainTCPSegmentsAreNeverAnomalies() {
        var rng = SplitMix64(seed: 0x91a1_7c9)
        let timestamps: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
        let seeds: [[UInt8]] = [
            Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, payload: 20)),
            Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack | F.psh, options: timestamps, payload: 100)),
            Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack | F.fin, options: timestamps)),
            Make.ipv6(IPProtocolNumber.tcp, Make.tcp(F.ack, options: timestamps, payload: 10)),
        ]
        var detector = AnomalyDetector()
        var plain = 0, notPlain = 0, flaggedNotPlain = 0
        for n in 0..<40_000 {
            var packet = seeds[n % seeds.count]
            let ipHeader = packet[0] >> 4 == 4 ? 20 : 40
            // Mutate up to three bytes of the IP and TCP headers and options.
            for _ in 0..<rng.below(4) {
                packet[rng.below(min(packet.count, ipHeader + 32))] = UInt8(truncatingIfNeeded: rng.next())
            }
            packet.withUnsafeBytes { buffer in
                var summary = PacketSummary()
                do throws(WireError) { try PacketParser.parse(buffer, into: &summary) } catch { return }
                let found = detector.inspect(summary, packet: buffer, fromOutside: true, now: Int64(n) * 1_000)
                if AnomalyDetector.isPlainTCPSegment(summary, packet: buffer) {
                    plain += 1
                    XCTAssertNil(found, "a plain segment flagged \(found.map { $0.name } ?? ""): \(packet)")
                } else {
                    notPlain += 1
                    if found != nil { flaggedNotPlain += 1 }
                }
            }
        }
        XCTAssertGreaterThan(plain, 5_000)
        XCTAssertGreaterThan(notPlain, 2_000)
        XCTAssertGreaterThan(flaggedNotPlain, 500)
    }

    func testRandomAndMutatedBuffersNeverCrashInspectOrClassify() {
        var rng = SplitMix64(seed: 0xa40_4a11)
        let seeds: [[UInt8]] = [
            Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.syn, options: [2, 4, 5, 0xb4, 1, 3, 3, 7])),
            Make.ipv4(IPProtocolNumber.tcp, Make.tcp(F.ack, payload: 20), options: [0x83, 7, 4, 1, 2, 3, 4, 0]),
            Make.ipv4(IPProtocolNumber.icmp, Make.icmp(type: 8, payload: 56), moreFragments: true),
            Make.ipv4(IPProtocolNumber.udp, Make.udp(payload: 30), fragmentOffset: 1480),
            Make.ipv6(IPProtocolNumber.hopByHop, Make.hopByHop(next: IPProtocolNumber.routing)
                + Make.routingHeader(next: IPProtocolNumber.fragment, type: 0)
                + Make.fragmentHeader(next: IPProtocolNumber.tcp, offset: 0, more: true) + Make.tcp(F.syn)),
            Make.ipv6(IPProtocolNumber.fragment, Make.fragmentHeader(next: IPProtocolNumber.icmpv6, offset: 64,
                                                                      more: true) + [UInt8](repeating: 0, count: 64)),
        ]
        var config = AnomalyConfig()
        config.fragmentTableCapacity = 16
        var detector = AnomalyDetector(config: config)
        var accepted = 0, flagged = 0, classified = 0
        var scratch = [UInt8](repeating: 0, count: 256)
        for n in 0..<20_000 {
            let length: Int
            if n % 2 == 0 {
                // Mutate a valid packet: a few random bytes, sometimes cut short.
                let seed = seeds[rng.below(seeds.count)]
                length = rng.below(4) == 0 ? rng.below(seed.count + 1) : seed.count
                for i in 0..<length { scratch[i] = seed[i] }
                for _ in 0..<(1 + rng.below(4)) where length > 0 {
                    scratch[rng.below(length)] = UInt8(truncatingIfNeeded: rng.next())
                }
            } else {
                length = rng.below(scratch.count + 1)
                for i in 0..<length { scratch[i] = UInt8(truncatingIfNeeded: rng.next()) }
                if length > 0 { scratch[0] = (rng.below(2) == 0 ? 0x40 : 0x60) | scratch[0] & 0x0f }
            }
            scratch.withUnsafeBytes { all in
                let buffer = UnsafeRawBufferPointer(rebasing: all[0..<length])
                var summary = PacketSummary()
                do throws(WireError) {
                    try PacketParser.parse(buffer, into: &summary)
                } catch {
                    if AnomalyDetector.classify(error) != nil { classified += 1 }
                    _ = AnomalyDetector.classify(error, partial: summary)
                    return
                }
                accepted += 1
                if let id = detector.inspect(summary, packet: buffer, fromOutside: n & 4 == 0,
                                             now: Int64(n) * 1_000_000) {
                    flagged += 1
                    XCTAssertEqual(AnomalyID(name: id.name), id)
                }
            }
        }
        XCTAssertGreaterThan(accepted, 2_000)
        XCTAssertGreaterThan(flagged, 500)
        XCTAssertGreaterThan(classified, 100)
    }
}
