/// Checks a rule object (Docs/rules.md) before it goes to socfwd's
/// `rules.add` / `rules.update`. Pointers are rooted at `/rule`, as socfwd
/// names `params.rule.*`, so both sides report the same pointer.
enum RuleValidation {
    static let actions = ["ALLOW", "DROP", "REJECT", "LOG", "ALERT", "QUARANTINE"]
    static let keys: Set<String> = ["name", "id", "action", "priority", "enabled", "description", "conditions"]
    static let conditionKeys: Set<String> = ["field", "operator", "value"]

    /// `^[A-Za-z0-9._:@-]{1,128}$` (Docs/openapi.yaml, RuleName).
    static func isRuleName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "-_.:@".utf8.contains(byte)
            }
        }
    }

    /// Validates and returns the rule to pass through unchanged.
    static func validate(_ object: [String: JSONValue]) throws -> JSONValue {
        var reader = BodyReader(object, pointerPrefix: "/rule", allowed: keys)
        _ = reader.string("name", required: true, maxLength: 128, where: isRuleName,
                          expected: "letters, digits and - _ . : @ (at most 128)")
        _ = reader.string("action", required: true, maxLength: 16, where: { actions.contains($0) },
                          expected: "one of \(actions.joined(separator: ", "))")
        _ = reader.int("id", in: 1...Int64(UInt32.max))
        _ = reader.int("priority", in: Int64(Int32.min)...Int64(Int32.max))
        _ = reader.bool("enabled")
        _ = reader.string("description", maxLength: 1024)
        if let conditions = object["conditions"] {
            if let list = conditions.array {
                for (index, condition) in list.enumerated() {
                    check(condition: condition, pointer: "/conditions/\(index)", into: &reader)
                }
            } else {
                reader.fail("/conditions", "expected a list of conditions, got \(conditions.kindName)")
            }
        }
        try reader.throwIfInvalid()
        return .object(object)
    }

    private static func check(condition: JSONValue, pointer: String, into reader: inout BodyReader) {
        guard let object = condition.object else {
            reader.fail(pointer, "expected an object with field, operator and value")
            return
        }
        for key in object.keys.sorted() where !conditionKeys.contains(key) {
            reader.fail("\(pointer)/\(key)", "unknown key (expected: field, operator, value)")
        }
        for key in ["field", "operator"] {
            guard let value = object[key] else { reader.fail("\(pointer)/\(key)", "is required"); continue }
            guard let text = value.string, !text.isEmpty, text.unicodeScalars.count <= 64 else {
                reader.fail("\(pointer)/\(key)", "expected a non-empty string")
                continue
            }
        }
        guard let value = object["value"] else { reader.fail("\(pointer)/value", "is required"); return }
        switch value {
        case let .string(text) where text.unicodeScalars.count <= 4096:
            break
        case let .array(items) where !items.isEmpty && items.count <= 10_000:
            for (index, item) in items.enumerated() where item.string == nil {
                reader.fail("\(pointer)/value/\(index)", "expected a string, got \(item.kindName)")
            }
        default:
            reader.fail("\(pointer)/value", "expected a string or a non-empty list of strings (values as written in the YAML)")
        }
    }
}
