/// An IPv4 or IPv6 address as a plain value: two 64-bit words, no allocation.
///
/// IPv4 addresses live in the low 32 bits of `low` with `high == 0` and
/// `isV6 == false`; they are never confused with IPv4-mapped IPv6 addresses.
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public var isV6: Bool

    @inlinable
    public init(v4 value: UInt32) {
        self.high = 0
        self.low = UInt64(value)
        self.isV6 = false
    }

    @inlinable
    public init(v6High high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        self.isV6 = true
    }

    /// From the first 4 (IPv4) or 16 (IPv6) bytes of `bytes`, in network
    /// order, as sockets, netlink and /proc give them.
    public init(networkOrder bytes: UnsafeRawBufferPointer, v6: Bool) {
        precondition(bytes.count >= (v6 ? 16 : 4), "an IPv\(v6 ? 6 : 4) address needs \(v6 ? 16 : 4) bytes")
        if !v6 {
            self.init(v4: UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3]))
            return
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]); low = low << 8 | UInt64(bytes[8 + i]) }
        self.init(v6High: high, low: low)
    }

    /// The IPv4 address as a host-order integer (meaningful only when `!isV6`).
    @inlinable public var v4: UInt32 { UInt32(truncatingIfNeeded: low) }

    /// Address width in bits: 32 or 128.
    @inlinable public var bitWidth: Int { isV6 ? 128 : 32 }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.isV6 != rhs.isV6 { return !lhs.isV6 }
        return (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// Parses dotted-quad IPv4 or RFC 4291 / RFC 5952 IPv6 text (with `::`
    /// compression and an optional embedded IPv4 tail). Returns nil for
    /// anything else: no leading zeros in IPv4 octets (they are octal to some
    /// tools), no zone ids, no surrounding blanks.
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let (h, l) = IPAddress.parseV6(Array(text.utf8)) else { return nil }
            self.init(v6High: h, low: l)
        } else {
            guard let v = IPAddress.parseV4(Array(text.utf8)) else { return nil }
            self.init(v4: v)
        }
    }

    static func parseV4(_ bytes: [UInt8]) -> UInt32? {
        var value: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard digits > 0 else { return nil }
                value = value << 8 | current
                octets += 1
                current = 0
                digits = 0
            } else if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                if digits > 0 && current == 0 { return nil }  // leading zero
                current = current * 10 + UInt32(b - UInt8(ascii: "0"))
                digits += 1
                guard current <= 255, digits <= 3 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, octets == 3 else { return nil }
        return value << 8 | current
    }

    static func parseV6(_ bytes: [UInt8]) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var compressAt: Int? = nil
        var i = 0
        let n = bytes.count
        guard n >= 2 else { return nil }
        if bytes[0] == UInt8(ascii: ":") {
            guard bytes[1] == UInt8(ascii: ":") else { return nil }
            compressAt = 0
            i = 2
            if i == n { return (0, 0) }
        }
        while i < n {
            // An embedded IPv4 tail: the rest contains a dot.
            var j = i
            var sawDot = false
            while j < n && bytes[j] != UInt8(ascii: ":") {
                if bytes[j] == UInt8(ascii: ".") { sawDot = true }
                j += 1
            }
            if sawDot {
                guard j == n, let v4 = parseV4(Array(bytes[i..<n])) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xffff))
                i = n
                break
            }
            let len = j - i
            guard len >= 1, len <= 4 else { return nil }
            var g: UInt16 = 0
            for k in i..<j {
                guard let d = hexValue(bytes[k]) else { return nil }
                g = g << 4 | UInt16(d)
            }
            groups.append(g)
            i = j
            if i < n {  // at a colon
                i += 1
                if i < n && bytes[i] == UInt8(ascii: ":") {
                    guard compressAt == nil else { return nil }
                    compressAt = groups.count
                    i += 1
                } else if i == n {
                    return nil  // trailing single colon
                }
            }
        }
        if let at = compressAt {
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: at)
        }
        guard groups.count == 8 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for k in 0..<4 { h = h << 16 | UInt64(groups[k]) }
        for k in 4..<8 { l = l << 16 | UInt64(groups[k]) }
        return (h, l)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest run
    /// of two or more zero groups compressed).
    public var description: String {
        if !isV6 {
            let v = v4
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        }
        // RFC 5952 §5: IPv4-mapped addresses keep their dotted-quad tail.
        if high == 0 && low >> 32 == 0xffff {
            return "::ffff:" + IPAddress(v4: UInt32(truncatingIfNeeded: low)).description
        }
        var groups = [UInt16](repeating: 0, count: 8)
        for k in 0..<4 {
            groups[k] = UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(k)))
            groups[4 + k] = UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(k)))
        }
        var bestStart = -1
        var bestLen = 0
        var k = 0
        while k < 8 {
            if groups[k] == 0 {
                var e = k
                while e < 8 && groups[e] == 0 { e += 1 }
                if e - k > bestLen && e - k >= 2 { bestStart = k; bestLen = e - k }
                k = e
            } else {
                k += 1
            }
        }
        var out = ""
        k = 0
        while k < 8 {
            if k == bestStart {
                out += "::"
                k += bestLen
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[k], radix: 16)
            k += 1
        }
        return out
    }

    /// The address with every bit after the first `length` cleared.
    @inlinable
    public func masked(to length: Int) -> IPAddress {
        var r = self
        if isV6 {
            if length <= 0 { r.high = 0; r.low = 0 }
            else if length < 64 { r.high &= ~(UInt64.max >> UInt64(length)); r.low = 0 }
            else if length == 64 { r.low = 0 }
            else if length < 128 { r.low &= ~(UInt64.max >> UInt64(length - 64)) }
        } else {
            if length <= 0 { r.low = 0 }
            else if length < 32 { r.low &= UInt64(~(UInt32.max >> UInt32(length))) }
        }
        return r
    }
}

/// An address prefix (CIDR block) such as `198.18.0.0/15` or `2001:db8::/32`.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let length: Int

    /// Parses `ADDRESS/LENGTH` or a bare address (a host prefix). Host bits
    /// must be zero when `strict` is set, as nftables and most firewalls
    /// require; otherwise they are cleared.
    public init?(_ text: some StringProtocol, strict: Bool = false) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addr = IPAddress(parts[0]) else { return nil }
        var len = addr.bitWidth
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  parts[1].count <= 3, parts[1] == "0" || parts[1].first != "0",
                  let l = Int(parts[1]), l <= addr.bitWidth
            else { return nil }
            len = l
        }
        let net = addr.masked(to: len)
        if strict && net != addr { return nil }
        self.network = net
        self.length = len
    }

    public init(network: IPAddress, length: Int) {
        self.network = network.masked(to: length)
        self.length = length
    }

    @inlinable
    public func contains(_ address: IPAddress) -> Bool {
        address.isV6 == network.isV6 && address.masked(to: length) == network
    }

    public var description: String { "\(network)/\(length)" }

    /// A single address without its length (`192.0.2.7`), any other prefix
    /// with it (`198.51.100.0/24`): how operators write quarantine targets.
    public var compactDescription: String { length == network.bitWidth ? "\(network)" : description }
}
