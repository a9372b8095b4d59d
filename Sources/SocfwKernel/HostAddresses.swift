import Foundation
import SocfwWire

/// The firewall's own addresses and its default gateways (in socfwd's
/// network namespace): never to be quarantined.
public enum HostAddresses {
    public static func protected() -> [IPPrefix] {
        (interfaceAddresses() + gateways()).map { IPPrefix(network: $0, length: $0.bitWidth) }
    }

    /// Every address configured on an interface (getifaddrs).
    public static func interfaceAddresses() -> [IPAddress] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { return [] }
        defer { freeifaddrs(head) }
        var out: [IPAddress] = []
        var p = head
        while let ifa = p {
            defer { p = ifa.pointee.ifa_next }
            guard let sa = ifa.pointee.ifa_addr else { continue }
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                out.append(withUnsafeBytes(of: a) { IPAddress(networkOrder: $0, v6: false) })
            case AF_INET6:
                let a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                out.append(withUnsafeBytes(of: a) { IPAddress(networkOrder: $0, v6: true) })
            default:
                continue
            }
        }
        return out
    }

    /// Next hops of the default routes (/proc/net/route, /proc/net/ipv6_route).
    public static func gateways() -> [IPAddress] {
        var out: [IPAddress] = []
        if let text = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) {
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard f.count > 2, f[1] == "00000000", let gw = UInt32(f[2], radix: 16), gw != 0 else { continue }
                out.append(IPAddress(v4: UInt32(bigEndian: gw.littleEndian)))  // the file holds network order read as a little-endian number
            }
        }
        if let text = try? String(contentsOfFile: "/proc/net/ipv6_route", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count > 4, f[0] == String(repeating: "0", count: 32), f[1] == "00",
                      f[4] != Substring(String(repeating: "0", count: 32)) else { continue }
                var bytes: [UInt8] = []
                var i = f[4].startIndex
                while i < f[4].endIndex, let next = f[4].index(i, offsetBy: 2, limitedBy: f[4].endIndex),
                      let b = UInt8(f[4][i..<next], radix: 16) {
                    bytes.append(b)
                    i = next
                }
                if bytes.count == 16 { out.append(bytes.withUnsafeBytes { IPAddress(networkOrder: $0, v6: true) }) }
            }
        }
        return out
    }
}
