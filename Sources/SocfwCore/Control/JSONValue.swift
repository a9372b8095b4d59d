import Foundation
import SocfwJSON

/// A JSON value for the control protocol: parsed from requests, built for
/// replies. Objects keep their keys in the order given, so replies read the
/// same every time.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])
    /// Already-serialized JSON, inserted as is (counters the engine renders itself).
    case raw(String)
    /// The same as UTF-8 bytes (a page socfwd writes as bytes: no String of it is made).
    case rawBytes([UInt8])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.raw(x), .raw(y)): return x == y
        case let (.rawBytes(x), .rawBytes(y)): return x == y
        default: return false
        }
    }

    /// Member of an object.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
    public var intValue: Int64? {
        switch self {
        case let .int(i): return i
        case let .double(d) where d == d.rounded() && abs(d) < 9e15: return Int64(d)
        default: return nil
        }
    }
    public var boolValue: Bool? { if case let .bool(b) = self { return b } else { return nil } }

    // MARK: Serializing

    public var serialized: String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string (quoted, escaped).
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        EveJSON.appendEscaped(s, to: &out)
        out.append(0x22)
    }

    /// Appends the compact JSON text as UTF-8 (a page of 100 alerts is
    /// ~60 KB: built as bytes, not as Strings).
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .int(i): Self.appendDecimal(i, to: &out)
        case let .double(d): out.append(contentsOf: (d.isFinite ? String(d) : "null").utf8)
        case let .string(s): Self.appendString(s, to: &out)
        case let .raw(r): out.append(contentsOf: r.utf8)
        case let .rawBytes(r): out.append(contentsOf: r)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (i, v) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(0x22)
                EveJSON.appendEscaped(k, to: &out)
                out.append(contentsOf: "\":".utf8)
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `value` in decimal.
    public static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes: Int64 has ≤ 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[31 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(32 - count)...]))
        }
    }

    // MARK: Parsing

    /// Parses one JSON text in one pass (SocfwJSON's reader; object members
    /// keep their order). Foundation's decoder took ~25 µs per control request.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { bytes in
            Result { () throws(JSONReader.SyntaxError) -> JSONValue in
                try JSONReader.parse(UnsafeRawBufferPointer(bytes), as: JSONValue.self)
            }
        }
        switch result {
        case let .success(value): return value
        case let .failure(error): throw JSONParseError(message: error.description)
        }
    }

    public struct JSONParseError: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

extension JSONValue: JSONBuildable {
    public static var jsonNull: JSONValue { .null }
    public static func jsonBool(_ value: Bool) -> JSONValue { .bool(value) }
    public static func jsonInteger(_ value: Int64) -> JSONValue { .int(value) }
    public static func jsonDouble(_ value: Double) -> JSONValue { .double(value) }
    public static func jsonString(_ value: String) -> JSONValue { .string(value) }
    public static func jsonArray(_ items: [JSONValue]) -> JSONValue { .array(items) }
    /// A name given twice counts once, with its last value (as Foundation's
    /// decoder had it, and socfw-api's reader has it).
    public static func jsonObject(_ members: [(String, JSONValue)]) -> JSONValue {
        guard members.count > 1 else { return .object(members) }
        var seen = Set<String>()
        guard members.contains(where: { !seen.insert($0.0).inserted }) else { return .object(members) }
        var kept = Set<String>()
        var out: [(String, JSONValue)] = []
        for (name, value) in members.reversed() where kept.insert(name).inserted { out.append((name, value)) }
        return .object(out.reversed())
    }
}
