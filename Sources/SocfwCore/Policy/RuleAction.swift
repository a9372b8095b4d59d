/// What a rule does when all its conditions hold.
public enum RuleAction: String, CaseIterable, Sendable {
    case allow = "ALLOW"
    case drop = "DROP"
    case reject = "REJECT"
    /// Records an event and lets evaluation continue.
    case log = "LOG"
    /// Records an alert and lets evaluation continue.
    case alert = "ALERT"
    /// Drops the packet and quarantines its source: the kernel then drops
    /// everything from (and to) it for the configured duration (`quarantine`
    /// in the configuration).
    case quarantine = "QUARANTINE"

    /// ALLOW, DROP, REJECT and QUARANTINE end evaluation; LOG and ALERT do not.
    public var isTerminal: Bool { self != .log && self != .alert }

    /// A plain verdict (ALLOW, DROP, REJECT): what a default or a fallback
    /// action may be.
    public var isPlainVerdict: Bool { self == .allow || self == .drop || self == .reject }

    public var verdict: Verdict {
        switch self {
        case .drop, .quarantine: return .drop
        case .reject: return .reject
        case .allow, .log, .alert: return .accept
        }
    }
}

/// The engine's answer for one packet.
public enum Verdict: UInt8, Sendable, CaseIterable {
    case accept
    case drop
    case reject

    public var name: String {
        switch self {
        case .accept: return "accept"
        case .drop: return "drop"
        case .reject: return "reject"
        }
    }
}
