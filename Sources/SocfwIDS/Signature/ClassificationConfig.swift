import Foundation

// `classtype:` names and their priorities (classification.config).

/// One `config classification: shortname,description,priority` entry.
public struct Classification: Sendable, Equatable {
    public var name: String
    public var description: String
    /// 1 is the most severe.
    public var priority: Int

    public init(name: String, description: String, priority: Int) {
        self.name = name
        self.description = description
        self.priority = priority
    }
}

/// A malformed or unreadable classification file.
public enum ClassificationConfigError: Error, Equatable, CustomStringConvertible {
    case malformedLine(file: String, line: Int, reason: String)
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .malformedLine(let file, let line, let reason): "\(file):\(line): \(reason)"
        case .unreadable(let file, let reason): "\(file): cannot read classification file: \(reason)"
        }
    }
}

/// The classtypes a rule set may use.
public struct ClassificationTable: Sendable, Equatable {
    public private(set) var entries: [String: Classification] = [:]

    public init(_ classifications: [Classification] = []) {
        for entry in classifications { entries[entry.name] = entry }
    }

    /// `table[name: "trojan-activity"]`.
    public subscript(name name: String) -> Classification? { entries[name] }

    /// Adds or replaces entries (a later definition wins, as in Suricata).
    public mutating func merge(_ other: ClassificationTable) {
        entries.merge(other.entries) { _, new in new }
    }

    /// Parses classification.config text: `config classification: name,description,priority`
    /// lines, `#` comments and blank lines. The description may contain commas.
    public static func parse(_ text: String, file: String) throws(ClassificationConfigError) -> ClassificationTable {
        var table = ClassificationTable()
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let entry = entry(line) else {
                throw .malformedLine(file: file, line: lineNumber,
                                     reason: "expected 'config classification: name,description,priority'")
            }
            table.entries[entry.name] = entry
        }
        return table
    }

    /// Reads and parses a classification.config file.
    public static func load(path: String) throws(ClassificationConfigError) -> ClassificationTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(file: path, reason: "no such file or not readable")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    private static func entry(_ line: String) -> Classification? {
        guard line.hasPrefix("config") else { return nil }
        let afterConfig = line.dropFirst("config".count).drop(while: { $0 == " " || $0 == "\t" })
        guard afterConfig.hasPrefix("classification") else { return nil }
        let afterName = afterConfig.dropFirst("classification".count).drop(while: { $0 == " " || $0 == "\t" })
        guard afterName.first == ":" else { return nil }
        let body = afterName.dropFirst()
        guard let firstComma = body.firstIndex(of: ","), let lastComma = body.lastIndex(of: ","),
              firstComma < lastComma
        else { return nil }
        let name = body[..<firstComma].trimmingCharacters(in: .whitespaces)
        let description = body[body.index(after: firstComma)..<lastComma].trimmingCharacters(in: .whitespaces)
        let priorityText = body[body.index(after: lastComma)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.utf8.allSatisfy(RuleLexer.isKeywordByte), !name.contains("."),
              let priority = Int(priorityText), priority > 0
        else { return nil }
        return Classification(name: name, description: description, priority: priority)
    }

    /// Suricata's etc/classification.config, so rules without the file (Snort 3,
    /// ET used alone) still get priorities.
    public static let `default` = ClassificationTable([
        ("not-suspicious", "Not Suspicious Traffic", 3),
        ("unknown", "Unknown Traffic", 3),
        ("bad-unknown", "Potentially Bad Traffic", 2),
        ("attempted-recon", "Attempted Information Leak", 2),
        ("successful-recon-limited", "Information Leak", 2),
        ("successful-recon-largescale", "Large Scale Information Leak", 2),
        ("attempted-dos", "Attempted Denial of Service", 2),
        ("successful-dos", "Denial of Service", 2),
        ("attempted-user", "Attempted User Privilege Gain", 1),
        ("unsuccessful-user", "Unsuccessful User Privilege Gain", 1),
        ("successful-user", "Successful User Privilege Gain", 1),
        ("attempted-admin", "Attempted Administrator Privilege Gain", 1),
        ("successful-admin", "Successful Administrator Privilege Gain", 1),
        ("rpc-portmap-decode", "Decode of an RPC Query", 2),
        ("shellcode-detect", "Executable code was detected", 1),
        ("string-detect", "A suspicious string was detected", 3),
        ("suspicious-filename-detect", "A suspicious filename was detected", 2),
        ("suspicious-login", "An attempted login using a suspicious username was detected", 2),
        ("system-call-detect", "A system call was detected", 2),
        ("tcp-connection", "A TCP connection was detected", 4),
        ("trojan-activity", "A Network Trojan was detected", 1),
        ("unusual-client-port-connection", "A client was using an unusual port", 2),
        ("network-scan", "Detection of a Network Scan", 3),
        ("denial-of-service", "Detection of a Denial of Service Attack", 2),
        ("non-standard-protocol", "Detection of a non-standard protocol or event", 2),
        ("protocol-command-decode", "Generic Protocol Command Decode", 3),
        ("web-application-activity", "access to a potentially vulnerable web application", 2),
        ("web-application-attack", "Web Application Attack", 1),
        ("misc-activity", "Misc activity", 3),
        ("misc-attack", "Misc Attack", 2),
        ("icmp-event", "Generic ICMP event", 3),
        ("inappropriate-content", "Inappropriate Content was Detected", 1),
        ("policy-violation", "Potential Corporate Privacy Violation", 1),
        ("default-login-attempt", "Attempt to login by a default username and password", 2),
        ("targeted-activity", "Targeted Malicious Activity was Detected", 1),
        ("exploit-kit", "Exploit Kit Activity Detected", 1),
        ("external-ip-check", "Device Retrieving External IP Address Detected", 2),
        ("domain-c2", "Domain Observed Used for C2 Detected", 1),
        ("pup-activity", "Possibly Unwanted Program Detected", 2),
        ("credential-theft", "Successful Credential Theft Detected", 1),
        ("social-engineering", "Possible Social Engineering Attempted", 2),
        ("coin-mining", "Crypto Currency Mining Activity Detected", 2),
        ("command-and-control", "Malware Command and Control Activity Detected", 1),
    ].map { Classification(name: $0.0, description: $0.1, priority: $0.2) })
}
