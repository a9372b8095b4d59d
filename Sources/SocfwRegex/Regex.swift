import CPCRE2

/// Why a pattern was refused.
public struct RegexError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// Byte offset in the pattern where PCRE2 stopped.
    public var offset: Int

    public var description: String { "\(message) at offset \(offset)" }
}

/// The outcome of one match attempt.
public enum RegexMatch: Equatable, Sendable {
    case match
    case noMatch
    /// The attempt hit the match, depth or stack limit and was abandoned:
    /// the caller treats it as no match and counts it.
    case limitExceeded
}

/// Compile options (the Perl / Suricata `pcre` flags).
public struct RegexOptions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `i`
    public static let caseless = RegexOptions(rawValue: PCRE2_CASELESS)
    /// `m`: `^` and `$` match at newlines.
    public static let multiline = RegexOptions(rawValue: PCRE2_MULTILINE)
    /// `s`: `.` matches newlines.
    public static let dotAll = RegexOptions(rawValue: PCRE2_DOTALL)
    /// `x`: whitespace and `#` comments in the pattern are ignored.
    public static let extended = RegexOptions(rawValue: PCRE2_EXTENDED)
    /// `A`: the match must start at the start offset.
    public static let anchored = RegexOptions(rawValue: PCRE2_ANCHORED)
    /// `E`: `$` matches only at the very end.
    public static let dollarEndOnly = RegexOptions(rawValue: PCRE2_DOLLAR_ENDONLY)
    /// `G`: quantifiers are lazy unless followed by `?`.
    public static let ungreedy = RegexOptions(rawValue: PCRE2_UNGREEDY)
}

/// The outcome of a search for where a pattern matches.
public enum RegexSearch: Equatable, Sendable {
    /// The first match ends at this offset of the subject.
    case match(start: Int, end: Int)
    case noMatch
    case limitExceeded
}

/// A PCRE2 pattern compiled once (with the JIT when the CPU has one) and
/// shared by every worker; matching needs a per-thread `RegexScratch`.
///
/// Patterns match bytes (payloads are not assumed to be UTF-8); inline
/// options such as `(?i)` work as in Perl.
public final class CompiledRegex: @unchecked Sendable {
    // pcre2_code is immutable after compilation and pcre2_match is
    // thread-safe on it (PCRE2 docs, "Multithreading"): hence Sendable.
    private let code: OpaquePointer
    public let pattern: String
    /// Whether JIT compilation succeeded (it is an optimisation: the
    /// interpreter gives the same answers).
    public let isJIT: Bool

    /// Longest pattern accepted, in bytes.
    public static let maximumPatternLength = 8192

    public convenience init(_ pattern: String, caseless: Bool = false) throws(RegexError) {
        try self.init(pattern, options: caseless ? .caseless : [])
    }

    public init(_ pattern: String, options: RegexOptions) throws(RegexError) {
        let bytes = Array(pattern.utf8)
        guard !bytes.isEmpty else { throw RegexError(message: "empty pattern", offset: 0) }
        guard bytes.count <= CompiledRegex.maximumPatternLength else {
            throw RegexError(message: "pattern longer than \(CompiledRegex.maximumPatternLength) bytes", offset: 0)
        }
        var errorCode: Int32 = 0
        var errorOffset = 0
        let options = options.rawValue
        let compiled = bytes.withUnsafeBufferPointer {
            pcre2_compile_8($0.baseAddress, $0.count, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw RegexError(message: CompiledRegex.message(errorCode), offset: errorOffset)
        }
        code = compiled
        self.pattern = pattern
        isJIT = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE) == 0
    }

    deinit { pcre2_code_free_8(code) }

    /// Whether the pattern matches anywhere in `subject`.
    public func matches(_ subject: UnsafeRawBufferPointer, scratch: RegexScratch) -> RegexMatch {
        let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(scratch.emptySubject)
        let rc = pcre2_match_8(code, base, subject.count, 0, 0, scratch.matchData, scratch.context)
        if rc >= 0 { return .match }
        if rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL { return .noMatch }
        // Match, depth and heap limits, JIT stack exhaustion, and anything
        // else PCRE2 gives up on: abandoned, not a match.
        return .limitExceeded
    }

    /// The first match in `subject` starting at or after `start` (lookbehind
    /// may still see the bytes before it, as with pcre2_match's start offset).
    public func firstMatch(_ subject: UnsafeRawBufferPointer, from start: Int = 0,
                           scratch: RegexScratch) -> RegexSearch {
        guard start <= subject.count else { return .noMatch }
        let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(scratch.emptySubject)
        let rc = pcre2_match_8(code, base, subject.count, start, 0, scratch.matchData, scratch.context)
        if rc >= 0 {
            let vector = pcre2_get_ovector_pointer_8(scratch.matchData)!
            return .match(start: Int(vector[0]), end: Int(vector[1]))
        }
        if rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL { return .noMatch }
        return .limitExceeded
    }

    public func matches(_ bytes: [UInt8], scratch: RegexScratch) -> RegexMatch {
        bytes.withUnsafeBytes { matches($0, scratch: scratch) }
    }

    static func message(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(code, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: buffer[..<Int(n)], as: UTF8.self) : "PCRE2 error \(code)"
    }
}

/// Per-thread matching state: match data, a match context with the limits,
/// and a JIT stack. Create one per worker; never share it between threads.
public final class RegexScratch {
    let matchData: OpaquePointer
    let context: OpaquePointer
    private let jitStack: OpaquePointer?
    let emptySubject: UnsafeMutablePointer<UInt8>

    /// Limits that bound one match attempt, so that a pathological pattern
    /// (`(a+)+$` on a long run of `a`) costs at most about a millisecond.
    public struct Limits: Sendable {
        /// pcre2_set_match_limit: calls of the internal match function
        /// (backtracking steps); also bounds the JIT.
        public var matchLimit: UInt32 = 100_000
        /// pcre2_set_depth_limit: backtracking depth (interpreter).
        public var depthLimit: UInt32 = 10_000
        /// pcre2_set_heap_limit, KiB (interpreter).
        public var heapLimitKiB: UInt32 = 2048
        /// Largest JIT stack, bytes.
        public var jitStackBytes: Int = 512 * 1024

        public init() {}
    }

    public init(limits: Limits = Limits()) {
        guard let data = pcre2_match_data_create_8(1, nil), let context = pcre2_match_context_create_8(nil) else {
            fatalError("PCRE2 could not allocate match data (out of memory)")
        }
        matchData = data
        self.context = context
        pcre2_set_match_limit_8(context, limits.matchLimit)
        pcre2_set_depth_limit_8(context, limits.depthLimit)
        pcre2_set_heap_limit_8(context, limits.heapLimitKiB)
        jitStack = pcre2_jit_stack_create_8(32 * 1024, max(32 * 1024, limits.jitStackBytes), nil)
        if let jitStack { pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack)) }
        emptySubject = .allocate(capacity: 1)
        emptySubject.initialize(to: 0)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
        emptySubject.deallocate()
    }
}
