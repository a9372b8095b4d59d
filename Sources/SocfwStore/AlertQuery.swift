internal import GRDB

/// Which alerts `alerts.list` returns: the same filter applied in SQL to the
/// `alerts` table and in Swift to alerts not yet written, so both agree.
public struct AlertQuery: Sendable, Hashable {
    public var limit: Int
    /// Only ids below this one (the cursor of the previous page).
    public var beforeID: Int64?
    /// Only unacknowledged alerts.
    public var openOnly: Bool
    /// ns since the epoch, inclusive.
    public var since: Int64?
    /// ns since the epoch, exclusive.
    public var until: Int64?
    /// Suricata's scale, 1 (high) to 3 (low): exactly this severity.
    public var severity: Int?
    /// `rule`, `signature`, `detector`, `anomaly`.
    public var source: String?
    public var signatureID: Int64?
    /// Source or destination address, as written in the row (canonical text).
    public var address: String?

    public init(limit: Int, beforeID: Int64? = nil, openOnly: Bool = false, since: Int64? = nil, until: Int64? = nil,
                severity: Int? = nil, source: String? = nil, signatureID: Int64? = nil, address: String? = nil) {
        self.limit = limit
        self.beforeID = beforeID
        self.openOnly = openOnly
        self.since = since
        self.until = until
        self.severity = severity
        self.source = source
        self.signatureID = signatureID
        self.address = address
    }

    public func matches(_ a: AlertRecord) -> Bool {
        if let beforeID, a.id >= beforeID { return false }
        if openOnly && a.acknowledged { return false }
        if let since, a.timestamp < since { return false }
        if let until, a.timestamp >= until { return false }
        if let severity, a.severity != severity { return false }
        if let source, a.source != source { return false }
        if let signatureID, a.signatureID != signatureID { return false }
        if let address, a.srcIP != address && a.dstIP != address { return false }
        return true
    }

    /// `WHERE ...` (or "") and its arguments: values are always bound, never interpolated.
    var sqlFilter: (String, [(any DatabaseValueConvertible)?]) {
        var terms: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let beforeID { terms.append("id < ?"); arguments.append(beforeID) }
        if openOnly { terms.append("acknowledged = 0") }
        if let since { terms.append("timestamp >= ?"); arguments.append(since) }
        if let until { terms.append("timestamp < ?"); arguments.append(until) }
        if let severity { terms.append("severity = ?"); arguments.append(severity) }
        if let source { terms.append("source = ?"); arguments.append(source) }
        if let signatureID { terms.append("signature_id = ?"); arguments.append(signatureID) }
        if let address { terms.append("(src_ip = ? OR dst_ip = ?)"); arguments += [address, address] }
        return (terms.isEmpty ? "" : "WHERE " + terms.joined(separator: " AND "), arguments)
    }
}
