import Foundation
import SocfwJSON

/// A JSON value as the control protocol carries it. Integers, floating-point
/// numbers and booleans stay apart (JSONSerialization's NSNumber blurs them),
/// so `--json` prints back exactly the kinds the server sent.
enum JSONValue: Encodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .double(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// Parses one protocol line (SocfwJSON's one-pass reader).
    init(line: some Collection<UInt8>) throws {
        self = try JSONReader.parse(line, as: JSONValue.self)
    }

    /// One line of JSON, as sent on the socket (no newline inside).
    var compactText: String {
        text(formatting: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// Indented, keys sorted: what `--json` prints.
    var prettyText: String {
        text(formatting: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    private func text(formatting: JSONEncoder.OutputFormatting) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        // Encoding a tree of plain values cannot fail.
        let data = (try? encoder.encode(self)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    /// The value at a path of object keys: `status["rules", "enabled"]`.
    subscript(first: String, rest: String...) -> JSONValue? {
        rest.reduce(self[first]) { $0?[$1] }
    }

    var int: Int64? {
        switch self {
        case let .int(i): return i
        case let .double(d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    var double: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }

    var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    var bool: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    var array: [JSONValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// A scalar as a person reads it: strings bare, numbers as written, null as "-".
    var displayText: String {
        switch self {
        case .null: return "-"
        case let .bool(b): return b ? "yes" : "no"
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .string(s): return s
        case let .array(a): return a.map(\.displayText).joined(separator: ", ")
        case .object: return compactText
        }
    }
}

extension JSONValue: JSONBuildable {
    static var jsonNull: JSONValue { .null }
    static func jsonBool(_ value: Bool) -> JSONValue { .bool(value) }
    static func jsonInteger(_ value: Int64) -> JSONValue { .int(value) }
    static func jsonDouble(_ value: Double) -> JSONValue { .double(value) }
    static func jsonString(_ value: String) -> JSONValue { .string(value) }
    static func jsonArray(_ items: [JSONValue]) -> JSONValue { .array(items) }
    static func jsonObject(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(Dictionary(members, uniquingKeysWith: { _, last in last }))
    }
}
