import Foundation
import Yams

/// A YAML node with the file and field path it came from, so that every
/// conversion error names the file, line, column and field.
struct YAMLNode {
    let node: Node
    let file: String
    let path: String

    static func load(file: String) throws(ConfigError) -> YAMLNode {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError(file: file, message: "cannot read: \(describeFileError(error))")
        }
        return try parse(text, file: file)
    }

    static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLNode {
        do {
            // The basic resolver: values are read as text and converted by YAMLNode
            // (the default one runs regular expressions on every plain scalar).
            guard let node = try Yams.compose(yaml: text, Resolver.basic) else {
                return YAMLNode(node: .mapping(.init([])), file: file, path: "")
            }
            return YAMLNode(node: node, file: file, path: "")
        } catch let error as YamlError {
            throw YAMLNode.convert(error, file: file)
        } catch {
            throw ConfigError(file: file, message: "YAML error: \(error)")
        }
    }

    private static func convert(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let ctx = context.map { "\($0.text) " } ?? ""
            return ConfigError(file: file, line: mark.line, column: mark.column,
                               message: "YAML syntax error: \(ctx)\(problem)")
        case let .reader(problem, _, _, _):
            return ConfigError(file: file, message: "YAML read error: \(problem)")
        default:
            return ConfigError(file: file, message: "YAML error: \(error)")
        }
    }

    var line: Int { node.mark?.line ?? 0 }
    var column: Int { node.mark?.column ?? 0 }

    func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, column: column, field: path, message: message)
    }

    func child(_ key: String, _ node: Node) -> YAMLNode {
        YAMLNode(node: node, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    var isNull: Bool {
        if case .scalar(let s) = node { return s.tag.rawValue == Tag.Name.null.rawValue || (s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)) }
        return false
    }

    /// The entries of a mapping, refusing any key not in `allowed` (nil: any
    /// key) and duplicate keys. Small mappings are the rule here (a rule, a
    /// condition): keys are compared linearly, and a child's field path is
    /// built only when the child is used.
    func mapping(allowed: [String]?) throws(ConfigError) -> YAMLMapping {
        guard case .mapping(let m) = node else { throw error("expected a mapping (key: value)") }
        var entries: [(key: String, value: Node)] = []
        entries.reserveCapacity(m.count)
        for (k, v) in m {
            guard case .scalar(let key) = k else {
                throw YAMLNode(node: k, file: file, path: path).error("keys must be plain names")
            }
            let name = key.string
            if let allowed, !allowed.contains(name) {
                throw child(name, k).error("unknown key '\(name)' (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard !entries.contains(where: { $0.key == name }) else { throw child(name, k).error("duplicate key '\(name)'") }
            entries.append((name, v))
        }
        return YAMLMapping(parent: self, entries: entries)
    }

    func sequence() throws(ConfigError) -> [YAMLNode] {
        guard case .sequence(let s) = node else { throw error("expected a list") }
        return s.enumerated().map { YAMLNode(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    var isSequence: Bool { if case .sequence = node { return true } else { return false } }

    func scalarString() throws(ConfigError) -> String {
        guard case .scalar(let s) = node else { throw error("expected a single value") }
        return s.string
    }

    func string() throws(ConfigError) -> String {
        let s = try scalarString()
        guard !s.isEmpty else { throw error("must not be empty") }
        return s
    }

    func bool() throws(ConfigError) -> Bool {
        switch try scalarString() {
        case "true", "True", "TRUE", "yes", "on": return true
        case "false", "False", "FALSE", "no", "off": return false
        case let s: throw error("expected true or false, got '\(s)'")
        }
    }

    /// Decimal or 0x-hexadecimal integer within `range`.
    func integer(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let s = try scalarString()
        let value: Int?
        if s.hasPrefix("0x") || s.hasPrefix("0X") { value = Int(s.dropFirst(2), radix: 16) }
        else { value = Int(s) }
        guard let v = value else { throw error("expected an integer, got '\(s)'") }
        guard range.contains(v) else {
            throw error("\(v) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// One of the named values, e.g. `[("new", .new), ...]`.
    func oneOf<T>(_ names: [(String, T)], what: String) throws(ConfigError) -> T {
        let s = try scalarString()
        guard let v = names.first(where: { $0.0 == s })?.1 else {
            throw error("unknown \(what) '\(s)' (expected one of \(names.map(\.0).joined(separator: ", ")))")
        }
        return v
    }

    func oneOf<T: RawRepresentable>(_ type: T.Type, what: String) throws(ConfigError) -> T
    where T: CaseIterable, T.RawValue == String {
        let s = try scalarString()
        guard let v = T(rawValue: s) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("unknown \(what) '\(s)' (expected one of \(allowed))")
        }
        return v
    }
}

func describeFileError(_ error: any Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file" }
    return ns.localizedDescription
}

/// A mapping's entries in file order; children are made on access.
struct YAMLMapping: Sequence {
    let parent: YAMLNode
    let entries: [(key: String, value: Node)]

    subscript(key: String) -> YAMLNode? {
        guard let e = entries.first(where: { $0.key == key }) else { return nil }
        return parent.child(key, e.value)
    }

    var keys: [String] { entries.map(\.key) }

    func makeIterator() -> AnyIterator<(String, YAMLNode)> {
        var i = 0
        return AnyIterator {
            guard i < entries.count else { return nil }
            defer { i += 1 }
            return (entries[i].key, parent.child(entries[i].key, entries[i].value))
        }
    }
}
