import SocfwRegex

/// Runs the detection steps of one buffer, with Suricata's semantics:
///
/// * `offset`/`depth` bound a content from the start of the buffer (`depth`
///   counts from `offset`); `distance`/`within` from the end of the previous
///   step's match in the same buffer, the window ending at
///   `previous end + distance + within` (as detect-engine-content-inspection.c).
/// * when a later relative step fails, an earlier content is retried at its
///   next occurrence (bounded backtracking), so `"a"; "b"; within:2` finds
///   the second `a` of `a..ab`.
/// * negated steps must fail in their window and do not move the position.
/// * `streamOffset` is the stream position of byte 0 of the buffer (stream
///   inspection keeps a window, not the whole stream): absolute offsets are
///   positions in the stream.
struct ProgramMatcher {
    let regexScratch: RegexScratch
    /// Work left for this program (content searches + regex runs); bounds
    /// backtracking on hostile input.
    var budget = 0
    var regexLimitHits: UInt64 = 0

    init(regexScratch: RegexScratch) {
        self.regexScratch = regexScratch
    }

    static let budgetPerProgram = 2048

    /// The buffer of one run and what a match must reach.
    private struct Subject {
        var bytes: UnsafeRawBufferPointer
        var streamOffset: Int
        /// Some positive step of the match must end after this position
        /// (stream inspection: the match includes new data); -1: any match.
        var minimumEnd: Int
    }

    /// Whether the program matches `bytes`. `minimumEnd`: for stream
    /// chunks, the start of the new data — a match lying wholly in the
    /// window was reported when its last byte arrived.
    mutating func matches(_ program: BufferProgram, _ bytes: UnsafeRawBufferPointer, streamOffset: Int = 0,
                          minimumEnd: Int = -1) -> Bool {
        budget = ProgramMatcher.budgetPerProgram
        let subject = Subject(bytes: bytes, streamOffset: streamOffset, minimumEnd: minimumEnd)
        return program.steps.withUnsafeBufferPointer { steps in
            run(steps, 0, subject, previousEnd: 0, reach: -1)
        }
    }

    /// `reach`: the furthest end of the positive matches on this path.
    private mutating func run(_ steps: UnsafeBufferPointer<CompiledStep>, _ i: Int, _ s: Subject,
                              previousEnd: Int, reach: Int) -> Bool {
        if i == steps.count { return s.minimumEnd < 0 || reach > s.minimumEnd }
        budget -= 1
        if budget < 0 { return false }
        let step = steps[i]
        let bytes = s.bytes
        // A later occurrence can help when a later step depends on where
        // this one ended (negated, size and absolute steps pass the position
        // on), or when the match has not yet reached new data.
        let retry = s.minimumEnd >= 0 || steps[(i + 1)...].contains { $0.relative }
        switch step.kind {
        case .content:
            guard var window = contentWindow(step, bytes.count, previousEnd: previousEnd, streamOffset: s.streamOffset)
            else { return step.negated && run(steps, i + 1, s, previousEnd: previousEnd, reach: reach) }
            if step.negated {
                if find(step, bytes, window) != nil { return false }
                return run(steps, i + 1, s, previousEnd: previousEnd, reach: reach)
            }
            while let at = find(step, bytes, window) {
                let end = at + step.pattern.count
                if run(steps, i + 1, s, previousEnd: end, reach: max(reach, end)) { return true }
                if !retry || budget < 0 { return false }
                window = (at + 1)..<window.upperBound
                budget -= 1
            }
            return false
        case .pcre:
            // A relative pcre sees the buffer from the previous match on, so
            // `^` anchors there (as in Suricata).
            let start = step.relative ? min(max(previousEnd, 0), bytes.count) : 0
            let subject = UnsafeRawBufferPointer(rebasing: bytes[start...])
            var from = 0
            while true {
                switch step.regex!.firstMatch(subject, from: from, scratch: regexScratch) {
                case .match(let matchStart, let end):
                    if step.negated { return false }
                    if run(steps, i + 1, s, previousEnd: start + end, reach: max(reach, start + end)) { return true }
                    budget -= 1
                    if !retry || budget < 0 || matchStart >= subject.count { return false }
                    from = matchStart + 1
                case .noMatch:
                    return from == 0 && step.negated && run(steps, i + 1, s, previousEnd: previousEnd, reach: reach)
                case .limitExceeded:
                    regexLimitHits &+= 1
                    return false
                }
            }
        case .size:
            guard step.test.matches(bytes.count) else { return false }
            return run(steps, i + 1, s, previousEnd: previousEnd, reach: reach)
        case .dataAt:
            let at = step.relative ? previousEnd + step.dataAtOffset : step.dataAtOffset - s.streamOffset
            let present = at >= 0 && at < bytes.count
            guard present != step.negated else { return false }
            return run(steps, i + 1, s, previousEnd: previousEnd, reach: reach)
        }
    }

    /// The range of start positions allowed for a content, or nil when none is.
    @inline(__always)
    private func contentWindow(_ s: CompiledStep, _ count: Int, previousEnd: Int, streamOffset: Int) -> Range<Int>? {
        var lower = 0
        var upperEnd = count  // the match must end at or before this
        if s.relative {
            lower = max(0, previousEnd + s.distance)
            if s.within >= 0 { upperEnd = min(upperEnd, previousEnd + s.distance + s.within) }
        }
        if s.offset > 0 || s.depth >= 0 {
            lower = max(lower, s.offset - streamOffset)
            if s.depth >= 0 { upperEnd = min(upperEnd, s.offset + s.depth - streamOffset) }
        }
        if s.endsWith { lower = max(lower, count - s.pattern.count) }
        let upperStart = upperEnd - s.pattern.count
        guard upperStart >= lower else { return nil }
        return lower..<(upperStart + 1)
    }

    /// First position in `starts` where the step's pattern occurs.
    @inline(__always)
    private func find(_ s: CompiledStep, _ bytes: UnsafeRawBufferPointer, _ starts: Range<Int>) -> Int? {
        s.pattern.withUnsafeBufferPointer { needle in
            ContentSearch.first(needle, nocase: s.nocase, in: bytes, starts: starts)
        }
    }
}

/// Literal search used by verification (the prefilter has already said the
/// rarest literal is present, so this runs on few buffers).
enum ContentSearch {
    static func first(_ needle: UnsafeBufferPointer<UInt8>, nocase: Bool, in hay: UnsafeRawBufferPointer,
                      starts: Range<Int>) -> Int? {
        let n = needle.count
        guard n > 0, starts.lowerBound >= 0, starts.upperBound - 1 + n <= hay.count, !starts.isEmpty else {
            return nil
        }
        let h = hay.bindMemory(to: UInt8.self)
        let first = needle[0]
        if nocase {
            var i = starts.lowerBound
            while i < starts.upperBound {
                if asciiLower(h[i]) == first {
                    var j = 1
                    while j < n && asciiLower(h[i + j]) == needle[j] { j += 1 }
                    if j == n { return i }
                }
                i += 1
            }
        } else {
            var i = starts.lowerBound
            while i < starts.upperBound {
                // memchr for the first byte, then compare the rest.
                guard let p = memchrRange(h, first, i, starts.upperBound) else { return nil }
                i = p
                if n == 1 || memcmp(h.baseAddress! + i + 1, needle.baseAddress! + 1, n - 1) == 0 { return i }
                i += 1
            }
        }
        return nil
    }

    @inline(__always)
    private static func memchrRange(_ h: UnsafeBufferPointer<UInt8>, _ byte: UInt8, _ from: Int, _ to: Int) -> Int? {
        guard let p = memchr(h.baseAddress! + from, Int32(byte), to - from) else { return nil }
        return h.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
