import Foundation
import SocfwWire

/// What may be quarantined, and for how long: the checks every quarantine
/// request passes (operator, API, rules, detectors alike) before anything
/// reaches the database or the kernel.
public struct QuarantinePolicy: Sendable, Equatable {
    /// Shortest prefixes accepted (a /0 would cut off everything).
    public var minimumPrefixV4 = 16
    public var minimumPrefixV6 = 32
    /// Never quarantined, nor anything overlapping them: management
    /// networks from the configuration, plus the firewall's own addresses
    /// and gateways (added at start).
    public var allowlist: [IPPrefix] = []
    /// Duration of a first offence; later offences within `escalationWindowSeconds`
    /// take the next step of `escalation` (nil: permanent).
    public var defaultDurationSeconds: Int64? = 3600
    public var escalation: [Int64?] = [3600, 6 * 3600, 24 * 3600, nil]
    public var escalationWindowSeconds: Int64 = 7 * 24 * 3600
    /// Expiry is spread over this many seconds so that thousands of entries
    /// added together do not all expire in the same second.
    public var expiryJitterSeconds: Int64 = 30

    public init() {}

    /// Why a target was refused, in words an operator can act on.
    public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The target as a prefix (an address is a /32 or /128), or why not.
    /// Accepted: one IPv4 or IPv6 address or prefix, in any valid notation,
    /// with no host bits after the prefix length.
    /// The entries of a target list file: one per line, `#` starts a
    /// comment, blanks (spaces, tabs, CR) around entries and empty lines are
    /// ignored. Bytes, not characters: 100,000 lines in a few milliseconds.
    public static func targets(inList data: some Collection<UInt8>) -> [String] {
        var out: [String] = []
        var line: [UInt8] = []
        line.reserveCapacity(64)
        var inComment = false
        func finish() {
            var start = line.startIndex, end = line.endIndex
            while start < end && (line[start] == 0x20 || line[start] == 0x09 || line[start] == 0x0d) { start += 1 }
            while end > start && (line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0d) { end -= 1 }
            if start < end { out.append(String(decoding: line[start..<end], as: UTF8.self)) }
            line.removeAll(keepingCapacity: true)
            inComment = false
        }
        for byte in data {
            if byte == 0x0a {
                finish()
            } else if byte == 0x23 {
                inComment = true
            } else if !inComment {
                line.append(byte)
            }
        }
        finish()
        return out
    }

    public func validate(_ text: String) -> Result<IPPrefix, Refusal> {
        let trimmed = text
        guard !trimmed.isEmpty, trimmed.utf8.count <= 64,
              trimmed.utf8.allSatisfy({ b in
                  (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46) || b == 0x2e || b == 0x3a || b == 0x2f
              })
        else {
            return .failure(Refusal(message: "'\(text)' is not an IP address or prefix (e.g. 203.0.113.7, 198.51.100.0/24, 2001:db8::/48)"))
        }
        let prefix: IPPrefix
        if trimmed.utf8.contains(0x2f) {
            guard let p = IPPrefix(trimmed, strict: true) else {
                if IPPrefix(trimmed) != nil {
                    return .failure(Refusal(message: "'\(text)' has host bits set after the prefix length"))
                }
                return .failure(Refusal(message: "'\(text)' is not an IP address or prefix (e.g. 198.51.100.0/24)"))
            }
            prefix = p
        } else {
            guard let a = IPAddress(trimmed), Self.isCanonicalV4(trimmed) || a.isV6 else {
                return .failure(Refusal(message: "'\(text)' is not an IP address (e.g. 203.0.113.7 or 2001:db8::7)"))
            }
            prefix = IPPrefix(network: a, length: a.bitWidth)
        }
        let minimum = prefix.network.isV6 ? minimumPrefixV6 : minimumPrefixV4
        guard prefix.length >= minimum else {
            return .failure(Refusal(message: "'\(text)' is too wide: quarantine takes IPv\(prefix.network.isV6 ? 6 : 4) prefixes of /\(minimum) or longer (quarantine.minimum_prefix_v\(prefix.network.isV6 ? 6 : 4))"))
        }
        if let protected = allowlist.first(where: { $0.overlaps(prefix) }) {
            return .failure(Refusal(message: "'\(text)' overlaps \(protected), which is never quarantined (management network, or the firewall's own address or gateway)"))
        }
        return .success(prefix)
    }

    /// Dotted quad without leading zeros (`010.1.1.1` reads as octal elsewhere).
    static func isCanonicalV4(_ s: String) -> Bool {
        guard !s.contains(":") else { return true }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { $0 == "0" || !$0.hasPrefix("0") }
    }

    /// The duration for an offence: an explicit request wins; otherwise the
    /// escalation step for the number of earlier offences in the window
    /// (`priorOffences` 0 for a first one). nil means permanent.
    public func duration(requestedSeconds: Int64??, priorOffences: Int) -> Int64? {
        if let requested = requestedSeconds { return requested }
        guard !escalation.isEmpty else { return defaultDurationSeconds }
        return escalation[min(priorOffences, escalation.count - 1)]
    }

    /// An expiry moment spread by up to `expiryJitterSeconds` (deterministic
    /// per target, so retries agree).
    public func expiry(from now: Int64, seconds: Int64?, target: IPPrefix) -> Int64? {
        guard let seconds else { return nil }
        var jitter: Int64 = 0
        if expiryJitterSeconds > 0 {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in "\(target)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            jitter = Int64(h % UInt64(expiryJitterSeconds * 1000)) * 1_000_000
        }
        return now + seconds * 1_000_000_000 + jitter
    }

    /// `90s`, `30m`, `1h`, `2d`, `1w`, a plain number of seconds, or
    /// `permanent` (nil).
    public static func parseDuration(_ text: String) -> Result<Int64?, Refusal> {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "permanent" || t == "forever" { return .success(nil) }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400]
        var number = Substring(t)
        var unit: Int64 = 1
        if let last = t.last, let u = units[last] {
            unit = u
            number = t.dropLast()
        }
        guard let n = Int64(number), n > 0, n <= 3650 * 86400 / unit else {
            return .failure(Refusal(message: "'\(text)' is not a duration (e.g. 90s, 30m, 1h, 2d, 1w, or permanent; at most 10 years)"))
        }
        return .success(n * unit)
    }
}

extension IPPrefix {
    /// One of the two contains the other (prefixes never partly overlap).
    public func overlaps(_ other: IPPrefix) -> Bool {
        guard network.isV6 == other.network.isV6 else { return false }
        return contains(other.network) || other.contains(network)
    }
}
