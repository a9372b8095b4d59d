#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Address and prefix checks for targets and filters, before socfwd sees them.
public enum NetworkAddress {
    /// "192.0.2.7", "2001:db8::1".
    public static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// An address, or a prefix "10.0.0.0/24", "2001:db8::/32".
    public static func isAddressOrPrefix(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return text.count <= 45 && isAddress(text)
        case 2:
            let address = String(parts[0])
            // The length as the contract's pattern writes it: 1-3 digits, no leading zero.
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]),
                  String(length) == parts[1], parts[0].count <= 45 else { return false }
            var v4 = in_addr()
            var v6 = in6_addr()
            if inet_pton(AF_INET, address, &v4) == 1 { return (0...32).contains(length) }
            if inet_pton(AF_INET6, address, &v6) == 1 { return (0...128).contains(length) }
            return false
        default:
            return false
        }
    }
}
