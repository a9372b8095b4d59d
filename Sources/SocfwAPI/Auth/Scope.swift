/// What a token may do. Scopes nest: `admin` includes `operate`, which
/// includes `read` (Docs/api.md, "Scopes").
public enum Scope: String, Sendable, CaseIterable, Comparable {
    /// Every GET.
    case read
    /// Enable/disable rules, quarantine add/remove, alert acknowledgement.
    case operate
    /// Rules create/update/delete, reload, tokens.
    case admin

    private var rank: Int {
        switch self {
        case .read: 0
        case .operate: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rank < rhs.rank }
}
