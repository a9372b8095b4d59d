import Testing
import SocfwWire

@Suite("IPAddress and IPPrefix")
struct IPAddressTests {
    @Test("valid addresses parse and print canonically (RFC 5952 for IPv6)", arguments: [
        ("0.0.0.0", "0.0.0.0"),
        ("1.2.3.4", "1.2.3.4"),
        ("192.168.0.1", "192.168.0.1"),
        ("255.255.255.255", "255.255.255.255"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),  // §4.3 lower case
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),  // §4.1 no leading zeros
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),  // §4.2.2 a single zero group is not compressed
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // §4.2.3 the longest run is compressed
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // §4.2.3 on a tie, the first run
        ("fe80::21f:caff:feb3:75c0", "fe80::21f:caff:feb3:75c0"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),  // RFC 5952 §5: IPv4-mapped keeps the dotted tail
        ("::ffff:102:304", "::ffff:1.2.3.4"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func validAddresses(_ text: String, _ canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
        #expect(address.isV6 == text.contains(":"))
    }

    @Test("invalid addresses are rejected", arguments: [
        "", " ", "1.2.3.4; flush ruleset", "999.1.1.1", "256.0.0.0", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5",
        "1..2.3", ".1.2.3", "1.2.3.", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "0x1.2.3.4", "1.2.3.-4", "1234.1.1.1",
        "1:2:3:4:5:6:7:8:9", ":::", "1::2::3", "1:2:3:4:5:6:7:8::", ":1::", "1:", ":", "12345::", "g::1",
        "fe80::1%eth0", "::1.2.3", "::1.2.3.4:5", "[::1]", "::1;", "1.2.3.4::", "2001:db8::1/64",
        "::ffff:01.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
    ])
    func invalidAddresses(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("IPv4 addresses are never equal to their IPv4-mapped IPv6 form")
    func v4IsNotMapped() throws {
        let v4 = try #require(IPAddress("1.2.3.4"))
        let mapped = try #require(IPAddress("::ffff:1.2.3.4"))
        #expect(v4 != mapped)
        #expect(v4.v4 == 0x0102_0304)
        #expect(v4.bitWidth == 32)
        #expect(mapped.bitWidth == 128)
        #expect(v4 < mapped)  // IPv4 sorts first
    }

    @Test("prefixes parse, clear host bits unless strict, and print", arguments: [
        ("10.0.0.0/8", false, "10.0.0.0/8"),
        ("10.1.2.3/8", false, "10.0.0.0/8"),
        ("10.1.2.3/8", true, nil),
        ("10.0.0.0/8", true, "10.0.0.0/8"),
        ("1.2.3.4", true, "1.2.3.4/32"),
        ("0.0.0.0/0", true, "0.0.0.0/0"),
        ("1.2.3.4/0", false, "0.0.0.0/0"),
        ("192.0.2.255/31", false, "192.0.2.254/31"),
        ("2001:db8::/32", true, "2001:db8::/32"),
        ("2001:db8::1/32", true, nil),
        ("2001:db8::1/32", false, "2001:db8::/32"),
        ("2001:db8::1", false, "2001:db8::1/128"),
        ("::/0", true, "::/0"),
        ("2001:db8:1:2:3:4:5:6/65", false, "2001:db8:1:2::/65"),
        ("10.0.0.0/33", false, nil),
        ("2001:db8::/129", false, nil),
        ("10.0.0.0/", false, nil),
        ("10.0.0.0/-1", false, nil),
        ("10.0.0.0/+8", false, nil),
        ("10.0.0.0/8/8", false, nil),
        ("10.0.0.0/1000", false, nil),
        ("10.0.0.0/8 ", false, nil),
        ("/8", false, nil),
        ("10.0.0.0/8; flush ruleset", false, nil),
        ("10.0.0.0/08", false, nil),  // leading zeros are ambiguous (octal to some tools)
    ] as [(String, Bool, String?)])
    func prefixes(_ text: String, _ strict: Bool, _ expected: String?) {
        #expect(IPPrefix(text, strict: strict)?.description == expected)
    }

    @Test("prefix membership respects length and address family", arguments: [
        ("10.0.0.0/8", "10.255.1.2", true),
        ("10.0.0.0/8", "11.0.0.0", false),
        ("0.0.0.0/0", "203.0.113.1", true),
        ("0.0.0.0/0", "::1", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::", false),
        ("::/0", "1.2.3.4", false),
        ("::ffff:0:0/96", "1.2.3.4", false),
        ("2001:db8::1/128", "2001:db8::1", true),
        ("2001:db8::1/128", "2001:db8::2", false),
        ("2001:db8:1:2::/65", "2001:db8:1:2:7fff::", true),
        ("2001:db8:1:2::/65", "2001:db8:1:2:8000::", false),
    ])
    func prefixContains(_ prefix: String, _ address: String, _ inside: Bool) throws {
        let block = try #require(IPPrefix(prefix))
        let candidate = try #require(IPAddress(address))
        #expect(block.contains(candidate) == inside)
    }

    @Test("masking keeps the first bits only", arguments: [
        ("255.255.255.255", 0, "0.0.0.0"), ("255.255.255.255", 1, "128.0.0.0"), ("255.255.255.255", 31, "255.255.255.254"),
        ("255.255.255.255", 32, "255.255.255.255"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 64, "ffff:ffff:ffff:ffff::"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 127, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, "8000::"),
    ])
    func masking(_ text: String, _ length: Int, _ expected: String) throws {
        #expect(try #require(IPAddress(text)).masked(to: length).description == expected)
    }
}
