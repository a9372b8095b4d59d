import Hummingbird
import NIOCore

/// Reads a JSON object body and checks its fields, collecting every error
/// with its JSON Pointer (`/rule/action`, `/target`). Unknown keys are
/// refused, as socfwd refuses them.
struct BodyReader {
    let object: [String: JSONValue]
    let pointerPrefix: String
    private(set) var errors: [Problem.FieldError] = []

    /// Collects the body (at most the context's upload limit) and parses it as a JSON object.
    static func object(from request: Request, context: APIRequestContext) async throws -> [String: JSONValue] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            throw Problem(.contentTooLarge, kind: "too-large", title: "Body too large",
                          detail: "the body may be at most \(context.maxUploadSize) bytes")
        }
        return try parseObject(buffer)
    }

    /// Parses a collected body as a JSON object.
    static func parseObject(_ buffer: ByteBuffer) throws -> [String: JSONValue] {
        guard buffer.readableBytes > 0 else { throw Problem.validation(pointer: "", "a JSON object body is required") }
        guard let value = try? JSONValue(bytes: buffer.readableBytesView) else {
            throw Problem.validation(pointer: "", "the body is not valid JSON")
        }
        guard case let .object(object) = value else {
            throw Problem.validation(pointer: "", "the body must be a JSON object, got \(value.kindName)")
        }
        return object
    }

    init(_ object: [String: JSONValue], pointerPrefix: String = "", allowed: Set<String>) {
        self.object = object
        self.pointerPrefix = pointerPrefix
        for key in object.keys.sorted() where !allowed.contains(key) {
            errors.append(.init(pointer: "\(pointerPrefix)/\(key)", detail: "unknown field (expected: \(allowed.sorted().joined(separator: ", ")))"))
        }
    }

    mutating func fail(_ pointer: String, _ detail: String) {
        errors.append(.init(pointer: pointerPrefix + pointer, detail: detail))
    }

    mutating func string(_ key: String, required: Bool = false, maxLength: Int = 1024,
                         where valid: (String) -> Bool = { _ in true }, expected: String = "") -> String? {
        guard let value = object[key] else {
            if required { fail("/\(key)", "is required") }
            return nil
        }
        guard let text = value.string else { fail("/\(key)", "expected a string, got \(value.kindName)"); return nil }
        // Lengths in Unicode code points, as JSON Schema's maxLength counts them.
        guard !text.isEmpty, text.unicodeScalars.count <= maxLength else { fail("/\(key)", "expected 1 to \(maxLength) characters"); return nil }
        guard valid(text) else { fail("/\(key)", expected.isEmpty ? "invalid value" : "expected \(expected)"); return nil }
        return text
    }

    mutating func int(_ key: String, in range: ClosedRange<Int64>) -> Int64? {
        guard let value = object[key] else { return nil }
        guard case let .int(number) = value else { fail("/\(key)", "expected an integer, got \(value.kindName)"); return nil }
        guard range.contains(number) else { fail("/\(key)", "must be between \(range.lowerBound) and \(range.upperBound)"); return nil }
        return number
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = object[key] else { return nil }
        guard let flag = value.bool else { fail("/\(key)", "expected true or false, got \(value.kindName)"); return nil }
        return flag
    }

    func throwIfInvalid() throws {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
