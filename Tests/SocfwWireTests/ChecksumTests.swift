import Testing
import SocfwWire

/// The RFC 1071 definition, one 16-bit word at a time, for comparison.
func referenceSum(_ bytes: [UInt8]) -> UInt32 {
    var sum: UInt64 = 0
    var index = 0
    while index + 1 < bytes.count {
        sum += UInt64(bytes[index]) << 8 | UInt64(bytes[index + 1])
        index += 2
    }
    if index < bytes.count { sum += UInt64(bytes[index]) << 8 }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    return UInt32(sum)
}

func sum(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBytes { InternetChecksum.sum($0, initial: initial) }
}

@Suite("InternetChecksum")
struct ChecksumTests {
    @Test("the RFC 1071 §3 numerical example")
    func rfc1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        #expect(sum(bytes) == 0xddf2)
        #expect(InternetChecksum.finish(sum(bytes)) == 0x220d)
    }

    @Test("an odd trailing byte is padded on the right")
    func oddLength() {
        #expect(sum([0xab]) == 0xab00)
        #expect(sum([0x12, 0x34, 0x56]) == 0x1234 + 0x5600)
    }

    @Test("empty and all-zero input sum to zero; finish complements")
    func zeros() {
        #expect(sum([]) == 0)
        #expect(sum([0, 0, 0, 0]) == 0)
        #expect(InternetChecksum.finish(0) == 0xffff)
        #expect(InternetChecksum.finish(0xffff) == 0)
        #expect(InternetChecksum.finish(0x1_fffe) == 0)  // folds before complementing
    }

    @Test("matches the word-by-word definition for every length and alignment")
    func matchesReference() {
        var rng = SplitMix64(seed: 1071)
        var storage = [UInt8](repeating: 0, count: 300)
        for index in storage.indices { storage[index] = UInt8(truncatingIfNeeded: rng.next()) }
        var mismatches = 0
        for start in 0..<8 {
            for length in 0...(storage.count - start) {
                let slice = Array(storage[start..<start + length])
                let fast = storage.withUnsafeBytes {
                    InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[start..<start + length]))
                }
                if fast != referenceSum(slice) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("large all-0xff buffers do not overflow")
    func noOverflow() {
        let bytes = [UInt8](repeating: 0xff, count: 200_003)
        #expect(sum(bytes) == referenceSum(bytes))
        #expect(sum(bytes, initial: 0xffff_ffff) <= 0xffff)
    }

    @Test("partial sums chain through initial when pieces have even lengths")
    func chaining() {
        let whole = Array(Fixtures.ipv6TCPSack)
        for cut in stride(from: 0, through: whole.count, by: 2) {
            let chained = sum(Array(whole[cut...]), initial: sum(Array(whole[..<cut])))
            #expect(InternetChecksum.finish(chained) == InternetChecksum.finish(sum(whole)))
        }
    }

    @Test("the IPv4 pseudo header is source, destination, zero, protocol, 16-bit length")
    func ipv4PseudoHeader() {
        let explicit: [UInt8] = [192, 0, 2, 1, 198, 51, 100, 2, 0, 6, 0x01, 0x2c]
        let value = InternetChecksum.pseudoHeaderSum(source: ip("192.0.2.1"), destination: ip("198.51.100.2"),
                                                     protocolNumber: 6, length: 300)
        #expect(value == referenceSum(explicit))
    }

    @Test("the IPv6 pseudo header is source, destination, 32-bit length, zeros, next header (RFC 8200 §8.1)")
    func ipv6PseudoHeader() {
        let source = ip("2001:db8:ffff::1")
        let destination = ip("fe80::ffff:ffff:ffff:ffff")
        var explicit: [UInt8] = []
        for address in [source, destination] {
            for word in [address.high, address.low] {
                for shift in stride(from: 56, through: 0, by: -8) { explicit.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
            }
        }
        explicit += [0x00, 0x01, 0x00, 0x10, 0, 0, 0, 58]  // length 65552 (needs the high half)
        let value = InternetChecksum.pseudoHeaderSum(source: source, destination: destination,
                                                     protocolNumber: 58, length: 65552)
        #expect(value == referenceSum(explicit))
    }

    @Test("checksum() verifies captured headers to zero")
    func capturedHeadersVerify() {
        let header = Array(Fixtures.ipv4TCPSyn.prefix(20))
        #expect(header.withUnsafeBytes { InternetChecksum.checksum($0) } == 0)
    }
}
