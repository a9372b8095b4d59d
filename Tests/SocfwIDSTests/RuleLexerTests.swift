import Testing
import SocfwIDS

// Splitting a rule into action, header and options.

private func lex(_ rule: String) throws -> LexedRule {
    try RuleLexer.split(Array(rule.utf8))
}

private func options(_ rule: String) throws -> [(String, String?)] {
    let lexed = try lex(rule)
    return lexed.options.map { ($0.keyword, $0.value.map(lexed.text)) }
}

@Suite struct RuleLexerTests {
    @Test func splitsActionHeaderAndOptions() throws {
        let rule = #"  alert tcp $HOME_NET any -> any 80 ( msg:"x"; nocase ; content: "a" ; sid:1; )  "#
        let lexed = try lex(rule)
        #expect(lexed.action == "alert")
        #expect(lexed.actionColumn == 3)
        #expect(lexed.text(lexed.header) == "tcp $HOME_NET any -> any 80")
        let split = lexed.options.map { ($0.keyword, $0.value.map(lexed.text)) }
        #expect(split.map(\.0) == ["msg", "nocase", "content", "sid"])
        #expect(split.map(\.1) == [#""x""#, nil, #""a""#, "1"])
        #expect(lexed.options[1].column == 48)
    }

    @Test func escapedSemicolonsAndQuotesStayInTheValue() throws {
        let split = try options(#"alert tcp any any -> any any (content:"a\;b\"c\\"; pcre:"/x\;y/"; sid:1;)"#)
        #expect(split.map(\.1) == [#""a\;b\"c\\""#, #""/x\;y/""#, "1"])
    }

    @Test func unescapedQuoteInsidePcreEndsAtTheSemicolon() throws {
        let split = try options(#"alert http any any -> any any (content:"method="; pcre:"/^["']?post/Ri"; classtype:social-engineering; sid:2029732; rev:2;)"#)
        #expect(split.map(\.0) == ["content", "pcre", "classtype", "sid", "rev"])
        #expect(split[1].1 == #""/^["']?post/Ri""#)
    }

    @Test func snortStyleUnescapedSemicolonInsideQuotes() throws {
        let split = try options(#"alert tcp any any -> any any ( content:"a;b",nocase; msg:"x;y"; sid:1; )"#)
        #expect(split.map(\.0) == ["content", "msg", "sid"])
        #expect(split.map(\.1) == [#""a;b",nocase"#, #""x;y""#, "1"])
    }

    @Test func parenthesesInsideValues() throws {
        let split = try options(#"alert tcp any any -> any any (msg:"f(x)"; pcre:"/(a|b)\)/"; sid:1;)"#)
        #expect(split.map(\.1) == [#""f(x)""#, #""/(a|b)\)/""#, "1"])
    }

    @Test func malformedRules() throws {
        let cases: [(String, String, Int?)] = [
            ("", "expected an action (alert, drop, reject, pass)", 1),
            ("alert tcp any any -> any any", "missing '(' before the options", 29),
            ("alert tcp any any -> any any (sid:1;", "rule does not end with ')'", 37),
            ("alert tcp any any -> any any (sid:1)", "option 'sid' is not terminated by ';'", 31),
            (#"alert tcp any any -> any any (msg:"x"; ;)"#, "empty option", 40),
            (#"alert tcp any any -> any any (a b:1;)"#, "invalid option name 'a b'", 31),
            (#"alert tcp any any -> any any (content:"abc\;)"#, "option 'content' is not terminated by ';'", 31),
        ]
        for (rule, message, column) in cases {
            #expect(throws: RuleSyntaxError(message: message, column: column), "\(rule)") { try lex(rule) }
        }
    }
}
