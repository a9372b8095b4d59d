#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Byte classes and searches shared by the HTTP request parser and the URI
// normaliser. Everything works on raw octets: HTTP/1.x framing is ASCII
// (RFC 9110 §5.6, RFC 9112 §2.2) and anything else is carried as opaque bytes.

enum HTTPASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let percent: UInt8 = 0x25
    static let slash: UInt8 = 0x2F
    static let backslash: UInt8 = 0x5C
    static let dot: UInt8 = 0x2E
    static let question: UInt8 = 0x3F
    static let hash: UInt8 = 0x23
    static let at: UInt8 = 0x40
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let asterisk: UInt8 = 0x2A

    /// `tchar` of RFC 9110 §5.6.2: what a method and a header name are made of.
    @inline(__always)
    static func isToken(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: // DIGIT, ALPHA
            return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E:
            return true // ! # $ % & ' * + - . ^ _ ` | ~
        default:
            return false
        }
    }

    /// OWS / BWS of RFC 9110 §5.6.3: SP and HTAB.
    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool {
        b == space || b == tab
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool {
        b &- 0x30 < 10
    }

    @inline(__always)
    static func isAlpha(_ b: UInt8) -> Bool {
        (b | 0x20) &- 0x61 < 26
    }

    /// The value of a hexadecimal digit, or 0xFF when `b` is not one.
    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x30...0x39: return b &- 0x30
        case 0x41...0x46: return b &- 0x41 &+ 10
        case 0x61...0x66: return b &- 0x61 &+ 10
        default: return 0xFF
        }
    }

    /// ASCII lowercase; other bytes unchanged.
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 {
        b &- 0x41 < 26 ? b | 0x20 : b
    }

    /// The offset (from `base`) of the first `byte` in `base[from..<to]`.
    @inline(__always)
    static func index(of byte: UInt8, in base: UnsafePointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
    }

    /// `a[0..<count]` equals `b[0..<count]` ignoring ASCII case.
    @inline(__always)
    static func equalsIgnoringCase(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
        for i in 0..<count where lower(a[i]) != lower(b[i]) {
            return false
        }
        return true
    }

    /// `a[0..<count]` equals the lowercase ASCII `literal`, ignoring case in `a`.
    @inline(__always)
    static func equalsIgnoringCase(_ a: UnsafePointer<UInt8>, count: Int, _ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for i in 0..<count where lower(a[i]) != l[i] {
            return false
        }
        return true
    }

    /// `a[0..<count]` equals the ASCII `literal` exactly (methods are case-sensitive).
    @inline(__always)
    static func equals(_ a: UnsafePointer<UInt8>, count: Int, _ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for i in 0..<count where a[i] != l[i] {
            return false
        }
        return true
    }
}
