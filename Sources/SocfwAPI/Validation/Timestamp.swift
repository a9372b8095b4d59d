import Foundation

/// RFC 3339 timestamps ("2026-11-26T03:00:00Z", "…T03:00:00.250+01:00") as
/// nanoseconds since the epoch, the unit socfwd's `*_ns` fields use.
enum Timestamp {
    static func nanoseconds(rfc3339 text: String) -> Int64? {
        // RFC 3339 needs a date, 'T' (or 't' / space), time and an offset.
        guard text.count >= 20 else { return nil }
        let normalized = text.replacingOccurrences(of: "t", with: "T").replacingOccurrences(of: "z", with: "Z")
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: normalized) ?? fractional.date(from: normalized) else { return nil }
        let ns = date.timeIntervalSince1970 * 1e9
        guard ns.isFinite, abs(ns) < 9.2e18 else { return nil }
        return Int64(ns.rounded())
    }
}
