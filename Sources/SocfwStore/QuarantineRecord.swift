internal import GRDB

/// What the kernel does with a quarantined target's packets.
public enum QuarantineAction: String, Sendable, Equatable, Codable, CaseIterable {
    case drop
    case reject
}

/// Who asked for a quarantine.
public enum QuarantineSource: String, Sendable, Equatable, Codable, CaseIterable {
    case rule, detector, intel, `operator`, api
}

/// One row of `quarantine`: a target cut off from `timestamp` until `expires` (or for good),
/// or until released.
public struct QuarantineRecord: Sendable, Equatable, Codable {
    /// Assigned by the store; ignored by `insertQuarantine`.
    public var id: Int64
    /// Canonical address or prefix text (`192.0.2.7`, `2001:db8::/48`); validated by the caller.
    public var target: String
    public var reason: String
    public var action: QuarantineAction
    public var source: QuarantineSource
    /// When the quarantine started, ns since the epoch.
    public var timestamp: Int64
    /// When it ends, ns since the epoch; nil for permanent.
    public var expires: Int64?
    public var description: String?
    /// False once released or expired.
    public var active: Bool
    public var releasedAt: Int64?
    /// The releasing actor, or `"expiry"`.
    public var releasedBy: String?
    /// 1 for a first offence; the caller raises it (from `offenceCount`) to escalate durations.
    public var offence: Int

    public init(id: Int64 = 0, target: String, reason: String, action: QuarantineAction,
                source: QuarantineSource, timestamp: Int64, expires: Int64? = nil,
                description: String? = nil, active: Bool = true, releasedAt: Int64? = nil,
                releasedBy: String? = nil, offence: Int = 1) {
        self.id = id
        self.target = target
        self.reason = reason
        self.action = action
        self.source = source
        self.timestamp = timestamp
        self.expires = expires
        self.description = description
        self.active = active
        self.releasedAt = releasedAt
        self.releasedBy = releasedBy
        self.offence = offence
    }

    init(row: Row) throws {
        let action: String = try row.decode(forColumn: "action")
        let source: String = try row.decode(forColumn: "source")
        guard let parsedAction = QuarantineAction(rawValue: action) else {
            throw MalformedRow(table: "quarantine", column: "action", value: action)
        }
        guard let parsedSource = QuarantineSource(rawValue: source) else {
            throw MalformedRow(table: "quarantine", column: "source", value: source)
        }
        self.init(
            id: try row.decode(forColumn: "id"),
            target: try row.decode(forColumn: "target"),
            reason: try row.decode(forColumn: "reason"),
            action: parsedAction,
            source: parsedSource,
            timestamp: try row.decode(forColumn: "timestamp"),
            expires: try row.decode(forColumn: "expires"),
            description: try row.decode(forColumn: "description"),
            active: try row.decode(forColumn: "active"),
            releasedAt: try row.decode(forColumn: "released_at"),
            releasedBy: try row.decode(forColumn: "released_by"),
            offence: try row.decode(forColumn: "offence"))
    }
}
