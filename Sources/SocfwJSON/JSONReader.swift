import Foundation

/// JSON text to values, byte by byte, for any value type that says how to
/// build itself (`JSONBuildable`): socfwd's control protocol and socfw-api
/// read JSON with it.
///
/// Foundation's `JSONDecoder` through a `Decodable` value tries each kind in
/// turn and throws for every miss (an `alerts.list` reply of 100 alerts took
/// 15–20 ms to read that way; each small control request ~25 µs). This
/// reader does the same work in a single pass.
///
/// Strict RFC 8259: one value with optional whitespace around it; strings
/// are valid UTF-8 with JSON escapes (surrogate pairs joined, lone
/// surrogates refused); integers that fit Int64 stay integers, other
/// numbers are doubles; nesting deeper than `maxDepth` is refused (a hostile
/// text cannot exhaust the stack). Object members keep their order.
/// A value the reader can build.
public protocol JSONBuildable {
    static var jsonNull: Self { get }
    static func jsonBool(_ value: Bool) -> Self
    static func jsonInteger(_ value: Int64) -> Self
    static func jsonDouble(_ value: Double) -> Self
    static func jsonString(_ value: String) -> Self
    static func jsonArray(_ items: [Self]) -> Self
    /// Members in the order written (a name may repeat: the type decides).
    static func jsonObject(_ members: [(String, Self)]) -> Self
}

public enum JSONReader {
    public static let maxDepth = 256

    public struct SyntaxError: Error, CustomStringConvertible, Equatable {
        public var offset: Int
        public var reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    /// One JSON text.
    public static func parse<V: JSONBuildable>(_ bytes: UnsafeRawBufferPointer, as: V.Type = V.self) throws(SyntaxError) -> V {
        let buffer = bytes.bindMemory(to: UInt8.self)
        var reader = Reader<V>(bytes: buffer)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.offset == buffer.count else { throw reader.error("unexpected data after the value") }
        return value
    }

    /// One JSON text, from any bytes.
    public static func parse<V: JSONBuildable>(_ bytes: some Collection<UInt8>, as: V.Type = V.self) throws(SyntaxError) -> V {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { (buffer) throws(SyntaxError) -> V in
            try parse(UnsafeRawBufferPointer(buffer), as: V.self)
        }
    }

    /// One object whose member `rawKey` is validated but not built: the
    /// other members as values, and where `rawKey`'s value lies in `bytes`
    /// (nil when absent). A control reply's `result` passes through to an
    /// HTTP client this way, as socfwd wrote it.
    public static func parseObject<V: JSONBuildable>(_ bytes: UnsafeRawBufferPointer, keepingRaw rawKey: String,
                                                     as: V.Type = V.self)
        throws(SyntaxError) -> (members: [(String, V)], raw: Range<Int>?) {
        let buffer = bytes.bindMemory(to: UInt8.self)
        var reader = Reader<V>(bytes: buffer)
        reader.skipSpace()
        guard reader.offset < buffer.count, buffer[reader.offset] == UInt8(ascii: "{") else {
            throw reader.error("expected an object")
        }
        let result = try reader.object(depth: 1, keepingRaw: rawKey)
        reader.skipSpace()
        guard reader.offset == buffer.count else { throw reader.error("unexpected data after the value") }
        return result
    }

    /// Whether `bytes` (one JSON object, already validated) has the member
    /// `key` at its top level; nothing is built.
    public static func objectHasMember(_ bytes: UnsafeRawBufferPointer, _ key: String) -> Bool {
        var reader = Reader<Skimmed>(bytes: bytes.bindMemory(to: UInt8.self))
        return (try? reader.hasMember(key)) ?? false
    }

    struct Reader<V: JSONBuildable> {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0

        func error(_ reason: String) -> JSONReader.SyntaxError { JSONReader.SyntaxError(offset: offset, reason: reason) }

        mutating func skipSpace() {
            while offset < bytes.count, bytes[offset] == 0x20 || bytes[offset] == 0x0a || bytes[offset] == 0x0d || bytes[offset] == 0x09 {
                offset += 1
            }
        }

        mutating func value(depth: Int) throws(JSONReader.SyntaxError) -> V {
            guard offset < bytes.count else { throw error("unexpected end") }
            switch bytes[offset] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return V.jsonString(try string())
            case UInt8(ascii: "t"): try literal("true"); return V.jsonBool(true)
            case UInt8(ascii: "f"): try literal("false"); return V.jsonBool(false)
            case UInt8(ascii: "n"): try literal("null"); return V.jsonNull
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func literal(_ word: String) throws(JSONReader.SyntaxError) {
            for expected in word.utf8 {
                guard offset < bytes.count else { throw error("unexpected end") }
                guard bytes[offset] == expected else { throw error("unexpected character") }
                offset += 1
            }
        }

        mutating func object(depth: Int) throws(JSONReader.SyntaxError) -> V {
            V.jsonObject(try object(depth: depth, keepingRaw: nil).members)
        }

        /// An object; its `rawKey` member, if any, is skipped (validated, not
        /// built) and reported as a byte range; every other member is built.
        mutating func object(depth: Int, keepingRaw rawKey: String?)
            throws(JSONReader.SyntaxError) -> (members: [(String, V)], raw: Range<Int>?) {
            guard depth <= JSONReader.maxDepth else { throw error("nested deeper than \(JSONReader.maxDepth)") }
            offset += 1
            var members: [(String, V)] = []
            var raw: Range<Int>?
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") { offset += 1; return (members, nil) }
            while true {
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let key = try string()
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw error("expected ':'") }
                offset += 1
                skipSpace()
                if key == rawKey {
                    let start = offset
                    try skip(depth: depth)
                    raw = start..<offset
                    members.removeAll { $0.0 == key }
                } else {
                    members.append((key, try value(depth: depth)))
                }
                skipSpace()
                guard offset < bytes.count else { throw error("unexpected end") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "}") { offset += 1; return (members, raw) }
                throw error("expected ',' or '}'")
            }
        }

        /// Whether the object here has the top-level member `key`; nothing built.
        mutating func hasMember(_ key: String) throws(JSONReader.SyntaxError) -> Bool {
            skipSpace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "{") else { return false }
            offset += 1
            let wanted = Array(key.utf8)
            while true {
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { return false }
                let start = offset + 1
                try skipString()
                // Names are compared as written: socfwd writes plain ASCII names.
                if offset - 1 - start == wanted.count, wanted.withUnsafeBufferPointer({ w in
                    w.isEmpty || memcmp(w.baseAddress!, bytes.baseAddress! + start, w.count) == 0 }) {
                    return true
                }
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { return false }
                offset += 1
                skipSpace()
                try skip(depth: 1)
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ",") else { return false }
                offset += 1
            }
        }

        /// Validates one value with the same rules as `value` without building it.
        mutating func skip(depth: Int) throws(JSONReader.SyntaxError) {
            guard offset < bytes.count else { throw error("unexpected end") }
            switch bytes[offset] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[offset] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                guard depth + 1 <= JSONReader.maxDepth else { throw error("nested deeper than \(JSONReader.maxDepth)") }
                offset += 1
                skipSpace()
                if offset < bytes.count, bytes[offset] == close { offset += 1; return }
                while true {
                    skipSpace()
                    if isObject {
                        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                        try skipString()
                        skipSpace()
                        guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw error("expected ':'") }
                        offset += 1
                        skipSpace()
                    }
                    try skip(depth: depth + 1)
                    skipSpace()
                    guard offset < bytes.count else { throw error("unexpected end") }
                    if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                    if bytes[offset] == close { offset += 1; return }
                    throw error(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                }
            case UInt8(ascii: "\""): try skipString()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
            default: throw error("unexpected character")
            }
        }

        /// `number`'s grammar without converting: an integer too large for
        /// Int64 is still a number (a double) there, so only syntax can fail.
        mutating func skipNumber() throws(JSONReader.SyntaxError) {
            func digits() -> Int {
                let start = offset
                while offset < bytes.count, bytes[offset] &- UInt8(ascii: "0") < 10 { offset += 1 }
                return offset - start
            }
            let start = offset
            if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < bytes.count, bytes[offset] &- UInt8(ascii: "0") < 10 else { throw error("bad number") }
            if bytes[offset] == UInt8(ascii: "0") { offset += 1 } else { _ = digits() }
            var plain = true
            if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
                plain = false
                offset += 1
                guard digits() > 0 else { throw error("bad number") }
            }
            if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
                plain = false
                offset += 1
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
                guard digits() > 0 else { throw error("bad number") }
            }
            // Short integers are always in range; anything else as `number` would see it.
            if !plain || offset - start > 18 {
                let end = offset
                offset = start
                _ = try number()
                offset = end
            }
        }

        /// A string's syntax and UTF-8 checked, nothing built unless it has
        /// escapes or non-ASCII text (rare in socfwd's replies).
        mutating func skipString() throws(JSONReader.SyntaxError) {
            let start = offset
            offset += 1
            // Eight bytes at a time while none is a quote, backslash, control or non-ASCII byte.
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while offset + 8 <= bytes.count {
                let word = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + offset).loadUnaligned(as: UInt64.self))
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5c)
                let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                    | (word &- ones &* 0x20) | word
                if special & highs != 0 { break }
                offset += 8
            }
            while offset < bytes.count {
                let c = bytes[offset]
                if c == UInt8(ascii: "\"") { offset += 1; return }
                if c == UInt8(ascii: "\\") || c >= 0x80 { break }
                if c < 0x20 { throw error("control character in a string") }
                offset += 1
            }
            offset = start
            _ = try string()
        }

        mutating func array(depth: Int) throws(JSONReader.SyntaxError) -> V {
            guard depth <= JSONReader.maxDepth else { throw error("nested deeper than \(JSONReader.maxDepth)") }
            offset += 1
            var items: [V] = []
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return V.jsonArray(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth))
                skipSpace()
                guard offset < bytes.count else { throw error("unexpected end") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "]") { offset += 1; return V.jsonArray(items) }
                throw error("expected ',' or ']'")
            }
        }

        mutating func hex4() throws(JSONReader.SyntaxError) -> UInt32 {
            guard offset + 4 <= bytes.count else { throw error("unexpected end in \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[offset]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw error("bad \\u escape")
                }
                v = v << 4 | d
                offset += 1
            }
            return v
        }

        mutating func string() throws(JSONReader.SyntaxError) -> String {
            offset += 1  // the opening quote
            let start = offset
            // Fast path: no escapes.
            while offset < bytes.count {
                let c = bytes[offset]
                if c == UInt8(ascii: "\"") {
                    let s = UnsafeBufferPointer(rebasing: bytes[start..<offset])
                    offset += 1
                    guard let text = String(validating: s, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                    return text
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw error("control character in a string") }
                offset += 1
            }
            var out = Array(bytes[start..<offset])
            while offset < bytes.count {
                let c = bytes[offset]
                if c == UInt8(ascii: "\"") {
                    offset += 1
                    guard let text = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                    return text
                }
                if c < 0x20 { throw error("control character in a string") }
                if c != UInt8(ascii: "\\") { out.append(c); offset += 1; continue }
                offset += 1
                guard offset < bytes.count else { throw error("unexpected end") }
                let e = bytes[offset]
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xd800...0xdbff).contains(scalar) {
                        guard offset + 2 <= bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                            throw error("lone surrogate in a \\u escape")
                        }
                        offset += 2
                        let low = try hex4()
                        guard (0xdc00...0xdfff).contains(low) else { throw error("lone surrogate in a \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    } else if (0xdc00...0xdfff).contains(scalar) {
                        throw error("lone surrogate in a \\u escape")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default: throw error("bad escape")
                }
            }
            throw error("unterminated string")
        }

        mutating func number() throws(JSONReader.SyntaxError) -> V {
            let start = offset
            var isInteger = true
            if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) else {
                throw error("bad number")
            }
            if bytes[offset] == UInt8(ascii: "0") {
                offset += 1
            } else {
                while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            }
            if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
                isInteger = false
                offset += 1
                let digits = offset
                while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
                guard offset > digits else { throw error("bad number") }
            }
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
                isInteger = false
                offset += 1
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
                let digits = offset
                while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
                guard offset > digits else { throw error("bad number") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
            if isInteger, let i = Int64(text) { return V.jsonInteger(i) }
            guard let d = Double(text), d.isFinite else { throw error("number out of range") }
            return V.jsonDouble(d)
        }
    }
}

/// What a reader that only looks (`objectHasMember`) builds: nothing.
private struct Skimmed: JSONBuildable {
    static var jsonNull: Skimmed { Skimmed() }
    static func jsonBool(_ value: Bool) -> Skimmed { Skimmed() }
    static func jsonInteger(_ value: Int64) -> Skimmed { Skimmed() }
    static func jsonDouble(_ value: Double) -> Skimmed { Skimmed() }
    static func jsonString(_ value: String) -> Skimmed { Skimmed() }
    static func jsonArray(_ items: [Skimmed]) -> Skimmed { Skimmed() }
    static func jsonObject(_ members: [(String, Skimmed)]) -> Skimmed { Skimmed() }
}
