internal import GRDB

/// One row of `alerts`: what a rule, signature or detector reported, and whether an operator
/// has acknowledged it.
public struct AlertRecord: Sendable, Equatable, Codable {
    /// Assigned by the store; ignored on insert.
    public var id: Int64
    /// ns since the epoch.
    public var timestamp: Int64
    /// What raised it: `rule`, `signature`, `detector`, ...
    public var source: String
    /// Suricata's scale: 1 (high) to 3 (low).
    public var severity: Int
    public var title: String
    public var message: String
    public var signatureID: Int64?
    public var srcIP: String?
    public var dstIP: String?
    public var acknowledged: Bool
    public var acknowledgedBy: String?
    /// ns since the epoch.
    public var acknowledgedAt: Int64?
    /// The EVE JSON line as emitted, when there is one.
    public var eve: String?

    public init(id: Int64 = 0, timestamp: Int64, source: String, severity: Int, title: String,
                message: String, signatureID: Int64? = nil, srcIP: String? = nil, dstIP: String? = nil,
                acknowledged: Bool = false, acknowledgedBy: String? = nil, acknowledgedAt: Int64? = nil,
                eve: String? = nil) {
        self.id = id
        self.timestamp = timestamp
        self.source = source
        self.severity = severity
        self.title = title
        self.message = message
        self.signatureID = signatureID
        self.srcIP = srcIP
        self.dstIP = dstIP
        self.acknowledged = acknowledged
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.eve = eve
    }

    init(row: Row) throws {
        self.init(
            id: try row.decode(forColumn: "id"),
            timestamp: try row.decode(forColumn: "timestamp"),
            source: try row.decode(forColumn: "source"),
            severity: try row.decode(forColumn: "severity"),
            title: try row.decode(forColumn: "title"),
            message: try row.decode(forColumn: "message"),
            signatureID: try row.decode(forColumn: "signature_id"),
            srcIP: try row.decode(forColumn: "src_ip"),
            dstIP: try row.decode(forColumn: "dst_ip"),
            acknowledged: try row.decode(forColumn: "acknowledged"),
            acknowledgedBy: try row.decode(forColumn: "acknowledged_by"),
            acknowledgedAt: try row.decode(forColumn: "acknowledged_at"),
            eve: try row.decode(forColumn: "eve"))
    }
}
