import SocfwWire

/// IPv4 (or IPv6) + TCP/UDP/ICMP packets with a payload, for the IDS tests.
enum TestPacket {
    static func tcp(_ src: String, _ dst: String, sport: UInt16 = 40000, dport: UInt16 = 80, flags: UInt8 = 0x18,
                    seq: UInt32 = 1000, ack: UInt32 = 1, payload: [UInt8] = [], ttl: UInt8 = 64) -> [UInt8] {
        var tcp = [UInt8](repeating: 0, count: 20)
        tcp[0] = UInt8(sport >> 8); tcp[1] = UInt8(sport & 0xff); tcp[2] = UInt8(dport >> 8); tcp[3] = UInt8(dport & 0xff)
        for k in 0..<4 {
            tcp[4 + k] = UInt8(truncatingIfNeeded: seq >> (24 - 8 * UInt32(k)))
            tcp[8 + k] = UInt8(truncatingIfNeeded: ack >> (24 - 8 * UInt32(k)))
        }
        tcp[12] = 0x50; tcp[13] = flags; tcp[14] = 0xff; tcp[15] = 0xff
        return ip(src, dst, proto: 6, l4: tcp + payload, ttl: ttl)
    }

    static func udp(_ src: String, _ dst: String, sport: UInt16 = 40000, dport: UInt16 = 53, payload: [UInt8] = [],
                    ttl: UInt8 = 64) -> [UInt8] {
        var udp = [UInt8](repeating: 0, count: 8)
        udp[0] = UInt8(sport >> 8); udp[1] = UInt8(sport & 0xff); udp[2] = UInt8(dport >> 8); udp[3] = UInt8(dport & 0xff)
        udp[4] = UInt8((8 + payload.count) >> 8); udp[5] = UInt8((8 + payload.count) & 0xff)
        return ip(src, dst, proto: 17, l4: udp + payload, ttl: ttl)
    }

    static func icmp(_ src: String, _ dst: String, type: UInt8 = 8, code: UInt8 = 0, payload: [UInt8] = []) -> [UInt8] {
        ip(src, dst, proto: 1, l4: [type, code, 0, 0, 0, 1, 0, 1] + payload)
    }

    static func ip(_ src: String, _ dst: String, proto: UInt8, l4: [UInt8], ttl: UInt8 = 64) -> [UInt8] {
        let s = IPAddress(src)!, d = IPAddress(dst)!
        func bytes(_ a: IPAddress) -> [UInt8] {
            a.isV6 ? (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? a.high : a.low) >> UInt64(56 - 8 * ($0 % 8))) }
                : (0..<4).map { UInt8(truncatingIfNeeded: a.v4 >> UInt32(24 - 8 * $0)) }
        }
        if s.isV6 {
            var h = [UInt8](repeating: 0, count: 40)
            h[0] = 0x60; h[4] = UInt8(l4.count >> 8); h[5] = UInt8(l4.count & 0xff); h[6] = proto == 1 ? 58 : proto
            h[7] = ttl
            h.replaceSubrange(8..<24, with: bytes(s)); h.replaceSubrange(24..<40, with: bytes(d))
            return h + l4
        }
        var h = [UInt8](repeating: 0, count: 20)
        let total = 20 + l4.count
        h[0] = 0x45; h[2] = UInt8(total >> 8); h[3] = UInt8(total & 0xff); h[8] = ttl; h[9] = proto
        h.replaceSubrange(12..<16, with: bytes(s)); h.replaceSubrange(16..<20, with: bytes(d))
        var sum: UInt32 = 0
        for k in stride(from: 0, to: 20, by: 2) { sum += UInt32(h[k]) << 8 | UInt32(h[k + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        h[10] = UInt8(~UInt16(sum) >> 8); h[11] = UInt8(~UInt16(sum) & 0xff)
        return h + l4
    }

    static func summary(_ bytes: [UInt8]) -> PacketSummary {
        var s = PacketSummary()
        bytes.withUnsafeBytes { try! PacketParser.parse($0, wireLength: nil, into: &s) }
        return s
    }
}
