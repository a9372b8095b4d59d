/// A rule in its written form (what the YAML says), kept next to the
/// compiled `Rule` so that rules can be listed, edited and written back
/// (rule management, control socket, API). Codable: it is also the JSON
/// shape of a rule in the control protocol.
public struct RuleSpec: Equatable, Sendable, Codable {
    public var name: String
    public var id: Int?
    public var action: RuleAction
    public var priority: Int
    public var enabled: Bool
    public var description: String?
    public var conditions: [ConditionSpec]

    public init(name: String, id: Int? = nil, action: RuleAction, priority: Int = 0, enabled: Bool = true,
                description: String? = nil, conditions: [ConditionSpec] = []) {
        self.name = name
        self.id = id
        self.action = action
        self.priority = priority
        self.enabled = enabled
        self.description = description
        self.conditions = conditions
    }

    private enum CodingKeys: String, CodingKey {
        case name, id, action, priority, enabled, description, conditions
    }

    /// As in the YAML: `priority` (0), `enabled` (true), `id`, `description`
    /// and `conditions` may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        id = try c.decodeIfPresent(Int.self, forKey: .id)
        action = try c.decode(RuleAction.self, forKey: .action)
        priority = try c.decodeIfPresent(Int.self, forKey: .priority) ?? 0
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        description = try c.decodeIfPresent(String.self, forKey: .description)
        conditions = try c.decodeIfPresent([ConditionSpec].self, forKey: .conditions) ?? []
    }
}

/// One condition as written: `{ field: dst_port, operator: in, value: [80, 443] }`.
public struct ConditionSpec: Equatable, Sendable, Codable {
    public var field: String
    public var `operator`: String
    public var value: RuleValue

    public init(field: String, operator: String, value: RuleValue) {
        self.field = field
        self.operator = `operator`
        self.value = value
    }
}

/// A condition's value: one scalar or a list of scalars, as text (numbers,
/// addresses, names and "@group" references alike).
public enum RuleValue: Equatable, Sendable, Codable {
    case one(String)
    case list([String])

    public var values: [String] {
        switch self {
        case let .one(v): return [v]
        case let .list(vs): return vs
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let list = try? c.decode([ScalarText].self) {
            self = .list(list.map(\.text))
        } else {
            self = .one(try c.decode(ScalarText.self).text)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .one(v): try c.encode(v)
        case let .list(vs): try c.encode(vs)
        }
    }
}

/// A JSON scalar read as text: "80", 80 and true are all accepted, since
/// YAML writes them without quotes.
private struct ScalarText: Decodable {
    var text: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            text = s
        } else if let i = try? c.decode(Int.self) {
            text = String(i)
        } else if let b = try? c.decode(Bool.self) {
            text = String(b)
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                debugDescription: "expected a string or a number"))
        }
    }
}

extension RuleAction: Codable {}
