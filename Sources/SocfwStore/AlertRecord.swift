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

    /// The columns `init(row:)` reads, in its order: select (or return) exactly these.
    /// By position, not by name: GRDB's lookup by name lowercases each name for each
    /// row, which was a tenth of `alerts.list` (100 rows).
    static let columns = "id, timestamp, source, severity, title, message, signature_id, src_ip, dst_ip, "
        + "acknowledged, acknowledged_by, acknowledged_at, eve"

    init(row: Row) throws {
        self.init(
            id: try row.decode(atIndex: 0),
            timestamp: try row.decode(atIndex: 1),
            source: try row.decode(atIndex: 2),
            severity: try row.decode(atIndex: 3),
            title: try row.decode(atIndex: 4),
            message: try row.decode(atIndex: 5),
            signatureID: try row.decode(atIndex: 6),
            srcIP: try row.decode(atIndex: 7),
            dstIP: try row.decode(atIndex: 8),
            acknowledged: try row.decode(atIndex: 9),
            acknowledgedBy: try row.decode(atIndex: 10),
            acknowledgedAt: try row.decode(atIndex: 11),
            eve: try row.decode(atIndex: 12))
    }
}
