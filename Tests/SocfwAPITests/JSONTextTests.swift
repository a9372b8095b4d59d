import Foundation
import NIOCore
import SocfwAPI
import Testing

/// The API's JSON reader and writer (JSONValue(bytes:), compactText): round
/// trips of random trees, agreement with Foundation's parser, refusals.
@Suite struct JSONTextTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{7f}", "é", "€", "𝄞", "💥", "ß", "\u{2028}"]

    func randomString(_ rng: inout Rng) -> String {
        (0..<rng.below(12)).map { _ in Self.alphabet[rng.below(Self.alphabet.count)] }.joined()
    }

    func randomValue(_ rng: inout Rng, depth: Int) -> JSONValue {
        switch rng.below(depth > 4 ? 6 : 8) {
        case 0: return .null
        case 1: return .bool(rng.below(2) == 0)
        case 2: return .int(Int64(bitPattern: rng.next()) >> Int64(rng.below(63)))
        case 3: return .double(Double(Int64(bitPattern: rng.next()) >> 20) / 1024.5)
        case 4, 5: return .string(randomString(&rng))
        case 6: return .array((0..<rng.below(5)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var o: [String: JSONValue] = [:]
            for _ in 0..<rng.below(5) { o[randomString(&rng)] = randomValue(&rng, depth: depth + 1) }
            return .object(o)
        }
    }

    @Test func randomTreesRoundTripAndFoundationReadsTheOutput() throws {
        var rng = Rng(state: 42)
        for _ in 0..<2_000 {
            let value = randomValue(&rng, depth: 0)
            let text = value.compactBytes
            #expect(try JSONValue(bytes: Array(text)) == value, "\(value.compactText)")
            // Foundation agrees it is JSON (fragments allowed at the top).
            #expect((try? JSONSerialization.jsonObject(with: text, options: [.fragmentsAllowed])) != nil, "\(value.compactText)")
        }
    }

    @Test func readsWhatFoundationWrites() throws {
        let text = #"{"a":[1,-2,3.5,1e3,-0.25E-2,true,false,null],"b":"\u00e9\ud834\udd1e\n\"\\\/","c":{},"d":[],"e":9223372036854775807,"f":18446744073709551616}"#
        let v = try JSONValue(bytes: Array(text.utf8))
        #expect(v["a"] == .array([.int(1), .int(-2), .double(3.5), .double(1000), .double(-0.0025), .bool(true), .bool(false), .null]))
        #expect(v["b"] == .string("é𝄞\n\"\\/"))
        #expect(v["c"] == .object([:]) && v["d"] == .array([]))
        #expect(v["e"] == .int(.max) && v["f"] == .double(18446744073709551616))
        #expect(try JSONValue(bytes: Array("  \n 7 \t".utf8)) == .int(7))
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "[1 2]", "01", "1.", ".5", "1e", "-", "+1", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{01}b\"", "[1] 2", "{1:2}", "NaN", "1e999",
    ])
    func refusesWhatIsNotJSON(text: String) {
        #expect(throws: (any Error).self) { try JSONValue(bytes: Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        #expect(throws: (any Error).self) { try JSONValue(bytes: [0x22, 0xff, 0xfe, 0x22]) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: (any Error).self) { try JSONValue(bytes: Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect((try? JSONValue(bytes: Array(fine.utf8))) != nil)
    }

    // MARK: Skimming: a reply's result validated without being built

    func skim(_ text: [UInt8]) -> (members: [String: JSONValue], raw: Range<Int>?)? {
        text.withUnsafeBytes { try? JSONText.parseObject($0, keepingRaw: "result") }
    }

    /// Random trees, and random one-byte corruptions of them, as a reply's
    /// result: the skimming reader accepts exactly what the full reader
    /// accepts, and points at exactly the result's bytes.
    @Test func skimmingAgreesWithParsingOnValidAndCorruptText() {
        var rng = Rng(state: 7)
        let corruptions: [UInt8] = Array("\"\\{}[],:0-.eE tfn\u{01}".utf8) + [0xff, 0xc3, 0x80]
        for round in 0..<4_000 {
            var body = Array(randomValue(&rng, depth: 0).compactBytes)
            if round % 2 == 1, !body.isEmpty {
                let at = rng.below(body.count)
                switch rng.below(3) {
                case 0: body[at] = corruptions[rng.below(corruptions.count)]
                case 1: body.remove(at: at)
                default: body.insert(corruptions[rng.below(corruptions.count)], at: at)
                }
            }
            let line = Array(#"{"id":12,"result":"#.utf8) + body + Array("}".utf8)
            let full = try? JSONText.parse(body)
            let skimmed = skim(line)
            #expect((full != nil) == (skimmed != nil), "\(String(decoding: body, as: UTF8.self))")
            if let skimmed, full != nil {
                #expect(skimmed.members == ["id": .int(12)])
                // The range is the value itself, without the whitespace around it.
                let space: Set<UInt8> = [0x20, 0x0a, 0x0d, 0x09]
                let trimmed = Array(body.drop { space.contains($0) }.reversed().drop { space.contains($0) }.reversed())
                #expect(skimmed.raw.map { Array(line[$0]) } == trimmed)
            }
        }
    }

    @Test func skimmingChecksLongStringsEightBytesAtATime() {
        // A quote, backslash, control byte or non-ASCII byte at every position of a long string.
        for special in ["\\\"", "\\n", "é", "\u{1F4A5}"] {
            for at in 0..<40 {
                let text = String(repeating: "a", count: at) + special + String(repeating: "b", count: 40 - at)
                let body = JSONValue.string(text).compactBytes
                let line = Array(#"{"result":"#.utf8) + body + Array("}".utf8)
                #expect(skim(line)?.raw.map { try? JSONText.parse(Array(line[$0])) } == .string(text))
            }
        }
        let control = Array(#"{"result":"aaaaaaaaaaaaaaaaa"#.utf8) + [0x01] + Array(#"bbbbbbbbbbbbb"}"#.utf8)
        #expect(skim(control) == nil)
        let badUTF8 = Array(#"{"result":"aaaaaaaaaaaaaaaaa"#.utf8) + [0xc3, 0x28] + Array(#"bbbbbbbbbbbbb"}"#.utf8)
        #expect(skim(badUTF8) == nil)
    }

    @Test func skimmingRefusesWhatParsingRefuses() {
        for text in ["1e999", "01", "[1,]", "-", String(repeating: "[", count: 300) + String(repeating: "]", count: 300)] {
            #expect(skim(Array((#"{"result":"# + text + "}").utf8)) == nil, "\(text.prefix(20))")
        }
        #expect(skim(Array(#"{"result":18446744073709551616}"#.utf8))?.raw != nil)
    }

    @Test func findsATopLevelMemberWithoutBuildingTheRest() {
        let page = Array(#"{"next_cursor":"17","persisted":true,"alerts":[{"next_cursor":1}]}"#.utf8)
        #expect(page.withUnsafeBytes { JSONText.objectHasMember($0, "next_cursor") })
        #expect(page.withUnsafeBytes { JSONText.objectHasMember($0, "alerts") })
        let nested = Array(#"{"alerts":[{"next_cursor":1}],"kept":1}"#.utf8)
        #expect(!nested.withUnsafeBytes { JSONText.objectHasMember($0, "next_cursor") })
        #expect(!Array("[1]".utf8).withUnsafeBytes { JSONText.objectHasMember($0, "a") })
    }

    /// socfwd's own reply shape is split without reading the result; any
    /// other shape is left to the full reader.
    @Test func plainRepliesAreSplitOtherShapesAreNot() {
        func split(_ text: String) -> (Int64, String)? {
            ControlConnection.plainReply(ByteBuffer(string: text)).map { ($0.id, String(buffer: $0.result)) }
        }
        #expect(split(#"{"id":42,"result":{"alerts":[]}}"#)! == (42, #"{"alerts":[]}"#))
        #expect(split(#"{"id":7,"result":[1,2]}"#)! == (7, "[1,2]"))
        #expect(split(#"{"id":7,"result":"ok"}"#)! == (7, #""ok""#))
        for other in [#"{"id":7,"result":true}"#, #"{"id":7,"error":{"code":1,"message":"x"}}"#,
                      #"{"result":{},"id":7}"#, #"{"event":"alert","data":{}}"#, #"{"id":"7","result":{}}"#,
                      #"{"id":7,"result":{}"#, #"{"id":,"result":{}}"#, #"{"id":7,"result":}"#,
                      #"{"id":99999999999999999999,"result":{}}"#] {
            #expect(split(other) == nil, "\(other)")
        }
    }
}
