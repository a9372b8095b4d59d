import Hummingbird

/// Reads and checks query parameters, collecting every error (pointer
/// `/query/NAME`) so one 400 lists them all. Unknown parameters are
/// refused: a typo is never silently ignored.
struct QueryReader {
    private let parameters: [String: String]
    private(set) var errors: [Problem.FieldError] = []

    init(_ request: Request, allowed: Set<String>) {
        var parameters: [String: String] = [:]
        var errors: [Problem.FieldError] = []
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            if !allowed.contains(name) {
                errors.append(.init(pointer: "/query/\(name)", detail: "unknown parameter (expected: \(allowed.sorted().joined(separator: ", ")))"))
            } else if parameters[name] != nil {
                errors.append(.init(pointer: "/query/\(name)", detail: "given more than once"))
            } else {
                parameters[name] = String(value)
            }
        }
        self.parameters = parameters
        self.errors = errors
    }

    mutating func fail(_ name: String, _ detail: String) {
        errors.append(.init(pointer: "/query/\(name)", detail: detail))
    }

    mutating func int(_ name: String, in range: ClosedRange<Int64>) -> Int64? {
        guard let text = parameters[name] else { return nil }
        guard let value = Int64(text) else { fail(name, "expected an integer, got '\(text.prefix(40))'"); return nil }
        guard range.contains(value) else { fail(name, "must be between \(range.lowerBound) and \(range.upperBound)"); return nil }
        return value
    }

    mutating func bool(_ name: String) -> Bool? {
        guard let text = parameters[name] else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: fail(name, "expected true or false"); return nil
        }
    }

    mutating func string(_ name: String, maxLength: Int = 256, where valid: (String) -> Bool = { _ in true },
                         expected: String = "") -> String? {
        guard let text = parameters[name] else { return nil }
        guard !text.isEmpty, text.unicodeScalars.count <= maxLength else { fail(name, "expected 1 to \(maxLength) characters"); return nil }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }), valid(text) else {
            fail(name, expected.isEmpty ? "invalid value" : "expected \(expected)")
            return nil
        }
        return text
    }

    mutating func oneOf(_ name: String, _ values: [String]) -> String? {
        guard let text = parameters[name] else { return nil }
        guard values.contains(text) else { fail(name, "expected one of: \(values.joined(separator: ", "))"); return nil }
        return text
    }

    mutating func address(_ name: String, prefixAllowed: Bool) -> String? {
        string(name, maxLength: 49, where: prefixAllowed ? NetworkAddress.isAddressOrPrefix : NetworkAddress.isAddress,
               expected: prefixAllowed ? "an IPv4/IPv6 address or prefix (10.0.0.0/24)" : "an IPv4/IPv6 address")
    }

    mutating func timestamp(_ name: String) -> Int64? {
        guard let text = parameters[name] else { return nil }
        guard let ns = Timestamp.nanoseconds(rfc3339: text) else {
            fail(name, "expected an RFC 3339 timestamp such as 2026-11-26T03:00:00Z")
            return nil
        }
        return ns
    }

    func throwIfInvalid() throws {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
