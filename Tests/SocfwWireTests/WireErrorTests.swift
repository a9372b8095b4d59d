import Testing
import SocfwWire

/// An input that must fail, how to feed it, and the exact error.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    enum Entry: Sendable {
        case parser(wireLength: Int?)
        case tcpOptions
    }
    let name: String
    let bytes: [UInt8]
    let entry: Entry
    let expected: WireError
    let counterName: String
    var testDescription: String { name }

    init(_ name: String, _ bytes: [UInt8], via entry: Entry = .parser(wireLength: nil),
         _ expected: WireError, _ counterName: String) {
        self.name = name
        self.bytes = bytes
        self.entry = entry
        self.expected = expected
        self.counterName = counterName
    }
}

private func modified(_ bytes: [UInt8], fixChecksum: Bool = false, _ change: (inout [UInt8]) -> Void) -> [UInt8] {
    var copy = bytes
    change(&copy)
    if fixChecksum { Build.fixIPv4Checksum(&copy) }
    return copy
}

/// A chain of `count` destination-options headers ending in No Next Header.
func destinationOptionsChain(_ count: Int) -> [UInt8] {
    var payload: [UInt8] = []
    for index in 0..<count {
        let next = index == count - 1 ? IPProtocolNumber.noNextHeader : IPProtocolNumber.destinationOptions
        payload += Build.extensionHeader(next: next)
    }
    return Build.ipv6(nextHeader: count == 0 ? IPProtocolNumber.noNextHeader : IPProtocolNumber.destinationOptions,
                      payload: payload)
}

let errorCases: [ErrorCase] = [
    ErrorCase("empty buffer", [], .truncated(layer: .ipv4, needed: 20, available: 0), "ipv4_truncated"),
    ErrorCase("IPv4 header cut at 19 bytes", Array(Fixtures.ipv4TCPSyn.prefix(19)),
              .truncated(layer: .ipv4, needed: 20, available: 19), "ipv4_truncated"),
    ErrorCase("IPv4 options cut short", Array(Fixtures.ipv4RecordRouteUDP.prefix(30)), via: .parser(wireLength: 49),
              .truncated(layer: .ipv4, needed: 36, available: 30), "ipv4_truncated"),
    ErrorCase("IPv6 header cut at 39 bytes", Array(Fixtures.ipv6TCPSyn.prefix(39)),
              .truncated(layer: .ipv6, needed: 40, available: 39), "ipv6_truncated"),
    ErrorCase("IPv6 extension header cut short", Array(Fixtures.ipv6HopByHopFirstFragment.prefix(52)),
              via: .parser(wireLength: 80), .truncated(layer: .ipv6, needed: 56, available: 52), "ipv6_truncated"),
    ErrorCase("TCP header cut short", Array(Fixtures.ipv4TCPSyn.prefix(35)), via: .parser(wireLength: 60),
              .truncated(layer: .tcp, needed: 20, available: 15), "tcp_truncated"),
    ErrorCase("TCP options beyond the segment", Array(Fixtures.ipv4TCPSyn.prefix(50)), via: .parser(wireLength: 60),
              .truncated(layer: .tcp, needed: 40, available: 30), "tcp_truncated"),
    ErrorCase("UDP header cut short", Array(Fixtures.ipv4UDPDNSQuery.prefix(24)), via: .parser(wireLength: 57),
              .truncated(layer: .udp, needed: 8, available: 4), "udp_truncated"),
    ErrorCase("ICMP header cut short", Array(Fixtures.ipv4ICMPEcho.prefix(27)), via: .parser(wireLength: 84),
              .truncated(layer: .icmp, needed: 8, available: 7), "icmp_truncated"),
    ErrorCase("ICMPv6 header cut short", Array(Fixtures.ipv6ICMPv6Echo.prefix(44)), via: .parser(wireLength: 104),
              .truncated(layer: .icmpv6, needed: 8, available: 4), "icmpv6_truncated"),
    ErrorCase("version 5", modified(Fixtures.ipv4TCPSyn) { $0[0] = 0x55 }, .badVersion(5), "ip_bad_version"),
    ErrorCase("version 15", [0xf0], .badVersion(15), "ip_bad_version"),
    ErrorCase("IPv4 IHL 4", modified(Fixtures.ipv4TCPSyn, fixChecksum: false) { $0[0] = 0x44 },
              .badHeaderLength(layer: .ipv4, value: 16), "ipv4_bad_header_length"),
    ErrorCase("IPv4 IHL 0", modified(Fixtures.ipv4TCPSyn) { $0[0] = 0x40 },
              .badHeaderLength(layer: .ipv4, value: 0), "ipv4_bad_header_length"),
    ErrorCase("TCP data offset 4", modified(Fixtures.ipv4TCPSyn) { $0[32] = 0x40 },
              .badHeaderLength(layer: .tcp, value: 16), "tcp_bad_header_length"),
    ErrorCase("UDP length 7", modified(Fixtures.ipv4UDPDNSQuery) { Build.set16(&$0, at: 24, 7) },
              .badHeaderLength(layer: .udp, value: 7), "udp_bad_header_length"),
    ErrorCase("IPv4 total length below the header", modified(Fixtures.ipv4TCPSyn) { Build.set16(&$0, at: 2, 19) },
              .badTotalLength(layer: .ipv4, declared: 19, available: 60), "ipv4_bad_total_length"),
    ErrorCase("IPv4 total length beyond the wire", modified(Fixtures.ipv4TCPSyn) { Build.set16(&$0, at: 2, 61) },
              .badTotalLength(layer: .ipv4, declared: 61, available: 60), "ipv4_bad_total_length"),
    ErrorCase("IPv6 payload length beyond the wire", modified(Fixtures.ipv6TCPSyn) { Build.set16(&$0, at: 4, 41) },
              .badTotalLength(layer: .ipv6, declared: 81, available: 80), "ipv6_bad_total_length"),
    ErrorCase("UDP length beyond the IP payload", modified(Fixtures.ipv4UDPDNSQuery) { Build.set16(&$0, at: 24, 38) },
              .badTotalLength(layer: .udp, declared: 38, available: 37), "udp_bad_total_length"),
    ErrorCase("nine extension headers", destinationOptionsChain(9),
              .extensionChainTooLong(limit: 8), "ipv6_extension_chain_too_long"),
    ErrorCase("hop-by-hop after destination options",
              Build.ipv6(nextHeader: IPProtocolNumber.destinationOptions,
                         payload: Build.extensionHeader(next: IPProtocolNumber.hopByHop)
                             + Build.extensionHeader(next: IPProtocolNumber.noNextHeader)),
              .badExtensionHeader(nextHeader: 0), "ipv6_bad_extension_header"),
    ErrorCase("two fragment headers",
              Build.ipv6(nextHeader: IPProtocolNumber.fragment,
                         payload: Build.fragmentHeader(next: IPProtocolNumber.fragment, offset: 0, more: true)
                             + Build.fragmentHeader(next: IPProtocolNumber.udp, offset: 8, more: false)),
              .badExtensionHeader(nextHeader: 44), "ipv6_bad_extension_header"),
    ErrorCase("TCP option length runs past the option area", [0x02, 0x04, 0x05], via: .tcpOptions,
              .badOptions(layer: .tcp), "tcp_bad_options"),
]

let counterNameCases: [(WireError, String)] = [
    (.truncated(layer: .ipv4, needed: 20, available: 3), "ipv4_truncated"),
    (.truncated(layer: .icmpv6, needed: 8, available: 0), "icmpv6_truncated"),
    (.badVersion(9), "ip_bad_version"),
    (.badHeaderLength(layer: .tcp, value: 8), "tcp_bad_header_length"),
    (.badHeaderLength(layer: .udp, value: 2), "udp_bad_header_length"),
    (.badTotalLength(layer: .ipv6, declared: 9, available: 1), "ipv6_bad_total_length"),
    (.extensionChainTooLong(limit: 8), "ipv6_extension_chain_too_long"),
    (.badExtensionHeader(nextHeader: 0), "ipv6_bad_extension_header"),
    (.badOptions(layer: .tcp), "tcp_bad_options"),
]

@Suite("WireError")
struct WireErrorTests {
    @Test("each malformed input produces its exact error and counter name", arguments: errorCases)
    func producesError(_ testCase: ErrorCase) {
        let error: WireError?
        switch testCase.entry {
        case .parser(let wireLength):
            error = parseError(testCase.bytes, wireLength: wireLength)
        case .tcpOptions:
            error = testCase.bytes.withUnsafeBytes { buffer in
                var iterator = TCPOptionIterator(buffer)
                do throws(WireError) {
                    while try iterator.next() != nil {}
                    return nil
                } catch {
                    return error
                }
            }
        }
        #expect(error == testCase.expected)
        #expect(error?.counterName == testCase.counterName)
    }

    @Test("every WireError case is produced by at least one input")
    func everyCaseCovered() {
        var kinds = Set<String>()
        for testCase in errorCases {
            switch testCase.expected {
            case .truncated: kinds.insert("truncated")
            case .badVersion: kinds.insert("badVersion")
            case .badHeaderLength: kinds.insert("badHeaderLength")
            case .badTotalLength: kinds.insert("badTotalLength")
            case .extensionChainTooLong: kinds.insert("extensionChainTooLong")
            case .badExtensionHeader: kinds.insert("badExtensionHeader")
            case .badOptions: kinds.insert("badOptions")
            }
        }
        #expect(kinds.count == 7)
        let layers = Set(errorCases.compactMap { testCase -> WireLayer? in
            if case .truncated(let layer, _, _) = testCase.expected { return layer }
            return nil
        })
        #expect(layers == Set(WireLayer.allCases))
    }

    @Test("exactly eight extension headers are accepted")
    func eightExtensionHeadersAccepted() throws {
        let result = try parsed(destinationOptionsChain(8)).get()
        #expect(result.ipv6ExtensionHeaders == 8)
        #expect(result.l4Protocol == IPProtocolNumber.noNextHeader)
    }

    @Test("counter names follow layer_problem snake_case", arguments: counterNameCases)
    func counterNames(_ error: WireError, _ name: String) {
        #expect(error.counterName == name)
    }

    @Test("allCounterNames lists every name once, all lowercase snake_case")
    func allCounterNamesAreUniqueAndWellFormed() {
        let names = WireError.allCounterNames
        #expect(names.count == 4 * WireLayer.allCases.count + 3)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") })
        }
        for testCase in errorCases {
            #expect(names.contains(testCase.expected.counterName))
        }
    }

    @Test("descriptions are readable sentences")
    func descriptions() {
        #expect(WireError.truncated(layer: .tcp, needed: 20, available: 4).description
                == "tcp: truncated, needed 20 bytes, 4 available")
        #expect(WireError.badVersion(7).description == "ip: bad version 7")
    }
}
