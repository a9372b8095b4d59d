import Testing
import SocfwRegex

@Suite struct RegexTests {
    let scratch = RegexScratch()

    @Test func matchesAnywhereInBytes() throws {
        let r = try CompiledRegex(#"union\s+select"#, caseless: true)
        #expect(r.matches(Array("id=1 UNION  SELECT pass".utf8), scratch: scratch) == .match)
        #expect(r.matches(Array("id=1 union all".utf8), scratch: scratch) == .noMatch)
        #expect(r.matches([], scratch: scratch) == .noMatch)
    }

    @Test func binarySubjectsWithNulBytes() throws {
        let r = try CompiledRegex(#"\x00\xffAB"#)
        #expect(r.matches([1, 0, 0xff, 0x41, 0x42], scratch: scratch) == .match)
        #expect(r.matches([1, 0, 0xfe, 0x41, 0x42], scratch: scratch) == .noMatch)
    }

    @Test func inlineOptions() throws {
        let r = try CompiledRegex("(?i)^get /admin")
        #expect(r.matches(Array("GET /Admin HTTP/1.1".utf8), scratch: scratch) == .match)
    }

    @Test func badPatternReportsMessageAndOffset() {
        #expect(throws: RegexError.self) { try CompiledRegex("ab(c") }
        do {
            _ = try CompiledRegex("abc[")
            Issue.record("no error")
        } catch {
            #expect(error.offset == 4)
            #expect(error.message.contains("missing terminating ]"))
        }
        #expect(throws: RegexError.self) { try CompiledRegex("") }
        #expect(throws: RegexError.self) { try CompiledRegex(String(repeating: "a", count: 9000)) }
    }

    @Test func pathologicalPatternIsAbandonedNotStalled() throws {
        let r = try CompiledRegex("^(a+)+$")
        let subject = [UInt8](repeating: UInt8(ascii: "a"), count: 4000) + [UInt8(ascii: "b")]
        #expect(r.matches(subject, scratch: scratch) == .limitExceeded)
        // The same scratch still works afterwards.
        #expect(r.matches(Array("aaa".utf8), scratch: scratch) == .match)
    }

    @Test func randomPatternsCompileOrFailCleanly() throws {
        // Random short patterns from a small alphabet (many invalid) against
        // random subjects: invalid ones are errors, valid ones answer within
        // the limits.
        var rng = SystemRandomNumberGenerator()
        let atoms = ["a", "b", ".", "a*", "b+", "(a|b)", "[ab]", "\\d", "^", "$", "(?:ab)?", "a{2,3}", "\\x00", "(", ")", "["]
        var compiled = 0
        for _ in 0..<3000 {
            let pattern = (0..<Int.random(in: 1...6, using: &rng)).map { _ in atoms.randomElement(using: &rng)! }.joined()
            guard let r = try? CompiledRegex(pattern) else { continue }
            compiled += 1
            let subject = (0..<Int.random(in: 0...12, using: &rng)).map { _ in [UInt8(ascii: "a"), UInt8(ascii: "b"), 0, 0x31].randomElement(using: &rng)! }
            let result = r.matches(subject, scratch: scratch)
            #expect(result != .limitExceeded, "\(pattern)")
        }
        #expect(compiled > 500)
    }
}
