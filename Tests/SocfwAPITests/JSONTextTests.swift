import Foundation
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
}
