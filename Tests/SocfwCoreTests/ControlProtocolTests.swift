import Testing
import SocfwCore

@Suite struct ControlProtocolTests {
    @Test func requestsParseWithTheirIdMethodAndParams() throws {
        let r = try ControlProtocol.parseRequest(#"{"id":7,"method":"rules.get","params":{"name":"x"}}"#).get()
        #expect(r.id == .int(7) && r.method == "rules.get")
        #expect(try r.string("name") == "x")
        let s = try ControlProtocol.parseRequest(#"{"id":"a","method":"status"}"#).get()
        #expect(s.id == .string("a") && s.params == .object([]))
    }

    @Test(arguments: [
        ("{not json", ControlErrorCode.parse), ("[1]", .invalidRequest), (#"{"id":1}"#, .invalidRequest),
        (#"{"id":{},"method":"a"}"#, .invalidRequest), (#"{"id":1,"method":""}"#, .invalidRequest),
        (#"{"id":1,"method":"a","params":3}"#, .invalidParams), (#"{"id":1,"method":"a","x":1}"#, .invalidRequest),
        ("", .parse), ("\"\\ud800\"", .parse),
    ])
    func badRequestsGetTheirErrorCode(_ line: String, _ code: ControlErrorCode) {
        switch ControlProtocol.parseRequest(line) {
        case .success(let r): Issue.record("accepted \(line): \(r)")
        case .failure(let f): #expect(f.error.code == code, "\(line): \(f.error)")
        }
    }

    @Test func repliesAndEventsAreOneJSONLine() {
        let ok = ControlProtocol.reply(id: .int(1), result: .object([("a", .array([.bool(true), .null, .double(1.5)]))]))
        #expect(ok == #"{"id":1,"result":{"a":[true,null,1.5]}}"#)
        let err = ControlProtocol.reply(id: .string("x"), error: ControlError(.refused, "line\n\"quoted\""))
        #expect(err == #"{"id":"x","error":{"code":-32002,"message":"line\n\"quoted\""}}"#)
        #expect(!err.contains("\n"))
        #expect(ControlProtocol.event("stats", data: .raw(#"{"packets":1}"#)) == #"{"event":"stats","data":{"packets":1}}"#)
    }

    @Test func parametersAreCheckedByName() throws {
        let r = try ControlProtocol.parseRequest(#"{"id":1,"method":"conns.list","params":{"port":70000,"limit":"5","zz":1}}"#).get()
        #expect(throws: ControlError.self) { try r.allowOnly(["port", "limit"]) }
        do {
            _ = try r.optionalInt("port", in: 0...65535)
            Issue.record("70000 accepted")
        } catch {
            #expect(error.code == .invalidParams && error.message.contains("params.port"))
        }
        #expect(throws: ControlError.self) { try r.optionalInt("limit", in: 1...10) }
        #expect(try r.optionalString("absent") == nil)
    }

    @Test func jsonRoundTripsThroughTheParser() throws {
        let text = #"{"a":[1,-2,3.25,"é\u0001\"",false,null],"b":{"c":"d"}}"#
        let v = try JSONValue.parse(text)
        #expect(try JSONValue.parse(v.serialized) == v)
        #expect(v["a"] == .array([.int(1), .int(-2), .double(3.25), .string("é\u{1}\""), .bool(false), .null]))
    }

    /// The byte writer: exact text for every kind, escapes only where JSON
    /// needs them (non-ASCII text as is), integers at both ends of Int64,
    /// key order kept, raw text inserted unchanged.
    @Test func serializesExactly() throws {
        let v = JSONValue.object([
            ("s", .string("plain")), ("e", .string("q\"b\\n\nr\rt\tc\u{1}\u{1f}é€💥/")),
            ("min", .int(.min)), ("max", .int(.max)), ("zero", .int(0)), ("neg", .int(-42)),
            ("d", .double(2.5)), ("inf", .double(.infinity)), ("t", .bool(true)), ("n", .null),
            ("raw", .raw(#"{"x":[1]}"#)), ("a", .array([])), ("o", .object([])), ("k\"ey", .int(1)),
            ("bytes", .rawBytes(Array("[1,2]".utf8))),
        ])
        #expect(v.serialized == #"{"s":"plain","e":"q\"b\\n\nr\rt\tc\u0001\u001fé€💥/","min":-9223372036854775808,"#
            + #""max":9223372036854775807,"zero":0,"neg":-42,"d":2.5,"inf":null,"t":true,"n":null,"raw":{"x":[1]},"#
            + #""a":[],"o":{},"k\"ey":1,"bytes":[1,2]}"#)
        #expect(EveJSON.escape("no escapes at all") == "no escapes at all")
        #expect(EveJSON.escape("tab\there") == #"tab\there"#)
        // The scalar-aware form still escapes what its caller asks for.
        #expect(EveJSON.escape("a\u{2028}b") { $0 == "\u{2028}" } == #"a\u2028b"#)
    }

    @Test func theOnePassReaderKeepsOrderAndTheLastOfARepeatedName() throws {
        let v = try JSONValue.parse(#" {"b":1,"a":[true,null,-0.5,"\u00e9\ud834\udd1e"],"b":2} "#)
        #expect(v == .object([("a", .array([.bool(true), .null, .double(-0.5), .string("é𝄞")])), ("b", .int(2))]))
        #expect(v["b"] == .int(2))
        for bad in ["", "{", #"{"a":}"#, "[1,]", #""\ud800""#, "01", "1e999", "[1] 2", String(repeating: "[", count: 300)] {
            #expect(throws: JSONValue.JSONParseError.self) { try JSONValue.parse(bad) }
        }
        // A request whose method is given twice is answered for the last one.
        guard case let .success(r) = ControlProtocol.parseRequest(#"{"id":1,"method":"quarantine.add","method":"status"}"#) else {
            Issue.record("not parsed"); return
        }
        #expect(r.method == "status")
    }

    @Test func mutatedRequestsNeverCrashTheParser() {
        var rng = TestRNG(seed: 5)
        let seed = Array(#"{"id":12,"method":"rules.add","params":{"rule":{"name":"a","conditions":[{"value":["1","2"]}]}}}"#.utf8)
        for _ in 0..<5000 {
            var b = seed
            for _ in 0...rng.below(6) {
                let i = rng.below(b.count)
                switch rng.below(3) {
                case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b.remove(at: i)
                default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
                }
                if b.isEmpty { break }
            }
            switch ControlProtocol.parseRequest(String(decoding: b, as: UTF8.self)) {
            case .success(let r): #expect(!r.method.isEmpty)
            case .failure(let f): #expect(!f.error.message.isEmpty)
            }
        }
    }
}
