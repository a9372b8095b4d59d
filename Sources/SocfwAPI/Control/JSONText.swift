import Foundation
import SocfwJSON

/// JSON text to `JSONValue` (SocfwJSON's reader) and back, byte by byte.
public enum JSONText {
    public static let maxDepth = JSONReader.maxDepth
    public typealias SyntaxError = JSONReader.SyntaxError

    public static func parse(_ bytes: some Collection<UInt8>) throws(SyntaxError) -> JSONValue {
        try JSONReader.parse(bytes, as: JSONValue.self)
    }

    /// One object whose member `rawKey` is validated but not built (see
    /// `JSONReader.parseObject`); later members of the same name win.
    public static func parseObject(_ bytes: UnsafeRawBufferPointer, keepingRaw rawKey: String)
        throws(SyntaxError) -> (members: [String: JSONValue], raw: Range<Int>?) {
        let (members, raw) = try JSONReader.parseObject(bytes, keepingRaw: rawKey, as: JSONValue.self)
        return (Dictionary(members, uniquingKeysWith: { _, last in last }), raw)
    }

    /// Whether `bytes` (one JSON object, already validated) has the member `key`
    /// at its top level.
    public static func objectHasMember(_ bytes: UnsafeRawBufferPointer, _ key: String) -> Bool {
        JSONReader.objectHasMember(bytes, key)
    }

    // MARK: Writing

    /// Compact JSON, object keys sorted (stable output).
    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .int(i): out.append(contentsOf: String(i).utf8)
        case let .double(d):
            if !d.isFinite {
                out.append(contentsOf: "null".utf8)
            } else if d == d.rounded(), abs(d) < 1e15 {
                out.append(contentsOf: String(Int64(d)).utf8)
            } else {
                out.append(contentsOf: "\(d)".utf8)
            }
        case let .string(s): writeString(s, into: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0a: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0d: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7f:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONValue: JSONBuildable {
    public static var jsonNull: JSONValue { .null }
    public static func jsonBool(_ value: Bool) -> JSONValue { .bool(value) }
    public static func jsonInteger(_ value: Int64) -> JSONValue { .int(value) }
    public static func jsonDouble(_ value: Double) -> JSONValue { .double(value) }
    public static func jsonString(_ value: String) -> JSONValue { .string(value) }
    public static func jsonArray(_ items: [JSONValue]) -> JSONValue { .array(items) }
    public static func jsonObject(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(Dictionary(members, uniquingKeysWith: { _, last in last }))
    }
}
