// The normalised request URI (Suricata's `http.uri`), modelled on libhtp's
// path pipeline with the IDS personality Suricata configures by default
// (`htp_normalize_parsed_uri`: `htp_decode_path_inplace`, then
// `htp_utf8_decode_path_inplace`, then `htp_normalize_uri_path_inplace`),
// and on Suricata's own query handling (the query is URL-decoded, not
// path-normalised, `+` kept). Own code; see the type's documentation for
// where it follows libhtp and where it deliberately does not.

/// Turns a request-target as sent into the bytes of the normalised URI
/// buffer (`SignatureBuffer.httpURI`) and the anomalies seen on the way.
///
/// Pure and deterministic: same bytes in, same bytes and flags out.
///
/// **Target forms** (RFC 9112 §3.2)
/// - origin-form `/p?q` and anything not starting with a scheme: normalised
///   as below (a relative `a/../b` too).
/// - absolute-form `scheme://authority/p?q`: the authority is dropped and
///   the path and query normalised (`/` when the path is empty); flagged
///   `absoluteURI`. Suricata's default (`uri-include-all: no`) does the same.
/// - asterisk-form `*`: kept.
///
/// **Path**, in this order:
/// 1. Percent-decoding: `%XX` → the byte; `%uXXXX` (IIS) → the byte when
///    XXXX < 0x100 (libhtp's "overlong %u"), the ASCII character for the
///    full-width forms U+FF01...U+FF5E (libhtp's best-fit map does the same
///    for that range: `%uFF0F` is `/`; flagged `halfFullWidth`), otherwise
///    the UTF-8 encoding of the code point. **Differs from libhtp**, which
///    best-fit maps every other code point to one byte or `?`: UTF-8 keeps
///    the information and is what rules written for non-ASCII paths expect.
///    Invalid or truncated escapes are kept literally (libhtp's
///    `PRESERVE_PERCENT`) and flagged `invalidPercentEncoding`. A decoded `/`
///    or `\` is flagged `encodedSeparator`; a raw or decoded NUL is kept and
///    flagged `nulInURI`.
/// 2. Double decoding: when the decoded path still holds a valid escape, it
///    is decoded a second time (at most), flagged `doubleEncoding`
///    (`%252e` → `%2e` → `.`). Suricata has this behind `double-decode-path`
///    (off by default); here it is always on.
/// 3. UTF-8: an overlong sequence of an ASCII character becomes that
///    character (`%C0%AF` → `/`, the classic IIS traversal), flagged
///    `utf8Overlong`; UTF-8 full-width forms U+FF01...U+FF5E become ASCII,
///    flagged `halfFullWidth`. Other UTF-8 is kept as is (libhtp maps it to
///    one best-fit byte).
/// 4. `\` becomes `/`; runs of `/` collapse to one (libhtp
///    `backslash_convert_slashes`, `path_separators_compress`).
/// 5. Dot segments removed as in RFC 3986 §5.2.4 (`/./`, `/../`, trailing
///    `/.` and `/..`); never above the root, and trying to is flagged
///    `dotSegmentAboveRoot`.
///
/// No lowercasing: Suricata turns libhtp's IDS-personality lowercasing off
/// because signatures expect the case as sent.
///
/// **Query** (after the first `?`) and **fragment** (after `#`): percent-
/// and `%u`-decoded with the same double decoding, nothing else; `+` stays
/// `+` (Suricata's `query-plusspace-decode: no`), no path rules apply.
public enum URINormalizer {
    /// Normalises a request-target as sent.
    ///
    /// - Returns: the normalised URI bytes and the anomalies seen.
    public static func normalize<Target: Collection>(_ target: Target) -> (uri: [UInt8], anomalies: HTTPAnomalies)
    where Target.Element == UInt8 {
        var buffer = Array(target)
        guard !buffer.isEmpty else { return (buffer, []) }
        let (end, anomalies) = buffer.withUnsafeMutableBufferPointer {
            normalize($0.baseAddress!, start: 0, end: $0.count)
        }
        buffer.removeLast(buffer.count - end)
        return (buffer, anomalies)
    }

    /// Normalises `p[start..<end]` in place and returns where the normalised
    /// bytes end. No allocation: every pass only shrinks the bytes.
    static func normalize(_ p: UnsafeMutablePointer<UInt8>, start: Int,
                          end: Int) -> (end: Int, anomalies: HTTPAnomalies) {
        var anomalies: HTTPAnomalies = []
        guard start < end else { return (end, anomalies) }
        let newEnd = normalize(p, start: start, end: end, anomalies: &anomalies)
        return (newEnd, anomalies)
    }

    /// Where the authority of an absolute-form target lies (`scheme://` then
    /// up to the first `/`, `?` or `#`), or nil for any other form.
    static func authority(in p: UnsafePointer<UInt8>, start: Int, end: Int) -> Range<Int>? {
        guard let authorityStart = absoluteFormAuthorityStart(p, start: start, end: end) else { return nil }
        var i = authorityStart
        while i < end && p[i] != HTTPASCII.slash && p[i] != HTTPASCII.question && p[i] != HTTPASCII.hash {
            i += 1
        }
        return authorityStart..<i
    }

    /// After `scheme://` when the target starts with one: a scheme is
    /// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3986 §3.1).
    private static func absoluteFormAuthorityStart(_ p: UnsafePointer<UInt8>, start: Int, end: Int) -> Int? {
        guard start < end, HTTPASCII.isAlpha(p[start]) else { return nil }
        var i = start + 1
        while i < end {
            let b = p[i]
            guard HTTPASCII.isAlpha(b) || HTTPASCII.isDigit(b) || b == 0x2B || b == 0x2D || b == HTTPASCII.dot else {
                break
            }
            i += 1
        }
        guard i + 3 <= end, p[i] == HTTPASCII.colon, p[i + 1] == HTTPASCII.slash, p[i + 2] == HTTPASCII.slash else {
            return nil
        }
        return i + 3
    }

    // MARK: - The pipeline

    /// Normalises `p[start..<end]` in place; returns the new end.
    private static func normalize(_ p: UnsafeMutablePointer<UInt8>, start: Int, end: Int,
                                  anomalies: inout HTTPAnomalies) -> Int {
        if end - start == 1 && p[start] == HTTPASCII.asterisk { return end }

        var pathStart = start
        if let authorityStart = absoluteFormAuthorityStart(p, start: start, end: end) {
            anomalies.insert(.absoluteURI)
            var i = authorityStart
            while i < end && p[i] != HTTPASCII.slash && p[i] != HTTPASCII.question && p[i] != HTTPASCII.hash {
                i += 1
            }
            pathStart = i
            if pathStart == end || p[pathStart] != HTTPASCII.slash {
                // Empty path: "/" (there is room, "scheme://" went away).
                pathStart -= 1
                p[pathStart] = HTTPASCII.slash
            }
        }

        var pathEnd = pathStart
        while pathEnd < end && p[pathEnd] != HTTPASCII.question && p[pathEnd] != HTTPASCII.hash {
            pathEnd += 1
        }

        // Path: every pass writes at or before where it reads.
        var count = decodeTwice(p, from: pathStart, to: pathEnd, out: start, isPath: true, anomalies: &anomalies)
        count = foldUTF8(p, start: start, end: start + count, anomalies: &anomalies)
        count = collapseSlashes(p, start: start, end: start + count)
        count = removeDotSegments(p, start: start, end: start + count, anomalies: &anomalies)

        // Query, then fragment: decoded only.
        var write = start + count
        var read = pathEnd
        if read < end && p[read] == HTTPASCII.question {
            p[write] = HTTPASCII.question
            write += 1
            read += 1
            var queryEnd = read
            while queryEnd < end && p[queryEnd] != HTTPASCII.hash { queryEnd += 1 }
            write += decodeTwice(p, from: read, to: queryEnd, out: write, isPath: false, anomalies: &anomalies)
            read = queryEnd
        }
        if read < end && p[read] == HTTPASCII.hash {
            p[write] = HTTPASCII.hash
            write += 1
            read += 1
            write += decodeTwice(p, from: read, to: end, out: write, isPath: false, anomalies: &anomalies)
        }
        return write
    }

    /// One decoding round, and a second one when the first left a valid escape.
    private static func decodeTwice(_ p: UnsafeMutablePointer<UInt8>, from: Int, to: Int, out: Int, isPath: Bool,
                                    anomalies: inout HTTPAnomalies) -> Int {
        let (first, emittedPercent) = percentDecode(p, from: from, to: to, out: out, isPath: isPath,
                                                    anomalies: &anomalies)
        guard emittedPercent, containsValidEscape(p, from: out, to: out + first) else { return first }
        anomalies.insert(.doubleEncoding)
        return percentDecode(p, from: out, to: out + first, out: out, isPath: isPath, anomalies: &anomalies).count
    }

    /// Decodes `%XX` and `%uXXXX` of `p[from..<to]` into `p[out...]`
    /// (`out <= from`). Returns the bytes written and whether any of them is `%`.
    private static func percentDecode(_ p: UnsafeMutablePointer<UInt8>, from: Int, to: Int, out: Int, isPath: Bool,
                                      anomalies: inout HTTPAnomalies) -> (count: Int, emittedPercent: Bool) {
        if HTTPASCII.index(of: HTTPASCII.percent, in: p, from: from, to: to) == nil {
            // Nothing encoded (the common case): move, and look for NUL only.
            if HTTPASCII.index(of: 0, in: p, from: from, to: to) != nil { anomalies.insert(.nulInURI) }
            if out != from { (p + out).update(from: p + from, count: to - from) }
            return (to - from, false)
        }
        var read = from
        var write = out
        var emittedPercent = false
        while read < to {
            var c = p[read]
            if c != HTTPASCII.percent {
                if c == 0 { anomalies.insert(.nulInURI) }
                p[write] = c
                write += 1
                read += 1
                continue
            }
            // libhtp needs two more bytes before it looks at an escape at all.
            if read + 2 < to && (p[read + 1] | 0x20) == 0x75 { // %u / %U
                if read + 5 < to, let codePoint = hex4(p, at: read + 2) {
                    anomalies.insert(.uEncoding)
                    read += 6
                    write = writeUEncoded(codePoint, p, at: write, isPath: isPath, anomalies: &anomalies,
                                          emittedPercent: &emittedPercent)
                    continue
                }
                anomalies.insert(.invalidPercentEncoding)
            } else if read + 2 < to {
                let high = HTTPASCII.hexValue(p[read + 1])
                let low = HTTPASCII.hexValue(p[read + 2])
                if high != 0xFF && low != 0xFF {
                    c = high << 4 | low
                    read += 3
                    noteDecoded(c, isPath: isPath, anomalies: &anomalies)
                    if c == HTTPASCII.percent { emittedPercent = true }
                    p[write] = c
                    write += 1
                    continue
                }
                anomalies.insert(.invalidPercentEncoding)
            } else {
                anomalies.insert(.invalidPercentEncoding)
            }
            // Invalid escape: the '%' stays, what follows is read as usual.
            emittedPercent = true
            p[write] = HTTPASCII.percent
            write += 1
            read += 1
        }
        return (write - out, emittedPercent)
    }

    @inline(__always)
    private static func noteDecoded(_ c: UInt8, isPath: Bool, anomalies: inout HTTPAnomalies) {
        if c == 0 { anomalies.insert(.nulInURI) }
        if isPath && (c == HTTPASCII.slash || c == HTTPASCII.backslash) { anomalies.insert(.encodedSeparator) }
    }

    private static func hex4(_ p: UnsafeMutablePointer<UInt8>, at i: Int) -> UInt32? {
        var value: UInt32 = 0
        for k in 0..<4 {
            let nibble = HTTPASCII.hexValue(p[i + k])
            if nibble == 0xFF { return nil }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }

    /// Writes a `%uXXXX` code point (at most 3 bytes, read 6). See the type's notes.
    private static func writeUEncoded(_ codePoint: UInt32, _ p: UnsafeMutablePointer<UInt8>, at write: Int,
                                      isPath: Bool, anomalies: inout HTTPAnomalies,
                                      emittedPercent: inout Bool) -> Int {
        var single: UInt8? = nil
        if codePoint < 0x100 {
            single = UInt8(codePoint)
        } else if codePoint >= 0xFF01 && codePoint <= 0xFF5E {
            anomalies.insert(.halfFullWidth)
            single = UInt8(codePoint - 0xFEE0)
        }
        if let c = single {
            noteDecoded(c, isPath: isPath, anomalies: &anomalies)
            if c == HTTPASCII.percent { emittedPercent = true }
            p[write] = c
            return write + 1
        }
        if codePoint < 0x800 {
            p[write] = UInt8(0xC0 | codePoint >> 6)
            p[write + 1] = UInt8(0x80 | codePoint & 0x3F)
            return write + 2
        }
        p[write] = UInt8(0xE0 | codePoint >> 12)
        p[write + 1] = UInt8(0x80 | (codePoint >> 6) & 0x3F)
        p[write + 2] = UInt8(0x80 | codePoint & 0x3F)
        return write + 3
    }

    /// Whether `p[from..<to]` holds an escape `percentDecode` would decode.
    private static func containsValidEscape(_ p: UnsafeMutablePointer<UInt8>, from: Int, to: Int) -> Bool {
        var i = from
        while i + 2 < to {
            if p[i] == HTTPASCII.percent {
                if (p[i + 1] | 0x20) == 0x75 {
                    if i + 5 < to && hex4(p, at: i + 2) != nil { return true }
                } else if HTTPASCII.hexValue(p[i + 1]) != 0xFF && HTTPASCII.hexValue(p[i + 2]) != 0xFF {
                    return true
                }
            }
            i += 1
        }
        return false
    }

    /// Overlong UTF-8 of ASCII and UTF-8 full-width forms become ASCII.
    private static func foldUTF8(_ p: UnsafeMutablePointer<UInt8>, start: Int, end: Int,
                                 anomalies: inout HTTPAnomalies) -> Int {
        var read = start
        while read < end && p[read] < 0xC0 { read += 1 }
        if read == end { return end - start }

        var write = read
        while read < end {
            let lead = p[read]
            let length: Int
            var codePoint: UInt32
            switch lead {
            case 0xC0...0xDF: length = 2; codePoint = UInt32(lead & 0x1F)
            case 0xE0...0xEF: length = 3; codePoint = UInt32(lead & 0x0F)
            case 0xF0...0xF7: length = 4; codePoint = UInt32(lead & 0x07)
            default: length = 1; codePoint = 0
            }
            var valid = length > 1 && read + length <= end
            if valid {
                for k in 1..<length {
                    let b = p[read + k]
                    if b & 0xC0 != 0x80 { valid = false; break }
                    codePoint = codePoint << 6 | UInt32(b & 0x3F)
                }
            }
            guard valid else {
                p[write] = lead
                write += 1
                read += 1
                continue
            }
            if codePoint < 0x80 {
                anomalies.insert(.utf8Overlong)
                if codePoint == 0 { anomalies.insert(.nulInURI) }
                p[write] = UInt8(codePoint)
                write += 1
            } else if codePoint >= 0xFF01 && codePoint <= 0xFF5E {
                anomalies.insert(.halfFullWidth)
                p[write] = UInt8(codePoint - 0xFEE0)
                write += 1
            } else {
                if (length == 3 && codePoint < 0x800) || (length == 4 && codePoint < 0x10000) {
                    anomalies.insert(.utf8Overlong)
                }
                for k in 0..<length { p[write + k] = p[read + k] }
                write += length
            }
            read += length
        }
        return write - start
    }

    /// `\` → `/`, and runs of `/` → one.
    private static func collapseSlashes(_ p: UnsafeMutablePointer<UInt8>, start: Int, end: Int) -> Int {
        var write = start
        var previousWasSlash = false
        for read in start..<end {
            var c = p[read]
            if c == HTTPASCII.backslash { c = HTTPASCII.slash }
            if c == HTTPASCII.slash {
                if previousWasSlash { continue }
                previousWasSlash = true
            } else {
                previousWasSlash = false
            }
            p[write] = c
            write += 1
        }
        return write - start
    }

    /// RFC 3986 §5.2.4 "Remove Dot Segments", in place (output before input).
    private static func removeDotSegments(_ p: UnsafeMutablePointer<UInt8>, start: Int, end: Int,
                                          anomalies: inout HTTPAnomalies) -> Int {
        let dot = HTTPASCII.dot
        let slash = HTTPASCII.slash
        @inline(__always) func at(_ i: Int) -> UInt8 { i < end ? p[i] : 0 }

        var read = start
        var write = start
        while read < end {
            let c = p[read]
            if c == dot {
                // Only at the very start of a relative path: after rule E the
                // input always begins with "/".
                if at(read + 1) == dot && at(read + 2) == slash { // A: "../"
                    anomalies.insert(.dotSegmentAboveRoot)
                    read += 3
                    continue
                }
                if at(read + 1) == slash { read += 2; continue } // A: "./"
                if read + 1 == end { break } // D: "."
                if read + 2 == end && p[read + 1] == dot { // D: ".."
                    anomalies.insert(.dotSegmentAboveRoot)
                    break
                }
            } else if c == slash && at(read + 1) == dot {
                if at(read + 2) == slash { read += 2; continue } // B: "/./" → "/"
                if read + 2 == end { p[read + 1] = slash; read += 1; continue } // B: "/." → "/"
                if at(read + 2) == dot && (read + 3 == end || p[read + 3] == slash) {
                    // C: "/../" or "/.." → "/", and drop the last output segment.
                    if read + 3 == end {
                        p[read + 2] = slash
                        read += 2
                    } else {
                        read += 3
                    }
                    if write == start { anomalies.insert(.dotSegmentAboveRoot) }
                    while write > start && p[write - 1] != slash { write -= 1 }
                    if write > start { write -= 1 }
                    continue
                }
            }
            // E: move the first segment (with its leading "/") to the output.
            p[write] = c
            write += 1
            read += 1
            while read < end && p[read] != slash {
                p[write] = p[read]
                write += 1
                read += 1
            }
        }
        return write - start
    }
}
