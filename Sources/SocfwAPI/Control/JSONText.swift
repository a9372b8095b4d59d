import Foundation

/// JSON text to `JSONValue` and back, byte by byte.
///
/// Foundation's `JSONDecoder` through `JSONValue`'s `Decodable` conformance
/// tries each kind in turn and throws for every miss: an `alerts.list` reply
/// of 100 alerts (65 KB) took 15–20 ms to read and write back, which capped
/// `GET /api/v1/alerts` at 77 requests per second. This reader and writer do
/// the same work in a single pass.
///
/// Strict RFC 8259: one value with optional whitespace around it; strings
/// are valid UTF-8 with JSON escapes (surrogate pairs joined, lone
/// surrogates refused); integers that fit Int64 stay integers, other
/// numbers are doubles; nesting deeper than `maxDepth` is refused (a hostile
/// body cannot exhaust the stack).
public enum JSONText {
    public static let maxDepth = 256

    public struct SyntaxError: Error, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    public static func parse(_ bytes: some Collection<UInt8>) throws(SyntaxError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { (buffer) throws(SyntaxError) -> JSONValue in
            var reader = Reader(bytes: buffer)
            reader.skipSpace()
            let value = try reader.value(depth: 0)
            reader.skipSpace()
            guard reader.offset == buffer.count else { throw reader.error("unexpected data after the value") }
            return value
        }
    }

    /// One object whose member `rawKey` is validated but not built: the
    /// other members as values, and where `rawKey`'s value lies in `bytes`
    /// (nil when absent). A control reply's `result` passes through to the
    /// HTTP client this way, as socfwd wrote it, without building and
    /// re-writing a tree of 100 alerts.
    public static func parseObject(_ bytes: UnsafeRawBufferPointer, keepingRaw rawKey: String)
        throws(SyntaxError) -> (members: [String: JSONValue], raw: Range<Int>?) {
        let buffer = bytes.bindMemory(to: UInt8.self)
        var reader = Reader(bytes: buffer)
        reader.skipSpace()
        guard reader.offset < buffer.count, buffer[reader.offset] == UInt8(ascii: "{") else {
            throw reader.error("expected an object")
        }
        let result = try reader.object(depth: 1, keepingRaw: rawKey)
        reader.skipSpace()
        guard reader.offset == buffer.count else { throw reader.error("unexpected data after the value") }
        return result
    }

    /// Whether `bytes` (one JSON object, already validated) has the member `key`
    /// at its top level.
    public static func objectHasMember(_ bytes: UnsafeRawBufferPointer, _ key: String) -> Bool {
        let buffer = bytes.bindMemory(to: UInt8.self)
        var reader = Reader(bytes: buffer)
        return (try? reader.hasMember(key)) ?? false
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0

        func error(_ reason: String) -> SyntaxError { SyntaxError(offset: offset, reason: reason) }

        mutating func skipSpace() {
            while offset < bytes.count, bytes[offset] == 0x20 || bytes[offset] == 0x0a || bytes[offset] == 0x0d || bytes[offset] == 0x09 {
                offset += 1
            }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
            guard offset < bytes.count else { throw error("unexpected end") }
            switch bytes[offset] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func literal(_ word: String) throws(SyntaxError) {
            for expected in word.utf8 {
                guard offset < bytes.count else { throw error("unexpected end") }
                guard bytes[offset] == expected else { throw error("unexpected character") }
                offset += 1
            }
        }

        mutating func object(depth: Int) throws(SyntaxError) -> JSONValue {
            .object(try object(depth: depth, keepingRaw: nil).members)
        }

        /// An object; its `rawKey` member, if any, is skipped (validated, not
        /// built) and reported as a byte range; every other member is built.
        mutating func object(depth: Int, keepingRaw rawKey: String?)
            throws(SyntaxError) -> (members: [String: JSONValue], raw: Range<Int>?) {
            guard depth <= JSONText.maxDepth else { throw error("nested deeper than \(JSONText.maxDepth)") }
            offset += 1
            var members: [String: JSONValue] = [:]
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
                    members.removeValue(forKey: key)
                } else {
                    members[key] = try value(depth: depth)
                }
                skipSpace()
                guard offset < bytes.count else { throw error("unexpected end") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "}") { offset += 1; return (members, raw) }
                throw error("expected ',' or '}'")
            }
        }

        /// Whether the object here has the top-level member `key`; nothing built.
        mutating func hasMember(_ key: String) throws(SyntaxError) -> Bool {
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
        mutating func skip(depth: Int) throws(SyntaxError) {
            guard offset < bytes.count else { throw error("unexpected end") }
            switch bytes[offset] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[offset] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                guard depth + 1 <= JSONText.maxDepth else { throw error("nested deeper than \(JSONText.maxDepth)") }
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
        mutating func skipNumber() throws(SyntaxError) {
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
        mutating func skipString() throws(SyntaxError) {
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

        mutating func array(depth: Int) throws(SyntaxError) -> JSONValue {
            guard depth <= JSONText.maxDepth else { throw error("nested deeper than \(JSONText.maxDepth)") }
            offset += 1
            var items: [JSONValue] = []
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth))
                skipSpace()
                guard offset < bytes.count else { throw error("unexpected end") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
                throw error("expected ',' or ']'")
            }
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
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

        mutating func string() throws(SyntaxError) -> String {
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

        mutating func number() throws(SyntaxError) -> JSONValue {
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
            if isInteger, let i = Int64(text) { return .int(i) }
            guard let d = Double(text), d.isFinite else { throw error("number out of range") }
            return .double(d)
        }
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
