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

    mutating func matches(_ program: BufferProgram, _ bytes: UnsafeRawBufferPointer, streamOffset: Int = 0) -> Bool {
        budget = ProgramMatcher.budgetPerProgram
        return program.steps.withUnsafeBufferPointer { steps in
            run(steps, 0, bytes, previousEnd: 0, streamOffset: streamOffset)
        }
    }

    private mutating func run(_ steps: UnsafeBufferPointer<CompiledStep>, _ i: Int, _ bytes: UnsafeRawBufferPointer,
                              previousEnd: Int, streamOffset: Int) -> Bool {
        if i == steps.count { return true }
        budget -= 1
        if budget < 0 { return false }
        let step = steps[i]
        let nextIsRelative = i + 1 < steps.count && steps[i + 1].relative
        switch step.kind {
        case .content:
            guard var window = contentWindow(step, bytes.count, previousEnd: previousEnd, streamOffset: streamOffset)
            else { return step.negated && run(steps, i + 1, bytes, previousEnd: previousEnd, streamOffset: streamOffset) }
            if step.negated {
                if find(step, bytes, window) != nil { return false }
                return run(steps, i + 1, bytes, previousEnd: previousEnd, streamOffset: streamOffset)
            }
            while let at = find(step, bytes, window) {
                let end = at + step.pattern.count
                if run(steps, i + 1, bytes, previousEnd: end, streamOffset: streamOffset) { return true }
                // Only a relative next step can succeed from a later occurrence.
                if !nextIsRelative || budget < 0 { return false }
                window = (at + 1)..<window.upperBound
                budget -= 1
            }
            return false
        case .pcre:
            // A relative pcre sees the buffer from the previous match on, so
            // `^` anchors there (as in Suricata).
            let start = step.relative ? min(max(previousEnd, 0), bytes.count) : 0
            let subject = UnsafeRawBufferPointer(rebasing: bytes[start...])
            switch step.regex!.firstMatch(subject, scratch: regexScratch) {
            case .match(_, let end):
                if step.negated { return false }
                return run(steps, i + 1, bytes, previousEnd: start + end, streamOffset: streamOffset)
            case .noMatch:
                return step.negated && run(steps, i + 1, bytes, previousEnd: previousEnd, streamOffset: streamOffset)
            case .limitExceeded:
                regexLimitHits &+= 1
                return false
            }
        case .size:
            guard step.test.matches(bytes.count) else { return false }
            return run(steps, i + 1, bytes, previousEnd: previousEnd, streamOffset: streamOffset)
        case .dataAt:
            let at = step.relative ? previousEnd + step.dataAtOffset : step.dataAtOffset - streamOffset
            let present = at >= 0 && at < bytes.count
            guard present != step.negated else { return false }
            return run(steps, i + 1, bytes, previousEnd: previousEnd, streamOffset: streamOffset)
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
