#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization
import Yams

/// A rule as listed by rule management: what it says, where it is defined,
/// and whether rule management may change it.
public struct ManagedRule: Sendable, Equatable, Codable {
    public var spec: RuleSpec
    /// The file the rule is defined in.
    public var file: String
    /// `file:line` of the rule's definition.
    public var origin: String
    /// True when the rule lives in the managed file, the only file rule
    /// management writes; rules of other files are read-only here.
    public var managed: Bool

    public init(spec: RuleSpec, file: String, origin: String, managed: Bool) {
        self.spec = spec
        self.file = file
        self.origin = origin
        self.managed = managed
    }
}

/// Lists and changes the rules of a rules directory for the CLI and API.
///
/// Changes are made to one file of the directory, the managed file
/// (`90-managed.yaml` by default); the other files are only read. Every change
/// is validated against the whole directory as it would be afterwards (the
/// checks of `RulesLoader.load(path:)`), then written atomically; a refused
/// change leaves the disk untouched. Each change returns the directory's new
/// rules, for the caller to compile and swap in.
///
/// Operations are serialized within the process; use one manager per
/// directory. The managed file is re-read on every operation, so valid hand
/// edits are kept, except for comments (the file is rewritten from its parsed form).
public final class RuleManager: Sendable {
    public let rulesDirectory: String
    public let managedFileName: String
    /// The managed file's path, as the rules loader names it.
    public let managedFile: String
    private let lock = Mutex(())

    public init(rulesDirectory: String, managedFileName: String = "90-managed.yaml") {
        precondition(!managedFileName.contains("/") && !managedFileName.hasPrefix(".")
            && (managedFileName.hasSuffix(".yaml") || managedFileName.hasSuffix(".yml")),
            "the managed file must be a visible *.yaml or *.yml file name")
        self.rulesDirectory = rulesDirectory
        self.managedFileName = managedFileName
        managedFile = (rulesDirectory as NSString).appendingPathComponent(managedFileName)
    }

    /// Every rule of the directory, enabled or not, in load order.
    public func list() throws(ConfigError) -> [ManagedRule] {
        try lock.withLock { _ throws(ConfigError) in
            try currentRules().map {
                ManagedRule(spec: $0.spec, file: $0.file, origin: $0.origin, managed: $0.file == managedFile)
            }
        }
    }

    /// Appends a rule to the managed file. Its name must not be used anywhere in the directory.
    public func add(_ spec: RuleSpec) throws(ConfigError) -> [Rule] {
        try change { rules, specs throws(ConfigError) in
            if let other = rules.first(where: { $0.name == spec.name }) {
                throw ConfigError(file: managedFile, field: "name",
                                  message: "rule name '\(spec.name)' is already used at \(other.origin)")
            }
            specs.append(spec)
        }
    }

    /// Replaces a rule of the managed file, in place; `spec` may rename it to a name not used elsewhere.
    public func update(name: String, to spec: RuleSpec) throws(ConfigError) -> [Rule] {
        try change { rules, specs throws(ConfigError) in
            let index = try managedIndex(of: name, in: rules, specs: specs)
            if spec.name != name, let other = rules.first(where: { $0.name == spec.name }) {
                throw ConfigError(file: managedFile, field: "name",
                                  message: "cannot rename '\(name)' to '\(spec.name)': the name is already used at \(other.origin)")
            }
            specs[index] = spec
        }
    }

    /// Removes a rule of the managed file.
    public func delete(name: String) throws(ConfigError) -> [Rule] {
        try change { rules, specs throws(ConfigError) in
            specs.remove(at: try managedIndex(of: name, in: rules, specs: specs))
        }
    }

    /// Enables or disables a rule of the managed file.
    public func setEnabled(name: String, _ enabled: Bool) throws(ConfigError) -> [Rule] {
        try change { rules, specs throws(ConfigError) in
            specs[try managedIndex(of: name, in: rules, specs: specs)].enabled = enabled
        }
    }

    // MARK: - Reading, validating, writing

    private func currentRules() throws(ConfigError) -> [Rule] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rulesDirectory, isDirectory: &isDirectory) else {
            throw ConfigError(file: rulesDirectory, message: "rules directory does not exist")
        }
        guard isDirectory.boolValue else {
            throw ConfigError(file: rulesDirectory, message: "rule management needs a rules directory, but this is a "
                              + "single file: make 'rules' a directory of *.yaml files (this file can move into it)")
        }
        return try RulesLoader.load(path: rulesDirectory)
    }

    /// Applies `edit` to the managed file's rules, validates the directory
    /// with the result, writes it, and returns the directory's new rules.
    private func change(_ edit: ([Rule], inout [RuleSpec]) throws(ConfigError) -> Void) throws(ConfigError) -> [Rule] {
        try lock.withLock { _ throws(ConfigError) in
            let rules = try currentRules()
            var specs = rules.filter { $0.file == managedFile }.map(\.spec)
            try edit(rules, &specs)
            let text = RuleManager.render(specs, groups: try managedGroups())
            let updated = try RulesLoader.loadDirectory(rulesDirectory, replacing: (managedFile, text))
            // The loader accepted the text; make sure it also reads back what was meant.
            if updated.filter({ $0.file == managedFile }).map(\.spec) != specs {
                throw ConfigError(file: managedFile, message: "the rules would not read back as given "
                                  + "(a text holds characters the YAML form cannot carry)")
            }
            try writeAtomically(text)
            return updated
        }
    }

    private func managedIndex(of name: String, in rules: [Rule], specs: [RuleSpec]) throws(ConfigError) -> Int {
        if let index = specs.firstIndex(where: { $0.name == name }) { return index }
        guard let rule = rules.first(where: { $0.name == name }) else {
            throw ConfigError(file: managedFile, message: "no rule named '\(name)'")
        }
        throw ConfigError(file: rule.file, line: Int(rule.origin.split(separator: ":").last ?? "") ?? 0,
                          message: "rule '\(name)' is defined in this file, not in the managed file "
                              + "\(managedFileName): edit it there")
    }

    /// A group as written: its name and values, and whether it was a list or one value.
    typealias GroupText = (name: String, values: [String], isList: Bool)

    /// The managed file's `groups`, in file order, so that rewriting keeps
    /// groups added by hand. Called after the directory loaded, so the file is valid.
    private func managedGroups() throws(ConfigError) -> [GroupText] {
        guard FileManager.default.fileExists(atPath: managedFile) else { return [] }
        let root = try YAMLNode.load(file: managedFile)
        guard case .mapping(let top) = root.node,
              let groups = top.first(where: { $0.key.string == "groups" })?.value, case .mapping(let entries) = groups
        else { return [] }
        var out: [GroupText] = []
        for (key, value) in entries {
            guard case .scalar(let name) = key else { continue }
            var isList = false
            var items = [value]
            if case .sequence(let s) = value { (isList, items) = (true, Array(s)) }
            var texts: [String] = []
            for item in items {
                guard case .scalar(let s) = item else {
                    throw root.child("groups", groups).child(name.string, value)
                        .error("group values must be single values for rule management to rewrite this file")
                }
                texts.append(s.string)
            }
            out.append((name.string, texts, isList))
        }
        return out
    }

    private func writeAtomically(_ text: String) throws(ConfigError) {
        let temp = (rulesDirectory as NSString).appendingPathComponent(".\(managedFileName).tmp-\(getpid())")
        func failure(_ what: String) -> ConfigError {
            ConfigError(file: managedFile, message: "cannot write: \(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw failure("open \(temp)") }
        let bytes = Array(text.utf8)
        var written = 0
        var ok = fchmod(fd, 0o640) == 0
        while ok, written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + written }, $0.count - written) }
            if n < 0, errno == EINTR { continue }
            ok = n > 0
            written += max(n, 0)
        }
        if ok { ok = fsync(fd) == 0 }
        let writeError = ok ? nil : failure("write \(temp)")
        close(fd)
        if let writeError {
            unlink(temp)
            throw writeError
        }
        guard rename(temp, managedFile) == 0 else {
            let error = failure("rename \(temp)")
            unlink(temp)
            throw error
        }
        // The rename is durable only once the directory is synced.
        let dir = open(rulesDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw failure("open \(rulesDirectory)") }
        defer { close(dir) }
        guard fsync(dir) == 0 else {
            throw failure("fsync \(rulesDirectory) (the new file is in place but may not survive a crash)")
        }
    }

    // MARK: - Rendering

    /// The managed file's text. Every string is double-quoted and escaped so
    /// that no text can add YAML structure; the loader reads numbers from
    /// quoted scalars as well.
    static func render(_ specs: [RuleSpec], groups: [GroupText] = []) -> String {
        var out = """
            # Written by socfwd (rule management): changes made through the API
            # rewrite this file. Hand edits must keep it valid; comments are not kept.

            """
        if !groups.isEmpty {
            out += "groups:\n"
            for g in groups {
                out += "  \(quoted(g.name)): \(g.isList ? list(g.values) : quoted(g.values.first ?? ""))\n"
            }
        }
        guard !specs.isEmpty else { return out + "rules: []\n" }
        out += "rules:\n"
        for s in specs {
            out += "  - name: \(quoted(s.name))\n"
            if let id = s.id { out += "    id: \(id)\n" }
            out += "    action: \(quoted(s.action.rawValue))\n"
            out += "    priority: \(s.priority)\n"
            out += "    enabled: \(s.enabled)\n"
            if let d = s.description { out += "    description: \(quoted(d))\n" }
            guard !s.conditions.isEmpty else { continue }
            out += "    conditions:\n"
            for c in s.conditions {
                let value = switch c.value {
                case let .one(v): quoted(v)
                case let .list(vs): list(vs)
                }
                out += "      - { field: \(quoted(c.field)), operator: \(quoted(c.operator)), value: \(value) }\n"
            }
        }
        return out
    }

    private static func list(_ values: [String]) -> String {
        "[" + values.map(quoted).joined(separator: ", ") + "]"
    }

    /// A YAML double-quoted scalar. Escaped: backslash, quote, and everything
    /// YAML does not allow as is or reads as a line break (C0/C1 controls, DEL,
    /// NEL, U+2028/2029, BOM, U+FFFE/FFFF).
    /// (A JSON string is a YAML double-quoted scalar; these are the extra
    /// characters YAML does not take as is.)
    static func quoted(_ text: String) -> String {
        "\"" + EveJSON.escape(text) {
            switch $0 {
            case "\u{7F}"..."\u{9F}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}": return true
            default: return false
            }
        } + "\""
    }
}
